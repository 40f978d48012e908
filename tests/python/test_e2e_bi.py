"""The analyst and BI surface: analyses run, docs generate, and published marts are read safely
while dbt rebuilds (clients: test_serving_clients.py; snapshots: test_serving.py)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, assert_ok, copy_build, run_dbt

from customer_segmentation.publish import publish, published_marts

pytestmark = pytest.mark.e2e

ANALYSES = sorted(p.stem for p in (REPO / "analysis").glob("*.sql"))


# dbt opens its database read-write and writes its target/: these tests run dbt on a copy of
# the demo build, which other workers read at the same time.


def test_every_analysis_compiles_and_runs(demo_build, tmp_path):
    assert len(ANALYSES) >= 5
    copy = copy_build(demo_build, tmp_path / "analyses")
    work = copy.database.parent
    assert_ok(run_dbt(copy.database, "compile", "--select", "path:analysis"))
    compiled = work / "target" / "compiled" / "customer_segmentation" / "analysis"
    with duckdb.connect(str(copy.database), read_only=True) as con:
        for name in ANALYSES:
            sql = (compiled / f"{name}.sql").read_text()
            rows = con.execute(sql).fetchall()
            assert rows, f"analysis {name} returned no rows"


def test_dbt_show_runs_an_analysis(demo_build, tmp_path):
    copy = copy_build(demo_build, tmp_path / "show")
    run = assert_ok(run_dbt(copy.database, "show", "--select", "marketing_allocation_by_channel"))
    assert "clv_per_customer" in run.output and "YouTube" in run.output


def test_docs_generate_with_lineage_and_persisted_comments(demo_build, tmp_path):
    copy = copy_build(demo_build, tmp_path / "docs")
    assert_ok(run_dbt(copy.database, "docs", "generate"))
    target = copy.database.parent / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    parents = manifest["parent_map"]

    def ancestors(node: str) -> set[str]:
        seen, stack = set(), [node]
        while stack:
            for parent in parents.get(stack.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    marts = [
        "customer_segments",
        "segment_profiles",
        "segment_centroids",
        "segment_k_diagnostics",
        "segment_dendrogram",
        "customer_value_summary",
    ]
    for mart in marts:
        node = f"model.customer_segmentation.{mart}"
        assert "seed.customer_segmentation.demo_customers" in ancestors(node), mart
        assert node in catalog["nodes"], mart
        documented = manifest["nodes"][node]["columns"]
        actual = catalog["nodes"][node]["columns"]
        assert set(actual) <= set(documented), (
            f"{mart}: undocumented {set(actual) - set(documented)}"
        )
        assert all(c["description"] for c in documented.values()), mart
    comments = demo_build.query(
        """
        select count(*), count(comment) from duckdb_columns()
        where schema_name = 'marts' and table_name = 'customer_segments'
        """
    )[0]
    assert comments[0] == comments[1] > 10


def _published(tmp_path: Path):
    database = tmp_path / "bi" / "build.duckdb"
    database.parent.mkdir()
    assert_ok(run_dbt(database, "build", dbt_vars={"n_init": 10}))
    return database, publish(database, tmp_path / "serving")


def test_readers_never_error_and_see_one_run_during_a_rebuild(tmp_path):
    database, first = _published(tmp_path)
    stop, log = tmp_path / "stop", tmp_path / "polls.jsonl"
    reader = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("bi_reader.py")),
            str(first.serving_file),
            str(stop),
            str(log),
        ],
    )
    try:
        time.sleep(1)
        # A real rebuild of the build file, with default restarts so it takes a while.
        assert_ok(run_dbt(database, "build"))
        second = publish(database, tmp_path / "serving")
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    polls = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [p["error"] for p in polls if "error" in p]
    assert not errors, errors[:3]
    assert len(polls) > 20
    seen = []
    marts = set(published_marts(database.parent / "target" / "manifest.json"))
    for poll in polls:
        ids = {run_id for values in poll["run_ids"].values() for run_id in values}
        assert len(ids) == 1, f"a poll saw several runs: {ids}"
        assert marts <= set(poll["run_ids"])  # plus the customer_value_by_<level> tables
        assert poll["customers"] == 3834
        seen.append(ids.pop())
    assert seen[0] == first.run_id and seen[-1] == second.run_id != first.run_id
    # The order is old ... old, new ... new: never back to the old run after the swap.
    switch = seen.index(second.run_id)
    assert set(seen[switch:]) == {second.run_id}


def test_publish_refuses_an_unbuilt_database(tmp_path):
    from customer_segmentation.publish import PublishError

    with pytest.raises(PublishError, match="no such database"):
        publish(tmp_path / "nothing.duckdb", tmp_path / "serving")
