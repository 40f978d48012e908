"""The Ward tree as tables (ml_ward_leaves, ml_ward_linkage, ml_ward_clusters), either engine.

Up to ``ward_max_rows`` customers every customer is a leaf (exact Ward). Above it, the leaves
are :data:`WARD_MICRO_CLUSTERS` k-means micro-clusters (two-stage Ward), so memory stays O(n)
instead of the exact method's O(n²). The engine makes the leaves and sums the rows per leaf;
the linkage over at most a few thousand leaves and the cut at k run here, in numpy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from customer_segmentation.diagnostics import chosen_k
from customer_segmentation.engines.base import Engine, Rows
from customer_segmentation.progress import reporter
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.ward import (
    cut_tree,
    linkage_from_arrow,
    linkage_to_arrow,
    ward_linkage,
    weighted_ward_linkage,
)

#: Leaves of the two-stage Ward tree above ``ward_max_rows`` customers.
WARD_MICRO_CLUSTERS = 1_000


def ward_leaves(engine: Engine, z: Rows, settings: SegmentationSettings) -> Rows:
    """fit_row, customer_id -> leaf_id of the Ward tree, and linkage_method."""
    n = engine.count(z)
    if n <= settings.ward_max_rows:
        return engine.exact_leaves(z)
    reporter("ml_ward_leaves")(
        f"({engine.name}) {n:,} customers > ward_max_rows {settings.ward_max_rows:,}: "
        "two-stage Ward"
    )
    return engine.micro_leaves(z, min(WARD_MICRO_CLUSTERS, n), settings)


def ward_linkage_table(engine: Engine, z: Rows, leaves: Rows) -> pa.Table:
    """One row per merge of the Ward tree over the leaves (:func:`ward.linkage_to_arrow`),
    plus count_customers under each merged node.

    Exact Ward runs on the z matrix (at most ``ward_max_rows`` rows); two-stage Ward on the
    leaves' means weighted by their sizes (:func:`ward.weighted_ward_linkage`).
    """
    method = engine.linkage_method(leaves)
    report = reporter("ml_ward_linkage")
    if method == "exact":
        points = engine.matrix(z)
        report(f"({engine.name}) exact Ward linkage over {len(points):,} leaves")
        merges = ward_linkage(points)
        weights = np.ones(len(points))
    else:
        sums = engine.leaf_sums(z, leaves)
        if sums.distinct != len(sums.counts):
            raise ValueError("ml_ward_leaves: leaf ids are not 0..m-1")
        report(f"({engine.name}) Ward linkage ({method}) over {len(sums.counts):,} leaves")
        weights = sums.counts.astype(np.float64)
        merges = weighted_ward_linkage(sums.sums / weights[:, None], weights)
    table = linkage_to_arrow(merges, method)
    return table.append_column(
        "count_customers", pa.array(customers_under(merges, weights), pa.int64())
    )


def customers_under(merges: np.ndarray, leaf_weights: np.ndarray) -> np.ndarray:
    """Customers under each merged node (m - 1,), from the leaves' sizes (m,)."""
    m = len(leaf_weights)
    under = np.concatenate([leaf_weights, np.zeros(len(merges))])
    for step, (left, right, _, _) in enumerate(merges):
        under[m + step] = under[int(left)] + under[int(right)]
    return under[m:].astype(np.int64)


def ward_clusters(engine: Engine, leaves: Rows, merges: pa.Table, diagnostics: pa.Table) -> Rows:
    """customer_id, ward_cluster (1..k) with the tree cut at the chosen k."""
    cluster_of_leaf = cut_tree(linkage_from_arrow(merges), chosen_k(diagnostics))
    lookup = pa.table(
        {
            "leaf_id": pa.array(np.arange(len(cluster_of_leaf)), pa.int64()),
            "ward_cluster": pa.array(cluster_of_leaf, pa.int32()),
        }
    )
    return engine.join_clusters(leaves, lookup)
