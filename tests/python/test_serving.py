"""The serving snapshots: self-contained files with the dbt docs, retention that never removes
what a reader may use, long-lived readers and readers hammering during republish.

New runs are made cheaply from the session's real demo build: a copy of the build file with one
more segmentation_runs row (a new run id, started later), which is what publish reads the run id
from. Every publish is the real one, on real DuckDB files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_segmentation.publish import (
    RUN_ID_COLUMN,
    SERVING_FILE,
    STAMP_FORMAT,
    PublishError,
    grain_table,
    prune_snapshots,
    publish,
    published_marts,
)

READER = Path(__file__).with_name("bi_reader.py")


def _stamp(when: datetime) -> str:
    return when.strftime(STAMP_FORMAT)


# --- retention (no dbt) ----------------------------------------------------------------------


def _fake_snapshots(
    runs: Path, ages_hours: list[float], now: datetime, run_ids: int = 2
) -> list[Path]:
    folders = []
    for index, age in enumerate(ages_hours):
        folder = runs / f"run{index % run_ids}" / _stamp(now - timedelta(hours=age))
        folder.mkdir(parents=True)
        (folder / SERVING_FILE).write_bytes(b"x")
        folders.append(folder)
    return folders


def test_prune_keeps_newest_count_and_recently_replaced(tmp_path):
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    # Published 100, 50, 30, 10, 2 and 1 hours ago: replaced 50, 30, 10, 2, 1 hours ago.
    folders = _fake_snapshots(tmp_path, [100, 50, 30, 10, 2, 1], now)
    deleted = prune_snapshots(tmp_path, keep=2, keep_hours=24, now=now)
    # The oldest two were replaced more than 24 h ago; the 30 h one was replaced 10 h ago.
    assert deleted == folders[:2]
    assert [f.exists() for f in folders] == [False, False, True, True, True, True]


def test_prune_never_removes_live_or_just_replaced(tmp_path):
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    folders = _fake_snapshots(tmp_path, [300, 200, 100], now)
    deleted = prune_snapshots(tmp_path, keep=0, keep_hours=0, now=now)
    assert deleted == folders[:1]
    assert folders[1].exists() and folders[2].exists()


def test_prune_ignores_foreign_folders_and_removes_empty_runs(tmp_path):
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    foreign = tmp_path / "notes" / "not-a-stamp"
    foreign.mkdir(parents=True)
    folders = _fake_snapshots(tmp_path, [300, 200, 100, 50], now, run_ids=4)
    assert prune_snapshots(tmp_path, keep=2, keep_hours=1, now=now) == folders[:2]
    assert foreign.exists()
    assert not folders[0].parent.exists() and not folders[1].parent.exists()
    assert folders[2].exists() and folders[3].exists()


# --- one publish ---------------------------------------------------------------------------


def _new_run(demo_build, tmp_path: Path, run_id: str, hours_later: int) -> Path:
    """A copy of the demo build whose latest run is ``run_id`` (dbt's target/ beside it)."""
    folder = tmp_path / f"build-{run_id}"
    folder.mkdir()
    database = folder / "build.duckdb"
    shutil.copyfile(demo_build.database, database)
    shutil.copytree(demo_build.database.parent / "target", folder / "target")
    with duckdb.connect(str(database)) as con:
        con.execute(
            "insert into marts.segmentation_runs select * replace (? as run_id, "
            "run_started_at + to_hours(?) as run_started_at) from marts.segmentation_runs "
            "order by run_started_at desc limit 1",
            [run_id, hours_later],
        )
    return database


@pytest.fixture
def published(demo_build, tmp_path):
    return publish(demo_build.database, tmp_path / "serving")


def _manifest(demo_build) -> Path:
    return demo_build.database.parent / "target" / "manifest.json"


@pytest.mark.e2e
def test_published_list_comes_from_the_marts_yml(demo_build, published):
    marts = published_marts(_manifest(demo_build))
    assert "customer_segments" in marts and "segment_profiles" in marts
    assert not any(m.startswith(("stg_", "int_", "ml_")) for m in marts)
    # Disabled on customer input: not in the manifest's nodes, so not published.
    assert "rejected_transaction_rows" not in marts
    grains = {t for t in published.rows if t.startswith("customer_value_")} - set(marts)
    assert sorted(set(published.rows) - grains) == marts
    with duckdb.connect(str(published.serving_file), read_only=True) as con:
        tables = con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchall()
    assert sorted(t for t, _ in tables) == sorted(published.rows)
    assert views == [(0,)], "the serving file holds tables only, no views over paths"


@pytest.mark.e2e
def test_serving_file_carries_the_dbt_docs(demo_build, published):
    query = """
        select table_name, column_name, comment from duckdb_columns()
        where schema_name = 'marts' order by all
    """
    with duckdb.connect(str(demo_build.database), read_only=True) as build:
        documented = {(t, c): text for t, c, text in build.execute(query).fetchall() if text}
        table_docs = dict(
            build.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        )
    with duckdb.connect(str(published.serving_file), read_only=True) as con:
        served = {(t, c): text for t, c, text in con.execute(query).fetchall()}
        served_tables = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        )
    assert len(documented) > 150
    for (table, column), text in documented.items():
        if table in published.rows:
            assert served[(table, column)] == text
    for table in published.rows:
        assert served_tables[table], table
        assert table not in table_docs or served_tables[table] == table_docs[table]
        assert served[(table, RUN_ID_COLUMN)]


@pytest.mark.e2e
def test_one_table_per_grain_adds_up_without_double_counting(published):
    with duckdb.connect(str(published.serving_file), read_only=True) as con:
        levels = [
            row[0]
            for row in con.execute(
                "select distinct grouping_level from marts.customer_value_summary order by 1"
            ).fetchall()
        ]
        customers = published.rows["customer_segments"]
        stacked = con.execute("select sum(count_customers) from marts.customer_value_summary")
        assert stacked.fetchall()[0][0] == customers * len(levels)  # why it is not for BI
        assert len(levels) >= 4
        for level in levels:
            table = grain_table(level)
            columns = [r[0] for r in con.execute(f"describe marts.{table}").fetchall()]
            assert "grouping_level" not in columns
            keys = [
                c for c in columns if c.endswith(("_code", "_name", "_id")) and c != RUN_ID_COLUMN
            ]
            assert bool(keys) == (level != "overall"), (level, keys)
            key = ", ".join(keys or ["1"])
            total, rows, groups = con.execute(
                f"select sum(count_customers), count(*), count(distinct ({key})) from marts.{table}"
            ).fetchall()[0]
            assert total == customers, level
            assert rows == groups == published.rows[table], level
            same = con.execute(
                f"select count(*) from marts.{table} t join marts.customer_value_summary s "
                f"on s.grouping_level = ? and s.count_customers = t.count_customers "
                + "".join(f"and s.{k} = t.{k} " for k in keys),
                [level],
            ).fetchall()[0][0]
            assert same == rows, level


@pytest.mark.e2e
def test_a_moved_snapshot_still_reads(published, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.copytree(published.serving_file.parent, moved)
    shutil.rmtree(published.serving_file.parent)
    info = json.loads(next(moved.glob("runs/*/*/snapshot.json")).read_text())
    snapshot = next(moved.glob("runs/*/*"))
    with duckdb.connect(str(moved / SERVING_FILE), read_only=True) as con:
        assert con.execute("select count(*) from marts.customer_segments").fetchall() == [
            (published.rows["customer_segments"],)
        ]
    with duckdb.connect() as con:
        for table, entry in info["tables"].items():
            path = str(snapshot / entry["parquet"])
            count = con.execute("select count(*) from read_parquet(?)", [path]).fetchall()[0][0]
            assert count == entry["rows"] == published.rows[table], table
    assert info["run_id"] == published.run_id


def test_publish_refuses_without_a_manifest(tmp_path):
    database = tmp_path / "build.duckdb"
    duckdb.connect(str(database)).close()
    with pytest.raises(PublishError, match="no dbt manifest"):
        publish(database, tmp_path / "serving", manifest=tmp_path / "nope.json")


# --- readers across publishes ---------------------------------------------------------------


def _run_ids(con) -> set[str]:
    ids = set()
    for table in published_tables(con):
        ids |= {
            row[0]
            for row in con.execute(
                f'select distinct {RUN_ID_COLUMN} from marts."{table}" '
                f"where {RUN_ID_COLUMN} is not null"
            ).fetchall()
        }
    return ids


def published_tables(con) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
    ]


def _counts(con) -> dict[str, int]:
    return {
        table: con.execute(f'select count(*) from marts."{table}"').fetchall()[0][0]
        for table in published_tables(con)
    }


@pytest.mark.e2e
def test_a_long_lived_reader_keeps_one_complete_snapshot(demo_build, tmp_path):
    serving = tmp_path / "serving"
    first = publish(demo_build.database, serving, keep=2, keep_hours=0)
    reader = duckdb.connect(str(first.serving_file), read_only=True)
    errors, checks = 0, 0
    try:
        before = _counts(reader)
        later = []
        for n in range(1, 7):
            database = _new_run(demo_build, tmp_path, f"run-{n}", hours_later=n)
            later.append(publish(database, serving, keep=2, keep_hours=0))
            try:
                assert _run_ids(reader) == {first.run_id}
                assert _counts(reader) == before
                checks += 1
            except duckdb.Error:
                errors += 1
    finally:
        reader.close()
    assert (errors, checks) == (0, 6)
    # Its snapshot folder is gone (keep=2, keep_hours=0): the open connection still read it.
    assert not first.snapshot.exists()
    assert len(list(serving.glob("runs/*/*"))) == 2
    with duckdb.connect(str(first.serving_file), read_only=True) as fresh:
        assert _run_ids(fresh) == {later[-1].run_id}
        assert _counts(fresh)["segmentation_runs"] == before["segmentation_runs"] + 1


def _start_readers(serving_file: Path, tmp_path: Path, count: int):
    stop = tmp_path / "stop"
    logs = [tmp_path / f"reader{i}.jsonl" for i in range(count)]
    procs = [
        subprocess.Popen([sys.executable, str(READER), str(serving_file), str(stop), str(log)])
        for log in logs
    ]
    return stop, logs, procs


def _polls(logs: list[Path]) -> list[dict]:
    return [json.loads(line) for log in logs for line in log.read_text().splitlines()]


@pytest.mark.e2e
def test_new_connections_during_republish_never_fail_or_mix(demo_build, tmp_path):
    serving = tmp_path / "serving"
    other = _new_run(demo_build, tmp_path, "run-other", hours_later=1)
    first = publish(demo_build.database, serving, keep=2, keep_hours=0)
    stop, logs, procs = _start_readers(first.serving_file, tmp_path, count=2)
    try:
        time.sleep(1.0)
        # The same run id republished again and again, and a switch to another run and back.
        for database in [demo_build.database] * 5 + [other, demo_build.database] * 2:
            publish(database, serving, keep=2, keep_hours=0)
        time.sleep(0.5)
    finally:
        stop.touch()
        for proc in procs:
            proc.wait(timeout=60)
    polls = _polls(logs)
    errors = [p["error"] for p in polls if "error" in p]
    assert errors == [], errors[:3]
    assert len(polls) > 20
    seen = set()
    for poll in polls:
        ids = {i for values in poll["run_ids"].values() for i in values}
        assert len(ids) == 1, f"a poll saw several runs: {ids}"
        # Tables that may be empty: no rejected rows, no transitions on a database's first run.
        may_be_empty = ("rejected_customer_rows", "segment_transitions")
        assert all(len(v) == 1 for t, v in poll["run_ids"].items() if t not in may_be_empty)
        assert set(poll["run_ids"]) == set(first.rows)
        assert poll["customers"] == first.rows["customer_segments"]
        seen |= ids
    assert first.run_id in seen
