"""Same data and seed -> identical fits, however often and from whatever input order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from spark_support import ORDER, by_key

from customer_segmentation import diagnostics as k_diagnostics
from customer_segmentation import segments

pytestmark = pytest.mark.spark


def test_same_seed_twice_gives_identical_centres(spark, planted):
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    settings = planted.spark_settings
    first = planted.spark_diagnostics.toArrow()
    again = k_diagnostics.k_diagnostics_table(engine, planted.spark_z, settings, mode="mllib")
    assert again["centroids_z"].to_pylist() == first["centroids_z"].to_pylist()
    assert again["wcss"].to_pylist() == first["wcss"].to_pylist()
    d = len(planted.names)
    start_a = segments.start_of_fit(first, d, None).centroids
    start_b = segments.start_of_fit(again, d, None).centroids
    fit_a = engine.lloyd(planted.spark_z, start_a, settings)
    fit_b = engine.lloyd(planted.spark_z, start_b, settings)
    np.testing.assert_array_equal(fit_a.centroids, fit_b.centroids)
    assert fit_a.wcss == fit_b.wcss and fit_a.sizes.tolist() == fit_b.sizes.tolist()


def test_another_seed_is_recorded(spark, planted):
    import dataclasses

    from customer_segmentation.engines.spark import SparkEngine

    settings = dataclasses.replace(planted.spark_settings, random_state=5, k_min=8, k_max=8)
    engine = SparkEngine(spark)
    table = k_diagnostics.k_diagnostics_table(engine, planted.spark_z, settings, mode="mllib")
    assert table["random_state"].to_pylist() == [5]
    assert "seed 5" in table["best_from"][0].as_py()


def test_shuffled_partitioned_input_gives_the_same_segments(spark, planted):
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    settings = planted.spark_settings
    table = planted.features.drop_columns(["planted_segment"])
    shuffled = table.take(np.random.default_rng(7).permutation(table.num_rows))
    frame = spark.createDataFrame(shuffled).repartition(4)
    scaler = engine.fit_scaler(frame, planted.names)
    z = engine.standardise(frame, scaler, ORDER).localCheckpoint()
    diagnostics = k_diagnostics.k_diagnostics_table(engine, z, settings, mode="mllib")
    fit = segments.kmeans_fit_table(engine, z, scaler, diagnostics, planted.feature_set, settings)
    assignments = engine.assign(z, segments.centroid_matrix(fit)).toArrow()
    reference = planted.spark_assignments.toArrow()
    keys = reference["customer_id"].to_pylist()
    got = by_key(assignments, "segment_id", keys).tolist()
    assert adjusted_rand_score(reference["segment_id"].to_pylist(), got) == 1.0
    assert got == reference["segment_id"].to_pylist()
