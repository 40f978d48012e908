"""Same data and seed -> identical fits, however often and from whatever input order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from spark_support import ORDER, by_key

pytestmark = pytest.mark.spark


def test_same_seed_twice_gives_identical_centres(planted):
    from customer_segmentation.spark import engine

    first = planted.spark_diagnostics.toArrow()
    again = engine.k_diagnostics_table(planted.spark_z, planted.spark_settings).toArrow()
    assert again["centroids_z"].to_pylist() == first["centroids_z"].to_pylist()
    assert again["wcss"].to_pylist() == first["wcss"].to_pylist()
    fit_a = engine.kmeans_fit(planted.spark_z, first, planted.spark_settings)
    fit_b = engine.kmeans_fit(planted.spark_z, again, planted.spark_settings)
    np.testing.assert_array_equal(fit_a.centroids, fit_b.centroids)
    assert fit_a.wcss == fit_b.wcss and fit_a.sizes.tolist() == fit_b.sizes.tolist()


def test_another_seed_is_recorded(planted):
    import dataclasses

    from customer_segmentation.spark import engine

    settings = dataclasses.replace(planted.spark_settings, random_state=5, k_min=8, k_max=8)
    table = engine.k_diagnostics_table(planted.spark_z, settings).toArrow()
    assert table["random_state"].to_pylist() == [5]
    assert "seed 5" in table["best_from"][0].as_py()


def test_shuffled_partitioned_input_gives_the_same_segments(spark, planted):
    from customer_segmentation.spark import engine

    table = planted.features.drop_columns(["planted_segment"])
    shuffled = table.take(np.random.default_rng(7).permutation(table.num_rows))
    frame = spark.createDataFrame(shuffled).repartition(4)
    scaler = engine.feature_scaler_table(frame, planted.names)
    z = engine.standardise_customers(frame, scaler, ORDER).localCheckpoint()
    diagnostics = engine.k_diagnostics_table(z, planted.spark_settings)
    fit = engine.kmeans_fit_table(z, scaler, diagnostics, planted.spark_settings, *planted.extra)
    assignments = engine.assignments_table(z, fit).toArrow()
    reference = planted.spark_assignments.toArrow()
    keys = reference["customer_id"].to_pylist()
    got = by_key(assignments, "segment_id", keys).tolist()
    assert adjusted_rand_score(reference["segment_id"].to_pylist(), got) == 1.0
    assert got == reference["segment_id"].to_pylist()
