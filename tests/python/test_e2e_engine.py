"""The segmentation engine end to end: presets, stable ids, warm start, SQL scoring of a new
file, two-stage Ward and the k rules, each through real dbt builds."""

import csv

import pyarrow as pa
import pyarrow.csv as pv
import pytest
from conftest import FIXTURES, REPO, assert_ok, build, run_dbt

pytestmark = pytest.mark.e2e

DEMO = REPO / "seeds" / "demo_customers.csv"
#: For builds that test mechanics, not fit quality: the default restart budget (2,000 restarts
#: per k on the demo) is exercised by the demo, real-data and case-study builds.
FAST = {"n_init": 10}


def segments(run) -> dict[int, int]:
    return dict(run.query("select customer_id, segment_id from marts.customer_segments"))


def test_case_study_preset_follows_the_notebook(case_study_build):
    run = case_study_build
    features, k, random_state = run.query(
        "select feature_names, k, random_state from marts.segmentation_runs"
    )[0]
    assert features.split(", ") == [
        "minutes_watched",
        "customer_lifetime_value",
        "region_code",
        *[f"is_channel_{c}" for c in ("google", "facebook", "youtube", "linkedin")],
        *[f"is_channel_{c}" for c in ("twitter", "instagram", "friend", "other")],
        "is_region_anglosphere",
        "is_region_western_europe",
        "is_region_rest_of_world",
    ]
    assert (k, random_state) == (8, 42)
    wcss_k1 = run.scalar("select wcss from marts.segment_k_diagnostics where k = 1")
    assert abs(wcss_k1 - 14 * 3834) < 1e-6
    assert run.scalar("select count(distinct segment_id) from marts.customer_segments") == 8


def test_shuffled_input_gives_every_customer_the_same_segment(tmp_path):
    from demo.generate import generate_customers

    table = generate_customers(1500, seed=11, with_ids=True)
    ordered, shuffled = tmp_path / "ordered.csv", tmp_path / "shuffled.csv"
    pv.write_csv(table, ordered)
    permutation = pa.array(list(reversed(range(table.num_rows))))
    pv.write_csv(table.take(permutation), shuffled)
    first = assert_ok(build(tmp_path, "ordered", input_path=str(ordered), k_max=8, n_init=50))
    second = assert_ok(build(tmp_path, "shuffled", input_path=str(shuffled), k_max=8, n_init=50))
    assert segments(first) == segments(second)
    heights = "select height from marts.segment_dendrogram order by merge_step"
    assert first.query(heights) == second.query(heights)


def test_warm_start_from_a_centroid_file_reproduces_the_fit(demo_build, tmp_path):
    wide = demo_build.query(
        """
        pivot (select segment_id, feature_name, centroid_original from marts.segment_centroids)
        on feature_name using first(centroid_original) order by segment_id
        """
    )
    columns = [
        row[0]
        for row in demo_build.query(
            "select feature_name from ml.ml_feature_scaler order by feature_position"
        )
    ]
    names = demo_build.query(
        "select column_name from (describe pivot (select segment_id, feature_name, "
        "centroid_original from marts.segment_centroids) on feature_name "
        "using first(centroid_original))"
    )
    order = [n[0] for n in names]
    centroid_file = tmp_path / "centroids.csv"
    with centroid_file.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["segment_id", *columns])
        for row in wide:
            values = dict(zip(order, row, strict=True))
            writer.writerow([values["segment_id"], *(repr(values[c]) for c in columns)])

    warm = assert_ok(build(tmp_path, "warm", warm_start=str(centroid_file), **FAST))
    assert segments(warm) == segments(demo_build)
    init, n_init = warm.query("select init_method, n_init from marts.segmentation_runs")[0]
    assert init == f"warm_start '{centroid_file}'" and n_init == 1


def test_warm_start_file_problems_name_file_row_and_column(tmp_path):
    missing = tmp_path / "missing_column.csv"
    missing.write_text("segment_id,minutes_watched\n1,10\n")
    run = build(tmp_path, "warm_bad", warm_start=str(missing), **FAST)
    assert run.returncode != 0
    assert f"warm_start '{missing}': column 'customer_lifetime_value' is missing" in run.output
    # ml_warm_start checks the file before the k diagnostics spend their restarts.
    assert "ml.ml_k_diagnostics" not in run.tables()


def test_a_published_segment_centroids_table_is_a_warm_start_as_it_is(demo_build, tmp_path):
    published = tmp_path / "segment_centroids.csv"
    demo_build.query(f"copy (select * from marts.segment_centroids) to '{published}' (header)")
    warm = assert_ok(build(tmp_path, "warm_long", warm_start=str(published), **FAST))
    assert segments(warm) == segments(demo_build)
    init, n_init = warm.query("select init_method, n_init from marts.segmentation_runs")[0]
    assert init == f"warm_start '{published}'" and n_init == 1
    stored = warm.scalar("select count(*) from ml.ml_warm_start")
    assert stored == demo_build.scalar("select count(*) from marts.segment_centroids")


def test_rebuild_on_changed_data_keeps_segment_ids_and_names(tmp_path):
    database = tmp_path / "stable" / "stable.duckdb"
    database.parent.mkdir()
    assert_ok(run_dbt(database, "build", dbt_vars=FAST))
    first = run_dbt(database, "build", dbt_vars=FAST)  # unchanged data: matched to itself
    before = dict(first.query("select segment_id, segment_name from marts.segment_profiles"))

    lines = DEMO.read_text().splitlines()
    subset = tmp_path / "subset.csv"
    subset.write_text("\n".join(lines[:3401]) + "\n")  # header + 3,400 of 3,834 customers
    second = assert_ok(run_dbt(database, "build", dbt_vars={"input_path": str(subset), **FAST}))
    after = dict(second.query("select segment_id, segment_name from marts.segment_profiles"))
    assert after == before
    how = second.query(
        "select id_assignment from marts.segmentation_runs order by run_started_at desc limit 1"
    )[0][0]
    assert how.startswith("matched to the previous run")
    assert second.scalar("select count(*) from marts.segmentation_runs") == 3
    shifts = second.query(
        """
        select previous_segment_id = segment_id, centroid_shift_z from marts.segment_id_history
        where run_started_at = (select max(run_started_at) from marts.segment_id_history)
        """
    )
    assert len(shifts) == 8 and all(same for same, _ in shifts)
    assert max(shift for _, shift in shifts) < 0.5


def test_sql_scoring_of_a_new_csv_without_refitting(tmp_path):
    database = tmp_path / "score" / "score.duckdb"
    database.parent.mkdir()
    assert_ok(run_dbt(database, "build", dbt_vars=FAST))
    fitted = database.stat().st_mtime
    new_file = FIXTURES / "quarantine.csv"
    run = assert_ok(
        run_dbt(
            database,
            "build",
            "--select",
            "stg_scoring_input+",
            dbt_vars={"score_input_path": str(new_file)},
        )
    )
    assert fitted <= database.stat().st_mtime
    assert "ml_kmeans_fit" not in run.output  # no refit
    rows = run.query(
        "select count(*), count(segment_id), count(rejection_reason) from marts.scored_customers"
    )[0]
    assert rows == (36, 24, 12)
    # Scored rows get the margin's top features from SQL; rejected rows none.
    explained = run.query(
        "select count(top_feature_1), count(top_feature_3_contribution), "
        "count(*) filter (where top_feature_1_contribution < top_feature_2_contribution) "
        "from marts.scored_customers"
    )[0]
    assert explained == (24, 24, 0)
    assert run.scalar("select count(*) from marts.segmentation_runs") == 1
    k = run.scalar("select max(k) from marts.segment_k_diagnostics where is_chosen")
    assert run.scalar("select max(segment_id) from marts.scored_customers") <= k


def test_large_input_paths_with_small_thresholds(demo_build, tmp_path):
    """Two-stage Ward, sampled diagnostics, the sampled final fit and the sampled SQL scoring
    check, switched on by setting their thresholds below the demo's 3,834 rows."""
    run = assert_ok(
        build(
            tmp_path,
            "large_paths",
            ward_max_rows=1000,
            diagnostics_max_rows=2000,
            scoring_check_rows=500,
        )
    )
    method, leaves, customers = run.query(
        """
        select linkage_method, count_leaves, count_customers from marts.segment_dendrogram
        order by merge_step desc limit 1
        """
    )[0]
    assert method.startswith("two_stage")
    assert 8 <= leaves <= 1000
    assert customers == 3834
    assert run.scalar("select count(distinct ward_cluster) from marts.customer_segments") == 8
    assert (
        run.scalar("select max(diagnostics_sample_size) from marts.segment_k_diagnostics") == 2000
    )
    init, fit_rows, wcss = run.query(
        "select init_method, fit_sample_size, wcss from marts.segmentation_runs"
    )[0]
    assert fit_rows == 2000 and "2,000-row sample" in init and "then Lloyd on all rows" in init
    full_wcss = demo_build.scalar("select wcss from marts.segmentation_runs")
    assert wcss <= full_wcss * 1.01
    assert run.scalar("select count(*) from marts.customer_segments") == 3834
    # Every 8th input line (ceil(3,834 / 500)) is scored in SQL, and the dbt test compared
    # those with the Python assignment (it passed: the build is ok).
    lines = [r[0] for r in run.query("select source_row_number from marts.scored_customers")]
    assert len(lines) == 3834 // 8 and all(line % 8 == 0 for line in lines)
    assert "assert_sql_scoring_matches_python_assignment" in run.output
    same = run.scalar(
        """
        select count(*) from marts.scored_customers as scored
        inner join marts.customer_segments as fitted using (customer_id)
        where scored.segment_id = fitted.segment_id
        """
    )
    assert same == len(lines)


def test_silhouette_rule_chooses_the_best_silhouette(tmp_path):
    run = assert_ok(build(tmp_path, "rule", k_rule="silhouette", k_max=6, **FAST))
    best = run.scalar("select k from marts.segment_k_diagnostics order by silhouette desc limit 1")
    chosen = run.scalar("select k from marts.segment_k_diagnostics where is_chosen")
    assert chosen == best
    assert run.scalar("select count(distinct segment_id) from marts.customer_segments") == best
