"""Publish the marts for readers, so BI tools never touch the file dbt writes.

DuckDB lets one process write a database file; a BI tool holding the build file would block
``dbt build``, and a reader opening it mid-build would fail. After a successful build,
:func:`publish` copies every published mart (``meta: {publish: true}`` in the marts yml, read
from dbt's ``target/manifest.json``) into a fresh, self-contained DuckDB file and exports the
same tables to Parquet, in a new snapshot folder that is never rewritten:

    serving/
      customer_segmentation.duckdb          <- readers connect here (read-only): tables marts.*
      runs/<run_id>/<publish_stamp>/
        customer_segmentation.duckdb        <- the snapshot (the entry point is a link to it)
        <mart>.parquet                      <- the same tables for other tools
        snapshot.json                       <- run id, stamp, tables, rows, relative file names

The snapshot file is written in DuckDB storage version :data:`STORAGE_VERSION`, so engines
from DuckDB 1.0 on read it (tested down to :data:`OLDEST_TESTED_READER`), and carries the dbt
descriptions as table and column comments. Nothing in it points to a path: the folder can be
copied or mounted anywhere. The stacked ``customer_value_summary`` (one row per group of seven
grouping levels: adding all its rows counts every customer seven times) is also split into one
table per level, ``customer_value_by_<level>``, whose rows add up.

The entry point is replaced by an atomic rename of a complete file. A connection opened before
the swap keeps the file it opened (on POSIX its inode: even after the snapshot is pruned) and
sees that one complete run until it reconnects; a connection opened after sees the new one.
Republishing a run id writes a new snapshot folder: nothing a reader may use is removed.
Retention (:func:`prune_snapshots`): the newest ``keep`` snapshots (at least 2: the live one and
the one it just replaced) and every snapshot replaced less than ``keep_hours`` ago are kept.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from customer_segmentation.warehouse import quoted_identifier

SERVING_FILE = "customer_segmentation.duckdb"
#: DuckDB storage format of the serving file: "v1.0.0" is read by every DuckDB >= 1.0.
STORAGE_VERSION = "v1.0.0"
#: The oldest DuckDB a test opens the serving file with (tests/python/test_serving_engines.py).
OLDEST_TESTED_READER = "1.1.3"
SNAPSHOT_INFO = "snapshot.json"
STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
RUN_ID_COLUMN = "published_run_id"
RUN_ID_COMMENT = "Run id (segmentation_runs.run_id) of the build this snapshot was published from."
#: The stacked summary (grouping sets) and the column naming its grain. The serving file also
#: gets one table per grain, ``customer_value_by_<level>`` (``customer_value_overall``), whose
#: rows can be added up safely.
STACKED_SUMMARY = "customer_value_summary"
GRAIN_COLUMN = "grouping_level"
_LEVEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class PublishError(RuntimeError):
    """The build database cannot be published; the message says why."""


@dataclass(frozen=True)
class PublishResult:
    """What one :func:`publish` wrote. Sizes in bytes, time in seconds."""

    run_id: str
    stamp: str
    serving_file: Path
    snapshot: Path
    rows: dict[str, int]
    serving_bytes: int
    parquet_bytes: int
    seconds: float
    pruned: list[Path] = field(default_factory=list)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def published_marts(manifest_path: str | Path) -> list[str]:
    """Names of the enabled models marked ``meta: {publish: true}`` in a dbt manifest, sorted.

    This is the one list of what is published: the marts yml decides, publish, the reader tests
    and the report read it from here.
    """
    manifest_path = Path(manifest_path)
    if not manifest_path.exists():
        raise PublishError(f"{manifest_path}: no dbt manifest; run dbt build (or dbt parse)")
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    names = {
        node["name"]
        for node in nodes
        if node.get("resource_type") == "model"
        and (node.get("config", {}).get("meta", {}).get("publish") or node["meta"].get("publish"))
    }
    if not names:
        raise PublishError(f"{manifest_path}: no model has meta publish: true")
    return sorted(names)


def _default_manifest(database: Path) -> Path:
    beside = database.parent / "target" / "manifest.json"
    return beside if beside.exists() else Path("target") / "manifest.json"


def _new_stamp(run_folder: Path) -> str:
    stamp = datetime.now(UTC).strftime(STAMP_FORMAT)
    while (run_folder / stamp).exists():  # two publishes in one microsecond
        time.sleep(1e-6)
        stamp = datetime.now(UTC).strftime(STAMP_FORMAT)
    return stamp


def _comments(con: duckdb.DuckDBPyConnection, marts: list[str]) -> tuple[dict, dict]:
    """dbt's persisted docs in the build file: {table: comment}, {(table, column): comment}."""
    names = ", ".join(_sql_string(m) for m in marts)
    tables = con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'build' "
        f"and schema_name = 'marts' and table_name in ({names}) and comment is not null"
    ).fetchall()
    columns = con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = 'build' and schema_name = 'marts' "
        f"and table_name in ({names}) and comment is not null"
    ).fetchall()
    return dict(tables), {(t, c): comment for t, c, comment in columns}


def _write_snapshot(
    build_file: Path, folder: Path, marts: list[str], parquet: bool
) -> tuple[str, dict[str, int]]:
    """Copy ``marts`` of ``build_file`` into ``folder`` (DuckDB file + Parquet); (run_id, rows)."""
    target = folder / SERVING_FILE
    with duckdb.connect() as con:
        con.execute(f"attach {_sql_string(str(build_file))} as build (read_only)")
        _check_marts(con, build_file, marts)
        run_id = con.execute(
            "select run_id from build.marts.segmentation_runs "
            "order by run_started_at desc, run_id desc limit 1"
        ).fetchall()[0][0]
        table_comments, column_comments = _comments(con, marts)
        con.execute(
            f"attach {_sql_string(str(target))} as serving "
            f"(storage_version {_sql_string(STORAGE_VERSION)})"
        )
        con.execute("begin transaction")  # one commit for every table and comment
        con.execute("create schema serving.marts")
        rows = {}
        for mart in marts:
            name = f"serving.marts.{quoted_identifier(mart)}"
            con.execute(
                f"create table {name} as select *, {_sql_string(run_id)} as {RUN_ID_COLUMN} "
                f"from build.marts.{quoted_identifier(mart)}"
            )
            documented = {c: text for (t, c), text in column_comments.items() if t == mart}
            documented[RUN_ID_COLUMN] = RUN_ID_COMMENT
            parquet_file = folder / f"{mart}.parquet" if parquet else None
            rows[mart] = _finish_table(
                con, name, table_comments.get(mart), sorted(documented.items()), parquet_file
            )
        if STACKED_SUMMARY in marts:
            rows |= _split_by_grain(con, f"serving.marts.{STACKED_SUMMARY}", folder, parquet)
        con.execute("commit")
        con.execute("detach serving")
    return run_id, rows


def _check_marts(con: duckdb.DuckDBPyConnection, build_file: Path, marts: list[str]) -> None:
    """PublishError unless every mart is a table of the attached ``build`` database."""
    present = {
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = 'build' and schema_name = 'marts'"
        ).fetchall()
    }
    missing = [mart for mart in marts if mart not in present]
    if missing:
        raise PublishError(f"{build_file}: marts missing ({', '.join(missing)}); run dbt build")


def _finish_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table_comment: str | None,
    column_comments: list[tuple[str, str]],
    parquet_file: Path | None,
) -> int:
    """Comment the new serving table ``name`` and its columns, write its Parquet copy when
    ``parquet_file`` is given; returns its row count."""
    rows = con.execute(f"select count(*) from {name}").fetchall()[0][0]
    if table_comment is not None:
        con.execute(f"comment on table {name} is {_sql_string(table_comment)}")
    for column, text in column_comments:
        con.execute(f"comment on column {name}.{quoted_identifier(column)} is {_sql_string(text)}")
    if parquet_file is not None:
        out = _sql_string(str(parquet_file))
        con.execute(f"copy {name} to {out} (format parquet, compression zstd)")
    return rows


def grain_table(level: str) -> str:
    """Serving table of one grouping level of the stacked summary."""
    return "customer_value_overall" if level == "overall" else f"customer_value_by_{level}"


def _grain_dimensions(con: duckdb.DuckDBPyConnection, stacked: str) -> tuple[list, list]:
    """(all columns, dimension columns) of the stacked summary: dimensions are null overall."""
    columns = [row[0] for row in con.execute(f"describe {stacked}").fetchall()]
    overall = con.execute(f"select * from {stacked} where {GRAIN_COLUMN} = 'overall'").fetchall()
    if not overall:
        raise PublishError(f"{stacked}: no 'overall' row to tell dimensions from measures")
    dimensions = [
        c for i, c in enumerate(columns) if c != GRAIN_COLUMN and all(r[i] is None for r in overall)
    ]
    return columns, dimensions


def _split_by_grain(
    con: duckdb.DuckDBPyConnection, stacked: str, folder: Path, parquet: bool
) -> dict[str, int]:
    """One table per ``grouping_level`` of ``stacked``, without the columns outside its grain.

    The grain's columns are the dimension columns (null on the overall row) that are filled at
    that level; every row of such a table is one group, so sums over it do not double count.
    Returns {table: rows}.
    """
    columns, dimensions = _grain_dimensions(con, stacked)
    comments = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() where database_name = 'serving' "
            "and schema_name = 'marts' and table_name = ? and comment is not null",
            [stacked.rsplit(".", 1)[-1]],
        ).fetchall()
    )
    levels = [
        r[0] for r in con.execute(f"select distinct {GRAIN_COLUMN} from {stacked}").fetchall()
    ]
    rows = {}
    for level in sorted(levels):
        if not isinstance(level, str) or not _LEVEL_NAME.match(level):
            raise PublishError(f"{stacked}: grouping level {level!r} is not a table name")
        kept, grain = _level_columns(con, stacked, level, columns, dimensions)
        table = grain_table(level)
        name = f"serving.marts.{quoted_identifier(table)}"
        con.execute(
            f"create table {name} as select {', '.join(quoted_identifier(c) for c in kept)} "
            f"from {stacked} where {GRAIN_COLUMN} = ? order by all",
            [level],
        )
        one_row = "all customers, one row" if not grain else "one row per " + ", ".join(grain)
        description = (
            f"{STACKED_SUMMARY} at grouping level {level!r}: {one_row}. "
            "Each customer is in exactly one row, so sums over rows are safe."
        )
        documented = [(c, comments[c]) for c in kept if c in comments]
        parquet_file = folder / f"{table}.parquet" if parquet else None
        rows[table] = _finish_table(con, name, description, documented, parquet_file)
    return rows


def _level_columns(
    con: duckdb.DuckDBPyConnection,
    stacked: str,
    level: str,
    columns: list[str],
    dimensions: list[str],
) -> tuple[list[str], list[str]]:
    """(columns kept, grain columns) of one grouping level: dimensions never filled at that
    level are dropped."""
    filled = con.execute(
        "select "
        + ", ".join(f"count({quoted_identifier(c)})" for c in dimensions or ["1"])
        + f" from {stacked} where {GRAIN_COLUMN} = ?",
        [level],
    ).fetchall()[0]
    dropped = {c for c, n in zip(dimensions, filled, strict=False) if n == 0}
    kept = [c for c in columns if c != GRAIN_COLUMN and c not in dropped]
    return kept, [c for c in dimensions if c not in dropped]


def _write_info(path: Path, run_id: str, stamp: str, rows: dict[str, int], parquet: bool) -> None:
    """snapshot.json: run id, stamp, and per table its rows and Parquet file (relative)."""
    tables = {
        table: {"rows": count, "parquet": f"{table}.parquet"} if parquet else {"rows": count}
        for table, count in rows.items()
    }
    info = {
        "run_id": run_id,
        "publish_stamp": stamp,
        "storage_version": STORAGE_VERSION,
        "database": SERVING_FILE,
        "tables": tables,
    }
    path.write_text(json.dumps(info, indent=2) + "\n")


def _swap_in(snapshot_file: Path, entry: Path) -> None:
    """Replace ``entry`` by ``snapshot_file`` atomically (a hard link, else a full copy)."""
    temporary = entry.with_name(f".{entry.name}.{snapshot_file.parent.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        os.link(snapshot_file, temporary)
    except OSError:  # no hard links on this file system: a complete copy, then the rename
        shutil.copyfile(snapshot_file, temporary)
    os.replace(temporary, entry)


def publish(
    database: str | Path,
    serving_dir: str | Path = "serving",
    keep: int = 3,
    keep_hours: float = 24.0,
    manifest: str | Path | None = None,
    parquet: bool = True,
) -> PublishResult:
    """Publish the marts of ``database`` as a new snapshot and make it the live serving file.

    Parameters
    ----------
    database : the DuckDB file ``dbt build`` wrote.
    serving_dir : where the entry point and ``runs/`` live.
    keep : snapshots always kept, newest first (at least 2: live and just replaced).
    keep_hours : a snapshot replaced less than this many hours ago is also kept.
    manifest : dbt's manifest.json naming the published marts; default ``target/`` beside the
        database, else ``./target``.
    parquet : also export each table to Parquet in the snapshot folder.
    """
    started = time.perf_counter()
    database, serving_dir = Path(database), Path(serving_dir).resolve()
    if not database.exists():
        raise PublishError(f"{database}: no such database; run dbt build first")
    marts = published_marts(manifest or _default_manifest(database))
    runs = serving_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    staging = runs / f".{datetime.now(UTC).strftime(STAMP_FORMAT)}.{os.getpid()}.partial"
    staging.mkdir()
    try:
        run_id, rows = _write_snapshot(database, staging, marts, parquet)
        stamp = _new_stamp(runs / run_id)
        _write_info(staging / SNAPSHOT_INFO, run_id, stamp, rows, parquet)
        snapshot = runs / run_id / stamp
        snapshot.parent.mkdir(exist_ok=True)
        os.replace(staging, snapshot)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    serving_file = serving_dir / SERVING_FILE
    _swap_in(snapshot / SERVING_FILE, serving_file)
    pruned = prune_snapshots(runs, keep, keep_hours)
    serving_bytes = (snapshot / SERVING_FILE).stat().st_size
    parquet_bytes = sum(f.stat().st_size for f in snapshot.glob("*.parquet"))
    return PublishResult(
        run_id,
        stamp,
        serving_file,
        snapshot,
        rows,
        serving_bytes,
        parquet_bytes,
        time.perf_counter() - started,
        pruned,
    )


def _snapshots(runs: Path) -> list[tuple[datetime, Path]]:
    """Every complete snapshot folder under ``runs``, oldest first, with its publish time."""
    found = []
    for folder in runs.glob("*/*"):
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                when = datetime.strptime(folder.name, STAMP_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                continue  # not ours
            found.append((when, folder))
    return sorted(found, key=lambda item: (item[0], item[1].name))


def prune_snapshots(
    runs: str | Path, keep: int = 3, keep_hours: float = 24.0, now: datetime | None = None
) -> list[Path]:
    """Delete old snapshot folders; return the deleted ones.

    Kept: the newest ``max(keep, 2)`` snapshots (the live one and the one it replaced at least),
    and every snapshot that was replaced (a newer one published) less than ``keep_hours`` ago.
    Everything else goes, and run folders left empty with it. Unfinished ``.partial`` folders
    older than ``keep_hours`` (a publish that crashed) go too.
    """
    runs = Path(runs)
    now = now or datetime.now(UTC)
    horizon = now - timedelta(hours=keep_hours)
    snapshots = _snapshots(runs)
    deleted = []
    protected = max(keep, 2)
    for index, (_, folder) in enumerate(snapshots[: max(len(snapshots) - protected, 0)]):
        replaced_at = snapshots[index + 1][0]
        if replaced_at < horizon:
            shutil.rmtree(folder, ignore_errors=True)
            deleted.append(folder)
    for run_folder in runs.iterdir():
        if (
            run_folder.is_dir()
            and not run_folder.name.startswith(".")
            and not any(run_folder.iterdir())
        ):
            run_folder.rmdir()
    for partial in runs.glob(".*.partial"):
        if datetime.fromtimestamp(partial.stat().st_mtime, UTC) < horizon:
            shutil.rmtree(partial, ignore_errors=True)
    return deleted
