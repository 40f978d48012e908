"""Publish the marts for readers, so BI tools never touch the file dbt writes.

DuckDB lets one process write a database file; a BI tool holding the build file would block
``dbt build``, and a reader opening it mid-build would fail. After a successful build,
:func:`publish` copies every mart to Parquet in a new run folder and writes a small serving
DuckDB file of views over those files, then swaps it into place with an atomic rename:

    serving/
      customer_segmentation.duckdb      <- readers connect here (read-only); views marts.*
      runs/<run_id>/<mart>.parquet      <- one folder per published run; the newest `keep` kept

A reader that opened the serving file before the swap keeps the old file (and its run folder)
for as long as its connection lives; a reader that opens it afterwards sees the new run. Every
published table carries ``published_run_id``, so a reader can check it sees one run.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

MARTS = (
    "customer_segments",
    "segment_profiles",
    "segment_centroids",
    "segment_k_diagnostics",
    "segment_dendrogram",
    "customer_value_summary",
    "rejected_customer_rows",
    "scored_customers",
    "segmentation_runs",
    "segment_id_history",
    "feature_definitions",
    "category_effect_tests",
    "category_association_tests",
    "category_association_cells",
)
#: Transaction input (preset rfm) quarantines purchases, not customers: this mart stands in for
#: rejected_customer_rows there.
REJECTED_ROWS = {"rejected_customer_rows": "rejected_transaction_rows"}


def marts_to_publish(present: set[str]) -> list[str]:
    """:data:`MARTS`, with the rejected-rows mart of the build's input kind."""
    return [
        REJECTED_ROWS[mart] if mart in REJECTED_ROWS and REJECTED_ROWS[mart] in present else mart
        for mart in MARTS
    ]


SERVING_FILE = "customer_segmentation.duckdb"


class PublishError(RuntimeError):
    """The build database cannot be published; the message says why."""


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    serving_file: Path
    run_folder: Path
    rows: dict[str, int]
    bytes_written: int
    seconds: float


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def publish(
    database: str | Path, serving_dir: str | Path = "serving", keep: int = 3
) -> PublishResult:
    """Export every mart of ``database`` to Parquet and atomically swap in a serving file.

    Parameters
    ----------
    database : the DuckDB file ``dbt build`` wrote.
    serving_dir : where the serving file and run folders live.
    keep : run folders to keep (the newest); readers older than ``keep`` publishes lose theirs.
    """
    started = time.perf_counter()
    database, serving_dir = Path(database), Path(serving_dir).resolve()
    if not database.exists():
        raise PublishError(f"{database}: no such database; run dbt build first")
    with duckdb.connect(str(database), read_only=True) as build:
        present = {
            row[0]
            for row in build.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        marts = marts_to_publish(present)
        missing = [mart for mart in marts if mart not in present]
        if missing:
            raise PublishError(f"{database}: marts missing ({', '.join(missing)}); run dbt build")
        run_id = build.execute(
            "select run_id from marts.segmentation_runs order by run_started_at desc limit 1"
        ).fetchall()[0][0]
        run_folder = serving_dir / "runs" / run_id
        staging = serving_dir / "runs" / f".{run_id}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        rows = {}
        for mart in marts:
            target = staging / f"{mart}.parquet"
            build.execute(
                f"copy (select *, {_sql_string(run_id)} as published_run_id from marts.{mart}) "
                f"to {_sql_string(str(target))} (format parquet, compression zstd)"
            )
            rows[mart] = build.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
    shutil.rmtree(run_folder, ignore_errors=True)
    os.replace(staging, run_folder)

    serving_file = serving_dir / SERVING_FILE
    temporary = serving_dir / f".{SERVING_FILE}.{run_id}.tmp"
    temporary.unlink(missing_ok=True)
    with duckdb.connect(str(temporary)) as serving:
        serving.execute("create schema marts")
        for mart in marts:
            path = _sql_string(str(run_folder / f"{mart}.parquet"))
            serving.execute(f"create view marts.{mart} as select * from read_parquet({path})")
        serving.execute("checkpoint")
    os.replace(temporary, serving_file)
    _prune(serving_dir / "runs", keep, current=run_folder)
    written = sum(f.stat().st_size for f in run_folder.iterdir()) + serving_file.stat().st_size
    return PublishResult(
        run_id, serving_file, run_folder, rows, written, time.perf_counter() - started
    )


def _prune(runs: Path, keep: int, current: Path) -> None:
    folders = sorted(
        (p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in folders[max(keep, 1) :]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
