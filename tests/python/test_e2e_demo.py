"""End to end on the demo seed: one real `dbt build`, then the tables are checked."""

import pytest
from conftest import assert_ok, build

pytestmark = pytest.mark.e2e

MARTS = [
    "customer_segments",
    "segment_profiles",
    "rejected_customer_rows",
    "customer_value_summary",
    "category_effect_tests",
]


def test_every_demo_row_is_segmented(demo_build):
    assert demo_build.scalar("select count(*) from staging.stg_customer_input") == 3834
    assert demo_build.scalar("select count(*) from marts.customer_segments") == 3834
    assert demo_build.scalar("select count(*) from marts.rejected_customer_rows") == 0


def test_eight_segments_with_profiles(demo_build):
    assert demo_build.scalar("select count(distinct segment_id) from marts.customer_segments") == 8
    rows = demo_build.query(
        "select segment_id, count_customers, share_of_customers from marts.segment_profiles"
    )
    assert sorted(r[0] for r in rows) == list(range(1, 9))
    assert sum(r[1] for r in rows) == 3834
    assert sum(r[2] for r in rows) == pytest.approx(1.0)


def test_segment_ids_follow_centroid_clv(demo_build):
    clv = demo_build.query(
        """
        select segment_id, centroid_original from ml.ml_kmeans_fit
        where feature_name = 'customer_lifetime_value' order by segment_id
        """
    )
    values = [row[1] for row in clv]
    assert values == sorted(values, reverse=True)


def test_dbt_tests_ran_and_passed(demo_build):
    assert "ERROR=0" in demo_build.output
    assert "assert_every_input_row_is_segmented_or_rejected" in demo_build.output
    assert "one_hot_row_sums" in demo_build.output


def test_summary_command_prints_every_segment(demo_build):
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "customer-segmentation"
    out = subprocess.run(
        [str(cli), "summary", "--database", str(demo_build.database)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "segment", "name"]
    assert len(lines) == 9
    assert "3,834" not in out  # per-segment counts, not the total


def test_two_builds_give_identical_tables(demo_build, tmp_path):
    again = assert_ok(build(tmp_path, "again"))
    with_ml = MARTS + ["ml.ml_kmeans_fit", "ml.ml_k_diagnostics", "ml.ml_ward_linkage"]
    for table in with_ml:
        name = table if "." in table else f"marts.{table}"
        first = demo_build.query(f"select * from {name} order by all")
        second = again.query(f"select * from {name} order by all")
        assert first == second, f"{name} differs between two builds"
