"""The whole dbt project on local Spark (`--target spark`, Python models through the local
harness), compared with the same build on DuckDB.

The SQL layers (staging with quarantine, features, summaries, SQL scoring) are the same model
files on both engines; the fit is Spark MLlib on one and scikit-learn on the other, so rows
and standardisation must match exactly while segments need not (the demo data has no planted
truth; agreement on planted data is tested in test_engine_agreement.py).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from spark_support import (
    FIGURES,
    REPO,
    TIMINGS,
    VARS,
    duckdb_table,
    require_spark,
    run_in_repo,
    spark_table,
)

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_warehouse(tmp_path_factory) -> Path:
    """`dbt build --target spark` of the whole project on the demo seeds; its warehouse dir."""
    require_spark()
    scratch = tmp_path_factory.mktemp("dbt_spark")
    started = time.perf_counter()
    done = run_in_repo(
        [sys.executable, "-m", "customer_segmentation.spark.runner", "build"]
        + ["--vars", json.dumps(VARS)]
        + ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
        {
            "CUSTOMER_SEGMENTATION_SPARK_DIR": str(scratch),
            "DBT_PROFILES_DIR": str(REPO),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
    )
    TIMINGS["dbt build --target spark, whole project (JVM start included)"] = (
        time.perf_counter() - started
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "ERROR=0" in done.stdout and "PASS=" in done.stdout
    return scratch / "warehouse"


def _sorted(table: pa.Table, key: str) -> pa.Table:
    return table.sort_by(key)


def test_staging_rows_and_quarantine_are_identical(spark_warehouse, duckdb_database):
    columns = [
        "source_row_number", "customer_id", "minutes_watched", "minutes_was_missing",
        "customer_lifetime_value", "region_code", "channel_code", "rejection_reason",
    ]  # fmt: skip
    on_spark = _sorted(spark_table(spark_warehouse, "staging", "stg_customer_input"), "customer_id")
    on_duckdb = _sorted(
        duckdb_table(duckdb_database, "staging", "stg_customer_input"), "customer_id"
    )
    assert on_spark.num_rows == on_duckdb.num_rows == 3834
    for name in columns:
        left = on_spark[name].to_pylist()
        right = on_duckdb[name].to_pylist()
        assert left == right, name


def test_standardisation_is_the_same_on_both_engines(spark_warehouse, duckdb_database):
    on_spark = spark_table(spark_warehouse, "ml", "ml_feature_scaler").sort_by("feature_position")
    on_duckdb = duckdb_table(duckdb_database, "ml", "ml_feature_scaler").sort_by("feature_position")
    assert on_spark["feature_name"].to_pylist() == on_duckdb["feature_name"].to_pylist()
    for name in ("mean", "std"):
        np.testing.assert_allclose(on_spark[name].to_numpy(), on_duckdb[name].to_numpy(), rtol=1e-9)


def test_sql_scoring_on_spark_agrees_with_the_spark_fit(spark_warehouse):
    segments = spark_table(spark_warehouse, "marts", "customer_segments")
    scored = spark_table(spark_warehouse, "marts", "scored_customers")
    fitted = dict(
        zip(segments["customer_id"].to_pylist(), segments["segment_id"].to_pylist(), strict=True)
    )
    pairs = zip(scored["customer_id"].to_pylist(), scored["segment_id"].to_pylist(), strict=True)
    disagreements = sum(fitted[c] != s for c, s in pairs)
    FIGURES["Spark: SQL scoring vs Spark fit, customers disagreeing"] = disagreements
    assert scored.num_rows == segments.num_rows == 3834
    assert disagreements == 0


def test_marts_have_the_same_shape_on_both_engines(spark_warehouse, duckdb_database):
    tables = (
        "customer_segments",
        "segment_profiles",
        "customer_value_summary",
        "segment_centroids",
        "segment_k_diagnostics",
        "category_effect_tests",
    )
    for table in tables:
        on_spark = spark_table(spark_warehouse, "marts", table)
        on_duckdb = duckdb_table(duckdb_database, "marts", table)
        assert set(on_spark.column_names) == set(on_duckdb.column_names), table
        if table != "customer_value_summary":  # its segment rows depend on the fit
            assert on_spark.num_rows == on_duckdb.num_rows, table
    # Summary rows that do not involve segments come from the SQL layers alone: identical.
    summaries = []
    for summary in (
        spark_table(spark_warehouse, "marts", "customer_value_summary"),
        duckdb_table(duckdb_database, "marts", "customer_value_summary"),
    ):
        rows = [r for r in summary.to_pylist() if not r["grouping_level"].startswith("segment")]
        key = [(r["grouping_level"], r["region_code"], r["channel_code"]) for r in rows]
        summaries.append(dict(zip(key, rows, strict=True)))
    assert summaries[0].keys() == summaries[1].keys()
    for key, row in summaries[0].items():
        other = summaries[1][key]
        assert row["count_customers"] == other["count_customers"], key
        assert row["total_customer_lifetime_value"] == pytest.approx(
            other["total_customer_lifetime_value"], rel=1e-9
        ), key
    # The effect tests depend only on the SQL layers: identical statistics.
    effects = [
        t.sort_by([("categorical_feature", "ascending"), ("numeric_feature", "ascending")])
        for t in (
            spark_table(spark_warehouse, "marts", "category_effect_tests"),
            duckdb_table(duckdb_database, "marts", "category_effect_tests"),
        )
    ]
    np.testing.assert_allclose(
        effects[0]["statistic"].to_numpy(), effects[1]["statistic"].to_numpy(), rtol=1e-9
    )


def test_spark_build_finds_the_same_segments_as_duckdb(spark_warehouse, duckdb_database):
    """With the default spark_diagnostics (driver), both engines choose from the same restarts;
    the final Lloyd then runs in Spark on every row."""
    from sklearn.metrics import adjusted_rand_score

    diagnostics = [
        t.sort_by("k")
        for t in (
            spark_table(spark_warehouse, "ml", "ml_k_diagnostics"),
            duckdb_table(duckdb_database, "ml", "ml_k_diagnostics"),
        )
    ]
    np.testing.assert_allclose(
        diagnostics[0]["wcss"].to_numpy(), diagnostics[1]["wcss"].to_numpy(), rtol=1e-9
    )
    segments = [
        dict(zip(t["customer_id"].to_pylist(), t["segment_id"].to_pylist(), strict=True))
        for t in (
            spark_table(spark_warehouse, "marts", "customer_segments"),
            duckdb_table(duckdb_database, "marts", "customer_segments"),
        )
    ]
    ids = sorted(segments[1])
    ari = adjusted_rand_score([segments[0][i] for i in ids], [segments[1][i] for i in ids])
    FIGURES["Spark vs DuckDB dbt builds, ARI of customer segments (demo)"] = ari
    same_ids = sum(segments[0][i] == segments[1][i] for i in ids)
    FIGURES["Spark vs DuckDB dbt builds, customers with the same segment id"] = same_ids
    assert ari == 1.0
    assert same_ids == len(ids)


def test_bootstrap_stability_is_the_same_on_both_engines(spark_warehouse, duckdb_database):
    """Both engines hand the same z rows (fit_row order) and centroids to the one library
    function, with the same seeds: the same Jaccard per segment and the same mean ARI."""
    profiles = [
        dict(zip(t["segment_id"].to_pylist(), t["bootstrap_jaccard"].to_pylist(), strict=True))
        for t in (
            spark_table(spark_warehouse, "marts", "segment_profiles"),
            duckdb_table(duckdb_database, "marts", "segment_profiles"),
        )
    ]
    assert profiles[0].keys() == profiles[1].keys()
    for segment, value in profiles[1].items():
        assert 0 <= value <= 1
        assert profiles[0][segment] == pytest.approx(value, abs=1e-9), segment
    columns = ["bootstrap_mean_ari", "bootstrap_resamples", "bootstrap_sample_size"]
    runs = [
        t.select(columns).to_pylist()[0]
        for t in (
            spark_table(spark_warehouse, "marts", "segmentation_runs"),
            duckdb_table(duckdb_database, "marts", "segmentation_runs"),
        )
    ]
    assert runs[0]["bootstrap_resamples"] == runs[1]["bootstrap_resamples"] > 0
    assert runs[0]["bootstrap_sample_size"] == runs[1]["bootstrap_sample_size"] == 3834
    assert runs[0]["bootstrap_mean_ari"] == pytest.approx(runs[1]["bootstrap_mean_ari"], abs=1e-9)
