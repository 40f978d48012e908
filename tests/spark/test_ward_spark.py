"""Two-stage Ward on Spark micro-clusters against the numpy path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from scipy.cluster.hierarchy import cophenet
from sklearn.metrics import adjusted_rand_score
from spark_support import FIGURES, by_key

from customer_segmentation import tree
from customer_segmentation.engines import LocalEngine
from customer_segmentation.features import to_matrix, z_columns
from customer_segmentation.ward import (
    cut_tree,
    leaf_centroids,
    linkage_from_arrow,
    micro_clusters,
    ward_linkage,
    weighted_ward_linkage,
)

pytestmark = pytest.mark.spark

MICRO = 100


@pytest.fixture(scope="module")
def two_stage(spark, planted):
    """Spark two-stage Ward (100 MLlib micro-clusters) on the planted customers."""
    from customer_segmentation.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    settings = dataclasses.replace(planted.spark_settings, ward_max_rows=500)
    leaves = engine.micro_leaves(planted.spark_z, MICRO, settings).localCheckpoint()
    merges = tree.ward_linkage_table(engine, planted.spark_z, leaves)
    diagnostics = engine.read(planted.spark_diagnostics)
    clusters = tree.ward_clusters(engine, leaves, merges, diagnostics)
    return leaves.toArrow(), merges, clusters.toArrow()


def test_leaves_and_tables_have_the_pipeline_columns(planted, two_stage):
    leaves, merges, clusters = two_stage
    assert leaves.column_names == ["fit_row", "customer_id", "leaf_id", "linkage_method"]
    leaf = np.sort(np.unique(leaves["leaf_id"].to_numpy()))
    assert np.array_equal(leaf, np.arange(len(leaf))) and len(leaf) <= MICRO
    assert leaves["linkage_method"][0].as_py().startswith("two_stage: ward on ")
    local = LocalEngine()
    numpy_leaves = tree.ward_leaves(
        local, planted.z, dataclasses.replace(planted.settings, ward_max_rows=planted.z.num_rows)
    )
    numpy_merges = tree.ward_linkage_table(local, planted.z, numpy_leaves)
    assert merges.column_names == numpy_merges.column_names
    assert merges.num_rows == len(leaf) - 1
    assert merges["count_customers"][-1].as_py() == planted.z.num_rows
    assert clusters.column_names == ["customer_id", "ward_cluster"]
    assert sorted(set(clusters["ward_cluster"].to_pylist())) == list(range(1, 9))


def test_second_stage_equals_numpy_on_the_same_leaves(spark, planted):
    """Given the numpy path's leaves, the Spark linkage is the numpy linkage."""
    from customer_segmentation.engines.spark import SparkEngine

    z = to_matrix(planted.z, z_columns(planted.z))
    leaf = micro_clusters(z, MICRO, random_state=0)
    leaves = pa.table(
        {
            "fit_row": planted.z["fit_row"],
            "customer_id": planted.z["customer_id"],
            "leaf_id": pa.array(leaf, pa.int64()),
            "linkage_method": pa.array(["two_stage: numpy leaves"] * len(leaf)),
        }
    )
    spark_leaves = spark.createDataFrame(leaves)
    spark_merges = tree.ward_linkage_table(SparkEngine(spark), planted.spark_z, spark_leaves)
    centres, weights = leaf_centroids(z, leaf)
    expected = weighted_ward_linkage(centres, weights)
    got = linkage_from_arrow(spark_merges)
    np.testing.assert_array_equal(got[:, [0, 1, 3]], expected[:, [0, 1, 3]])
    np.testing.assert_allclose(got[:, 2], expected[:, 2], rtol=1e-9)


def test_two_stage_ward_agrees_with_numpy_and_exact_ward(planted, two_stage):
    leaves, merges, clusters = two_stage
    keys = planted.z["customer_id"].to_pylist()
    spark_clusters = by_key(clusters, "ward_cluster", keys).tolist()

    z = to_matrix(planted.z, z_columns(planted.z))
    leaf = micro_clusters(z, MICRO, random_state=0)
    centres, weights = leaf_centroids(z, leaf)
    numpy_clusters = cut_tree(weighted_ward_linkage(centres, weights), 8)[leaf]
    exact = ward_linkage(z)
    exact_clusters = cut_tree(exact, 8)

    ari_numpy = adjusted_rand_score(numpy_clusters, spark_clusters)
    ari_exact = adjusted_rand_score(exact_clusters, spark_clusters)
    FIGURES["Ward ARI Spark two-stage vs numpy two-stage (k = 8)"] = ari_numpy
    FIGURES["Ward ARI Spark two-stage vs exact Ward (k = 8)"] = ari_exact
    assert ari_numpy == 1.0 and ari_exact == 1.0

    # Cophenetic correlation with exact Ward: a leaf's customers merge at height 0.
    spark_leaf = by_key(leaves, "leaf_id", keys).astype(np.int64)
    tree = linkage_from_arrow(merges)
    leaf_heights = cophenet(tree)
    n = len(keys)
    i, j = np.triu_indices(n, 1)
    a, b = spark_leaf[i], spark_leaf[j]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    two_stage_heights = np.zeros(len(i))
    different = lo != hi
    m_spark = int(spark_leaf.max()) + 1
    index = m_spark * lo[different] - lo[different] * (lo[different] + 1) // 2
    index += hi[different] - lo[different] - 1
    two_stage_heights[different] = leaf_heights[index]
    correlation = float(np.corrcoef(cophenet(exact), two_stage_heights)[0, 1])
    FIGURES["Ward cophenetic correlation Spark two-stage vs exact"] = correlation
    assert correlation > 0.9


def test_exact_ward_below_ward_max_rows_equals_numpy(spark, planted):
    """Plumbing of the exact path: on the same z-scores, the same scipy tree and clusters.

    (Fed the numpy path's own z, merges of exact duplicates at height 0 can come in another
    order: the two engines' z-scores differ by ~1e-13.)"""
    from customer_segmentation.engines.spark import SparkEngine

    engine, local = SparkEngine(spark), LocalEngine()
    leaves = tree.ward_leaves(engine, planted.spark_z, planted.spark_settings)
    assert set(leaves.select("linkage_method").distinct().toArrow()[0].to_pylist()) == {"exact"}
    merges = tree.ward_linkage_table(engine, planted.spark_z, leaves)
    same_z = planted.spark_z.toArrow().sort_by("fit_row")
    numpy_leaves = tree.ward_leaves(local, same_z, planted.settings)
    expected = tree.ward_linkage_table(local, same_z, numpy_leaves)
    assert merges.column_names == expected.column_names
    for column in ("left_node_id", "right_node_id", "size", "count_customers"):
        assert merges[column].to_pylist() == expected[column].to_pylist(), column
    assert merges["height"].to_pylist() == expected["height"].to_pylist()
    diagnostics = engine.read(planted.spark_diagnostics)
    clusters = tree.ward_clusters(engine, leaves, merges, diagnostics).toArrow()
    numpy_clusters = tree.ward_clusters(local, numpy_leaves, expected, planted.diagnostics)
    keys = numpy_clusters["customer_id"].to_pylist()
    got = by_key(clusters, "ward_cluster", keys).tolist()
    assert got == numpy_clusters["ward_cluster"].to_pylist()
