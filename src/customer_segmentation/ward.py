"""Ward's hierarchical clustering as tables: the merges (a dendrogram) and cuts at k."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import KMeans

from customer_segmentation.clustering import seeded_sample
from customer_segmentation.threads import native_threads_for

#: Rows the micro-cluster k-means of two-stage Ward is fitted on (a seeded sample; every row
#: is then assigned). On 1M generated customers 25,000 rows took 3.3 s against 13.2 s for
#: 100,000, and the Ward cuts agree at ARI 0.987 (k = 8) and 0.936 (k = 4).
MICRO_CLUSTER_SAMPLE_ROWS = 25_000


def ward_linkage(z: np.ndarray) -> np.ndarray:
    """Exact Ward linkage of the rows of ``z`` (n, d), scipy's convention.

    Returns the (n - 1, 4) linkage matrix: left node, right node, height, size. Leaves are
    0..n-1 (the rows of ``z``), merge i creates node n + i. Memory is O(n²) (the condensed
    distance matrix, 4·n² bytes), so callers cap n.
    """
    if z.shape[0] < 2:
        raise ValueError(f"Ward linkage needs at least 2 rows, got {z.shape[0]}")
    return linkage(z, method="ward", metric="euclidean")


def linkage_to_arrow(merges: np.ndarray, method: str) -> pa.Table:
    """One row per merge: step (1-based), left/right node ids, height (z units), size."""
    steps = merges.shape[0]
    return pa.table(
        {
            "merge_step": pa.array(np.arange(1, steps + 1), pa.int64()),
            "left_node_id": pa.array(merges[:, 0].astype(np.int64), pa.int64()),
            "right_node_id": pa.array(merges[:, 1].astype(np.int64), pa.int64()),
            "merged_node_id": pa.array(np.arange(steps + 1, 2 * steps + 1), pa.int64()),
            "height": pa.array(merges[:, 2], pa.float64()),
            "size": pa.array(merges[:, 3].astype(np.int64), pa.int64()),
            "linkage_method": pa.array([method] * steps, pa.string()),
        }
    )


def linkage_from_arrow(table: pa.Table) -> np.ndarray:
    """Back to scipy's (n - 1, 4) matrix, ordered by merge step."""
    ordered = table.sort_by("merge_step")
    return np.column_stack(
        [
            ordered.column("left_node_id").to_numpy().astype(np.float64),
            ordered.column("right_node_id").to_numpy().astype(np.float64),
            ordered.column("height").to_numpy(),
            ordered.column("size").to_numpy().astype(np.float64),
        ]
    )


def cut_tree(merges: np.ndarray, k: int) -> np.ndarray:
    """Ward cluster (1..k) of every leaf when the tree is cut into k clusters: shape (n,).

    Cluster numbers follow the leaves' first appearance in leaf order, so they do not depend
    on scipy's internal numbering.
    """
    raw = fcluster(merges, t=k, criterion="maxclust")
    _, first_seen = np.unique(raw, return_index=True)
    renumber = {raw[i]: rank + 1 for rank, i in enumerate(sorted(first_seen))}
    return np.array([renumber[c] for c in raw], dtype=np.int64)


def weighted_ward_linkage(centroids: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ward linkage of m weighted points (m, d), e.g. micro-cluster centroids and their sizes.

    Cluster i starts with weight w_i; the merge cost of clusters a and b is
    sqrt(2 w_a w_b / (w_a + w_b)) · ||c_a - c_b||, which equals scipy's Ward height when all
    weights are 1, and is updated with the Lance-Williams formula. O(m²) memory, O(m³) time
    in vectorised steps: meant for m up to a few thousand.

    Returns scipy's (m - 1, 4) linkage matrix; column 3 counts leaves (points), not weight.
    """
    m = centroids.shape[0]
    if m < 2:
        raise ValueError(f"Ward linkage needs at least 2 points, got {m}")
    w = weights.astype(np.float64).copy()
    squared = ((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    cost = 2 * np.outer(w, w) / np.add.outer(w, w) * squared
    np.fill_diagonal(cost, np.inf)
    node = np.arange(m)
    leaves = np.ones(m)
    merges = np.empty((m - 1, 4))
    for step in range(m - 1):
        flat = int(np.argmin(cost))
        a, b = divmod(flat, m)
        a, b = min(a, b), max(a, b)
        d_ab = cost[a, b]
        merges[step] = (
            min(node[a], node[b]),
            max(node[a], node[b]),
            np.sqrt(d_ab),
            leaves[a] + leaves[b],
        )
        total = w[a] + w[b] + w
        updated = ((w[a] + w) * cost[a] + (w[b] + w) * cost[b] - w * d_ab) / total
        cost[a, :] = updated
        cost[:, a] = updated
        cost[a, a] = np.inf
        cost[b, :] = np.inf
        cost[:, b] = np.inf
        w[a] += w[b]
        leaves[a] += leaves[b]
        node[a] = m + step
    return merges


def micro_clusters(
    z: np.ndarray, n_micro: int, *, random_state: int, sample_rows: int = MICRO_CLUSTER_SAMPLE_ROWS
) -> np.ndarray:
    """First stage of two-stage Ward: k-means with ``n_micro`` centres fitted on a seeded
    sample of at most ``sample_rows`` rows, then every row assigned to its nearest centre.

    Returns the leaf (micro-cluster) index of each row, shape (n,), values in 0..n_micro-1
    with empty micro-clusters dropped and the rest renumbered densely.
    """
    rows = seeded_sample(z.shape[0], sample_rows, random_state)
    sample = z if rows is None else z[rows]
    with native_threads_for(sample.shape[0]):
        fit = KMeans(n_clusters=n_micro, n_init=1, max_iter=50, random_state=random_state)
        fit.fit(sample)
    # scikit-learn's chunked nearest-centre search: 10M rows × 1,000 centres in 8 s, half the
    # time of pairwise_distances_argmin and far below a loop over centres.
    with native_threads_for(z.shape[0]):
        leaf = fit.predict(z)
    _, dense = np.unique(leaf, return_inverse=True)
    return dense.astype(np.int64)


def leaf_centroids(z: np.ndarray, leaf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (m, d) and row count (m,) of each leaf 0..m-1."""
    m = int(leaf.max()) + 1
    counts = np.bincount(leaf, minlength=m).astype(np.float64)
    sums = np.column_stack(
        [np.bincount(leaf, weights=z[:, j], minlength=m) for j in range(z.shape[1])]
    )
    return sums / counts[:, None], counts
