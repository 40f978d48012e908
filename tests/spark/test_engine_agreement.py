"""The Spark engine against the scikit-learn path on well-separated planted customers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score
from spark_support import FIGURES, ORDER, by_key, canonical, customer_features, feature_names

from customer_segmentation import diagnostics as k_diagnostics
from customer_segmentation import segments
from customer_segmentation.clustering import elbow_k
from customer_segmentation.explain import TOP_FEATURES, FeatureGroups, top_feature_names
from customer_segmentation.features import to_matrix
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.warm_start import WarmStart

pytestmark = pytest.mark.spark


def test_scaler_matches_numpy(planted):
    spark_scaler = planted.spark_scaler.toArrow()
    assert spark_scaler.column_names == planted.scaler.column_names
    assert spark_scaler["feature_name"].to_pylist() == planted.names
    for column in ("mean", "std", "scale"):
        np.testing.assert_allclose(
            spark_scaler[column].to_numpy(), planted.scaler[column].to_numpy(), rtol=1e-12
        )
    for column in ("is_constant", "handling", "n_samples", "feature_position"):
        assert spark_scaler[column].to_pylist() == planted.scaler[column].to_pylist()


def test_standardisation_matches_numpy_to_1e_9(planted):
    spark_z = planted.spark_z.toArrow().sort_by("fit_row")
    assert spark_z.column_names == planted.z.column_names
    # Same canonical order: fit_row numbers the same customer on both engines.
    assert spark_z["customer_id"].to_pylist() == planted.z["customer_id"].to_pylist()
    assert spark_z["fit_row"].to_pylist() == list(range(planted.z.num_rows))
    worst = max(
        float(np.abs(spark_z[c].to_numpy() - planted.z[c].to_numpy()).max())
        for c in planted.z.column_names
        if c.endswith("_z")
    )
    FIGURES["max |z difference|, Spark vs numpy standardisation"] = worst
    assert worst <= 1e-9


def test_same_scaler_gives_bit_identical_z(spark, planted):
    from customer_segmentation.engines.spark import SparkEngine

    scaler = FittedScaler.from_arrow(planted.scaler)
    z = SparkEngine(spark).standardise(planted.spark_features, scaler, ORDER).toArrow()
    z = z.sort_by("fit_row")
    for column in planted.z.column_names:
        assert z[column].to_pylist() == planted.z[column].to_pylist(), column


def test_constant_column_gets_scale_one(spark):
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    table = pa.table(
        {
            "customer_id": pa.array([3, 1, 2], pa.int64()),
            "x": pa.array([1.0, 4.0, 2.5]),
            "flat": pa.array([7.0, 7.0, 7.0]),
        }
    )
    expected = FittedScaler.fit(to_matrix(table, ["x", "flat"]), ["x", "flat"]).to_arrow()
    fitted = engine.fit_scaler(spark.createDataFrame(table), ["x", "flat"])
    scaler = fitted.to_arrow()
    assert scaler["is_constant"].to_pylist() == [False, True]
    assert scaler["scale"].to_pylist()[1] == 1.0
    assert scaler["handling"].to_pylist() == expected["handling"].to_pylist()
    z = engine.standardise(spark.createDataFrame(table), fitted, "x, customer_id")
    z = z.toArrow().sort_by("fit_row")
    assert z["customer_id"].to_pylist() == ["3", "2", "1"]  # the key passes through as text
    assert z["flat_z"].to_pylist() == [0.0, 0.0, 0.0]


def test_fit_row_ignores_input_order_and_partitions(spark, planted):
    from customer_segmentation.engines.spark import with_fit_row

    shuffled = planted.features.drop_columns(["planted_segment"]).take(
        np.random.default_rng(1).permutation(planted.features.num_rows)
    )
    frame = spark.createDataFrame(shuffled).repartition(3)
    numbered = with_fit_row(frame, ORDER).select("fit_row", "customer_id").toArrow()
    numbered = numbered.sort_by("fit_row")
    assert numbered["fit_row"].to_pylist() == list(range(planted.features.num_rows))
    expected = canonical(planted.features)["customer_id"].to_pylist()
    assert numbered["customer_id"].to_pylist() == expected


def test_k_diagnostics_table_has_the_pipeline_columns_and_choice(planted):
    spark_diagnostics = planted.spark_diagnostics.toArrow()
    assert spark_diagnostics.column_names == planted.diagnostics.column_names
    assert spark_diagnostics["k"].to_pylist() == [7, 8, 9]
    assert spark_diagnostics["is_chosen"].to_pylist() == [False, True, False]
    assert spark_diagnostics["silhouette_sample_size"].to_pylist() == [None] * 3
    assert spark_diagnostics["n_init"].to_pylist() == [1] * 3
    # The elbow flag is clustering.elbow_k on the table's own WCSS curve.
    wcss = spark_diagnostics["wcss"].to_pylist()
    elbow = elbow_k([7, 8, 9], wcss)
    assert spark_diagnostics["is_elbow"].to_pylist() == [k == elbow for k in (7, 8, 9)]


def test_k_diagnostics_agree_at_the_planted_k(planted):
    spark_row = planted.spark_diagnostics.toArrow().to_pylist()[1]
    numpy_row = planted.diagnostics.to_pylist()[1]
    assert spark_row["k"] == numpy_row["k"] == 8
    relative = abs(spark_row["wcss"] - numpy_row["wcss"]) / numpy_row["wcss"]
    FIGURES["k diagnostics WCSS relative difference at k = 8"] = relative
    assert relative < 1e-9
    # Calinski-Harabasz and Davies-Bouldin are scikit-learn's formulas from per-cluster sums.
    for column in ("calinski_harabasz", "davies_bouldin"):
        assert spark_row[column] == pytest.approx(numpy_row[column], rel=1e-9), column
    # Silhouette differs by definition: squared Euclidean (Spark) vs Euclidean (scikit-learn).
    FIGURES["silhouette at k = 8, scikit-learn (Euclidean)"] = numpy_row["silhouette"]
    FIGURES["silhouette at k = 8, Spark (squared Euclidean)"] = spark_row["silhouette"]
    assert 0.9 < numpy_row["silhouette"] <= spark_row["silhouette"] <= 1.0


def test_final_fit_matches_scikit_learn(planted):
    spark_fit = planted.spark_fit.toArrow()
    assert spark_fit.column_names == planted.fit.column_names
    for column in ("segment_id", "segment_name", "feature_name", "count_customers", "k"):
        assert spark_fit[column].to_pylist() == planted.fit[column].to_pylist(), column
    spark_wcss, numpy_wcss = spark_fit["wcss"][0].as_py(), planted.fit["wcss"][0].as_py()
    relative = abs(spark_wcss - numpy_wcss) / numpy_wcss
    FIGURES["final fit WCSS relative difference"] = relative
    assert relative < 1e-9
    difference = np.abs(
        segments.centroid_matrix(spark_fit) - segments.centroid_matrix(planted.fit)
    ).max()
    FIGURES["final fit max |centroid difference| (z units)"] = float(difference)
    assert difference < 1e-9
    np.testing.assert_allclose(
        spark_fit["centroid_original"].to_numpy(),
        planted.fit["centroid_original"].to_numpy(),
        rtol=1e-9,
        atol=1e-9,
    )
    # Levels: Spark reads positions against a 1001-point quantile grid, numpy ranks exactly.
    assert spark_fit["measure_level"].to_pylist() == planted.fit["measure_level"].to_pylist()
    spark_positions = spark_fit["mean_position"].to_numpy(zero_copy_only=False).astype(float)
    numpy_positions = planted.fit["mean_position"].to_numpy(zero_copy_only=False).astype(float)
    assert np.array_equal(np.isnan(spark_positions), np.isnan(numpy_positions))
    gap = float(np.nanmax(np.abs(spark_positions - numpy_positions)))
    FIGURES["final fit max |mean position difference|, grid vs exact ranks"] = gap
    assert gap < 2e-3
    assert spark_fit["silhouette_sample_size"].to_pylist() == [None] * spark_fit.num_rows
    assert "then Lloyd on all rows" in spark_fit["init_method"][0].as_py()


def test_assignments_agree_ari_one(planted):
    spark_assignments = planted.spark_assignments.toArrow()
    assert spark_assignments.column_names == planted.assignments.column_names
    keys = planted.assignments["customer_id"].to_pylist()
    spark_segments = by_key(spark_assignments, "segment_id", keys)
    numpy_segments = np.array(planted.assignments["segment_id"].to_pylist(), dtype=object)
    ari = adjusted_rand_score(numpy_segments.tolist(), spark_segments.tolist())
    FIGURES["ARI Spark vs scikit-learn segments"] = ari
    assert ari == 1.0
    # Same canonical ids too, not only the same partition.
    assert spark_segments.tolist() == numpy_segments.tolist()
    truth = by_key(planted.features, "planted_segment", keys)
    FIGURES["ARI Spark segments vs planted truth"] = adjusted_rand_score(
        truth.tolist(), spark_segments.tolist()
    )
    for column in ("distance_to_centroid", "distance_to_second_centroid", "margin"):
        spark_values = by_key(spark_assignments, column, keys).astype(float)
        numpy_values = planted.assignments[column].to_numpy()
        assert np.abs(spark_values - numpy_values).max() < 1e-9, column
    second = by_key(spark_assignments, "second_segment_id", keys).tolist()
    assert second == planted.assignments["second_segment_id"].to_pylist()


def test_top_features_agree(planted):
    spark_assignments = planted.spark_assignments.toArrow()
    keys = planted.assignments["customer_id"].to_pylist()
    for rank in range(1, TOP_FEATURES + 1):
        name, value = f"top_feature_{rank}", f"top_feature_{rank}_contribution"
        assert (
            by_key(spark_assignments, name, keys).tolist() == planted.assignments[name].to_pylist()
        )
        spark_values = by_key(spark_assignments, value, keys).astype(float)
        assert np.abs(spark_values - planted.assignments[value].to_numpy()).max() < 1e-9, value


def test_one_segment_has_no_top_features(spark, planted):
    from customer_segmentation.engines.spark import SparkEngine

    groups = FeatureGroups.from_sources([f.source for f in planted.feature_set.features])
    centre = segments.centroid_matrix(planted.fit)[:1]
    table = SparkEngine(spark).assign(planted.spark_z, centre, groups=groups).toArrow()
    assert table.num_rows == planted.z.num_rows
    for name in top_feature_names():
        assert table[name].null_count == table.num_rows, name


def test_k_one_and_the_silhouette_rule(spark):
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    features = customer_features(400, seed=11)
    names = feature_names(features)
    settings = SegmentationSettings(k_min=1, k_max=3, k_rule="silhouette")
    frame = spark.createDataFrame(features.drop_columns(["planted_segment"]))
    scaler = engine.fit_scaler(frame, names)
    z = engine.standardise(frame, scaler, ORDER).localCheckpoint()
    table = k_diagnostics.k_diagnostics_table(engine, z, settings, mode="mllib").to_pylist()
    first = table[0]
    assert first["k"] == 1 and first["silhouette"] is None and first["davies_bouldin"] is None
    # At k = 1 the WCSS is the total sum of squares: n per non-constant standardised column.
    constant = int(scaler.is_constant.sum())
    assert first["wcss"] == pytest.approx(400 * (len(names) - constant), rel=1e-9)
    chosen = [row for row in table if row["is_chosen"]]
    assert len(chosen) == 1 and chosen[0]["is_best_silhouette"]
    assert chosen[0]["choice_reason"].startswith("silhouette:")


def test_warm_start_and_sampled_diagnostics(spark, planted):
    """A sampled diagnostics run (same fit_rows as the numpy path), then Lloyd on all rows."""
    from customer_segmentation.clustering import seeded_sample
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    settings = dataclasses.replace(planted.spark_settings, diagnostics_max_rows=500)
    diagnostics = k_diagnostics.k_diagnostics_table(engine, planted.spark_z, settings, mode="mllib")
    assert diagnostics["diagnostics_sample_size"].to_pylist() == [500] * 3
    assert len(seeded_sample(2_000, 500, settings.random_state)) == 500
    d = len(planted.names)
    start = segments.start_of_fit(diagnostics, d, None)
    fit = engine.lloyd(planted.spark_z, start.centroids, settings)
    assert fit.n_rows == 2_000 and start.fit_sample_size == 500
    numpy_wcss = planted.fit["wcss"][0].as_py()
    assert abs(fit.wcss - numpy_wcss) / numpy_wcss < 1e-9
    warm = WarmStart(fit.centroids, "warm start: test centroids")
    warm_start = segments.start_of_fit(diagnostics, d, warm)
    again = engine.lloyd(planted.spark_z, warm_start.centroids, settings)
    assert warm_start.label == "warm start: test centroids" and warm_start.n_init == 1
    np.testing.assert_array_equal(again.centroids, fit.centroids)


def test_driver_restarts_reproduce_the_duckdb_diagnostics(spark, planted):
    """mode "driver": the DuckDB path's restarts and polish on the collected rows."""
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    table = k_diagnostics.k_diagnostics_table(engine, planted.spark_z, planted.settings)
    assert table.column_names == planted.diagnostics.column_names
    for column in ("k", "is_chosen", "is_elbow", "is_best_silhouette", "n_init", "best_from"):
        assert table[column].to_pylist() == planted.diagnostics[column].to_pylist(), column
    for column in ("wcss", "silhouette", "calinski_harabasz", "davies_bouldin"):
        np.testing.assert_allclose(
            table[column].to_numpy(), planted.diagnostics[column].to_numpy(), rtol=1e-9
        )
    start = segments.start_of_fit(table, len(planted.names), None)
    fit = engine.lloyd(planted.spark_z, start.centroids, planted.settings)
    numpy_wcss = planted.fit["wcss"][0].as_py()
    assert abs(fit.wcss - numpy_wcss) / numpy_wcss < 1e-9


def test_effect_tables_from_spark_group_by_equal_those_from_the_rows(spark):
    """The effect marts on Spark count per combination in Spark (only the counts reach the
    driver); the tables equal those of the same customers' rows, nulls and NaN included."""
    from customer_segmentation.effect_tables import (
        contingency_cells_table,
        contingency_summary_table,
        group_effect_table,
    )
    from customer_segmentation.engines.spark import SparkEngine

    rng = np.random.default_rng(21)
    n = 2_000
    minutes = np.round(rng.gamma(2.0, 300.0, n))
    minutes[rng.random(n) < 0.03] = np.nan
    rows = pa.table(
        {
            "minutes": minutes,
            "clv": np.round(rng.gamma(4.0, 30.0, n), 2),
            "region": pa.array(
                [["Europe", "USA", None][r] for r in rng.integers(0, 3, n)], pa.string()
            ),
            "channel": pa.array(rng.integers(1, 9, n).astype(str)),
        }
    )
    engine = SparkEngine(spark)
    frame = spark.createDataFrame(rows.to_pandas()).repartition(3)

    def counts(columns):
        return engine.counts(frame, columns)

    numeric, categorical = ["minutes", "clv"], ["region", "channel"]
    expected = group_effect_table(rows, numeric, categorical)
    assert group_effect_table(counts, numeric, categorical).equals(expected)
    assert expected.column("count_missing_rows").to_pylist()[0] > 0
    pairs = [("region", "channel")]
    assert contingency_summary_table(counts, pairs).equals(contingency_summary_table(rows, pairs))
    assert contingency_cells_table(counts, pairs).equals(contingency_cells_table(rows, pairs))
