"""Exact mean silhouettes of several labelings of the same rows in one pass.

scikit-learn's ``silhouette_score`` recomputes the n × n distances for every labeling; the k
diagnostics score ten labelings of the same rows. Here the distances are computed once, in
row blocks, and one matrix product per block gives every row's distance sums to every cluster
of every labeling. Same definition as scikit-learn: a(i) is the mean distance to the other
members of its cluster, b(i) the lowest mean distance to another cluster, s(i) =
(b - a) / max(a, b), and 0 for a row alone in its cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import pairwise_distances

#: Rows whose exact silhouettes are computed this way (the distance block is rows × n).
BLOCK_ROWS = 1_024


def mean_silhouettes(z: np.ndarray, labelings: Sequence[np.ndarray]) -> list[float]:
    """Mean silhouette of each labeling (n,) of ``z`` (n, d), Euclidean; every labeling needs
    2 <= clusters < n. Memory O(BLOCK_ROWS × n)."""
    n = z.shape[0]
    codes, offsets, sizes = [], [], []
    width = 0
    for labels in labelings:
        _, code = np.unique(labels, return_inverse=True)
        codes.append(code)
        offsets.append(width)
        counts = np.bincount(code)
        sizes.append(counts)
        width += counts.size
    one_hot = np.zeros((n, width))
    for code, offset in zip(codes, offsets, strict=True):
        one_hot[np.arange(n), offset + code] = 1.0
    totals = [np.zeros(n) for _ in labelings]
    for start in range(0, n, BLOCK_ROWS):
        block = slice(start, min(start + BLOCK_ROWS, n))
        sums = pairwise_distances(z[block], z) @ one_hot
        for which, (code, offset, counts) in enumerate(zip(codes, offsets, sizes, strict=True)):
            own = code[block]
            per_cluster = sums[:, offset : offset + counts.size]
            rows = np.arange(per_cluster.shape[0])
            own_size = counts[own]
            a = per_cluster[rows, own] / np.maximum(own_size - 1, 1)
            means = per_cluster / counts
            means[rows, own] = np.inf
            b = means.min(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                s = (b - a) / np.maximum(a, b)
            totals[which][block] = np.where(own_size > 1, np.nan_to_num(s), 0.0)
    return [float(total.mean()) for total in totals]
