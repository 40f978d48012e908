"""Local search for k-means: exact Lloyd to a fixed point, and centroid swaps.

Lloyd's iterations stop in the nearest local optimum of the k-means++ start. On the
case-study data the best-known WCSS at some k is that optimum for only a few k-means++
starts in a thousand; a swap (move one centroid onto a data row, then Lloyd again) reaches
it from most other optima. :func:`swap_search` tries the swaps whose one-step assignment cost
is lowest, keeps the first that lowers the WCSS after Lloyd, and repeats until none does.

Pure NumPy, single-threaded kernels, deterministic given the ``rng`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # scikit-learn's compiled Lloyd (private): about twice as fast as the NumPy loop here
    from sklearn.cluster._kmeans import _kmeans_single_lloyd
except ImportError:  # pragma: no cover - a future scikit-learn may move it
    _kmeans_single_lloyd = None

#: A move is kept only when it lowers the WCSS by more than this relative amount.
IMPROVEMENT = 1e-12


@dataclass(frozen=True)
class LocalOptimum:
    """A Lloyd fixed point: ``centroids`` (k, d), ``labels`` (n,), ``wcss`` (z units squared),
    ``n_iter`` Lloyd iterations of the last run, ``converged`` (labels stopped changing)."""

    centroids: np.ndarray
    labels: np.ndarray
    wcss: float
    n_iter: int
    converged: bool


def squared_distances(z: np.ndarray, row_norms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(n, m) squared Euclidean distances from the rows of ``z`` (n, d) to ``points`` (m, d),
    clipped at 0; ``row_norms`` is ``(z * z).sum(axis=1)``."""
    cross = z @ points.T
    return np.maximum(row_norms[:, None] - 2.0 * cross + (points * points).sum(axis=1), 0.0)


def lloyd(
    z: np.ndarray,
    centroids: np.ndarray,
    row_norms: np.ndarray,
    max_iter: int = 300,
    compiled: bool = True,
) -> LocalOptimum:
    """Lloyd's iterations from ``centroids`` (k, d) until no row changes cluster.

    ``compiled``: scikit-learn's single-threaded Lloyd kernel with tolerance 0 (it also stops
    when no label changes) when importable, else the NumPy loop :func:`numpy_lloyd`.
    """
    if compiled and _kmeans_single_lloyd is not None:
        weights = np.ones(z.shape[0])
        start = np.array(centroids, dtype=float)
        labels, wcss, centres, n_iter = _kmeans_single_lloyd(
            z, weights, start, max_iter=max_iter, tol=0.0, n_threads=1
        )
        converged = n_iter < max_iter
        return LocalOptimum(centres, labels.astype(np.int64), float(wcss), n_iter, converged)
    return numpy_lloyd(z, centroids, row_norms, max_iter)


def numpy_lloyd(
    z: np.ndarray, centroids: np.ndarray, row_norms: np.ndarray, max_iter: int = 300
) -> LocalOptimum:
    """Lloyd's iterations in NumPy from ``centroids`` (k, d) until no row changes cluster.

    An emptied cluster keeps its previous centroid. The WCSS is summed from the final labels
    (not from the distance expansion).
    """
    k = centroids.shape[0]
    centroids = np.array(centroids, dtype=float)
    labels = np.full(z.shape[0], -1)
    iterations, converged = 0, False
    for step in range(1, max_iter + 1):
        iterations = step
        new = squared_distances(z, row_norms, centroids).argmin(axis=1)
        if np.array_equal(new, labels):
            converged = True
            break
        labels = new
        counts, sums = _label_sums(z, labels, k)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    wcss = float(((z - centroids[labels]) ** 2).sum())
    return LocalOptimum(centroids, labels, wcss, iterations, converged)


def _label_sums(z: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows per cluster (k,) and the sum of their rows (k, d), via one one-hot product."""
    one_hot = np.zeros((z.shape[0], k))
    one_hot[np.arange(z.shape[0]), labels] = 1.0
    return np.bincount(labels, minlength=k), one_hot.T @ z


def updated_wcss(z: np.ndarray, total_norm: float, labels: np.ndarray, k: int) -> float:
    """WCSS of ``labels`` (n,) with every centroid moved to its cluster mean: the WCSS after
    one Lloyd update, an upper bound on where Lloyd ends from there.
    ``total_norm`` is ``(z * z).sum()``."""
    counts, sums = _label_sums(z, labels, k)
    filled = counts > 0
    return float(total_norm - ((sums[filled] ** 2).sum(axis=1) / counts[filled]).sum())


def swap_candidates(
    z: np.ndarray,
    row_norms: np.ndarray,
    fit: LocalOptimum,
    rng: np.random.Generator,
    candidates: int,
    trials: int,
) -> list[tuple[float, int, int]]:
    """Promising swaps (score, centroid j, row i) of ``fit``, lowest score first.

    Rows are drawn proportionally to their squared distance to the nearest centroid (the
    k-means++ rule). The ``trials`` swaps (at most ``trials // k + 2`` per centroid, so every
    centroid gets tried) whose assignment to the centroids without j plus row i costs least
    are scored by :func:`updated_wcss` of that assignment; a score below ``fit.wcss`` is a
    sure improvement.
    """
    k = fit.centroids.shape[0]
    distances = squared_distances(z, row_norms, fit.centroids)
    order = np.argsort(distances, axis=1, kind="stable")
    rows = np.arange(z.shape[0])
    nearest = distances[rows, order[:, 0]]
    second = distances[rows, order[:, 1]] if k > 1 else np.zeros_like(nearest)
    total = nearest.sum()
    if total <= 0 or k < 2:
        return []
    drawn = np.unique(rng.choice(z.shape[0], size=candidates, p=nearest / total))
    to_drawn = squared_distances(z, row_norms, z[drawn])
    cheap: list[tuple[float, int, int]] = []
    for j in range(k):
        without = np.where(order[:, 0] == j, second, nearest)
        cost = np.minimum(without[:, None], to_drawn).sum(axis=0)
        for m in np.argsort(cost, kind="stable")[: trials // k + 2]:
            cheap.append((float(cost[m]), j, int(m)))
    cheap.sort()
    total_norm = float(row_norms.sum())
    scored = []
    for _, j, m in cheap[:trials]:
        others = np.where(order[:, 0] == j, order[:, 1], order[:, 0])
        without = np.where(order[:, 0] == j, second, nearest)
        labels = np.where(to_drawn[:, m] < without, j, others)
        scored.append((updated_wcss(z, total_norm, labels, k), j, int(drawn[m])))
    scored.sort()
    return scored


def swap_search(
    z: np.ndarray,
    start: np.ndarray,
    rng: np.random.Generator,
    *,
    candidates: int = 100,
    trials: int = 30,
    lloyd_trials: int = 30,
    max_rounds: int = 50,
) -> tuple[LocalOptimum, int]:
    """Lloyd from ``start`` (k, d), then swaps: each round runs Lloyd from the
    ``lloyd_trials`` best-scored of ``trials`` swaps (:func:`swap_candidates`) and keeps the
    first that lowers the WCSS; stops when a round keeps none, at most ``max_rounds`` rounds.

    Returns the local optimum and the number of Lloyd runs it took.
    """
    row_norms = (z * z).sum(axis=1)
    best = lloyd(z, start, row_norms)
    runs = 1
    for _ in range(max_rounds):
        improved = False
        swaps = swap_candidates(z, row_norms, best, rng, candidates, trials)
        for _, j, i in swaps[:lloyd_trials]:
            moved = best.centroids.copy()
            moved[j] = z[i]
            fit = lloyd(z, moved, row_norms)
            runs += 1
            if fit.wcss < best.wcss * (1 - IMPROVEMENT):
                best, improved = fit, True
                break
        if not improved:
            break
    return best, runs
