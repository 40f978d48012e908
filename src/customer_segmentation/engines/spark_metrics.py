"""The Spark engine's ``mllib`` k diagnostics (var spark_diagnostics: mllib): one MLlib
k-means|| per k (and seed) on the rows in Spark, scored from per-cluster sums.

One k-means|| start per k finds worse local optima than the default ``driver`` mode's
restarts and polish passes on data without clear clusters (demo customers, k = 8: WCSS 37 %
higher). Calinski-Harabasz and Davies-Bouldin are computed as scikit-learn does, from the
per-cluster sums of one pass; the silhouette is ClusteringEvaluator's squared-Euclidean one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from customer_segmentation.clustering import MAX_ITER, KDiagnostic
from customer_segmentation.kernels import ClusterSums
from customer_segmentation.progress import reporter
from customer_segmentation.settings import SegmentationSettings

if TYPE_CHECKING:
    from customer_segmentation.engines.spark import SparkEngine


def calinski_harabasz(sums: ClusterSums, centroids: np.ndarray) -> float:
    """scikit-learn's ``calinski_harabasz_score`` from per-cluster sums (non-empty clusters)."""
    filled = sums.counts > 0
    counts, n = sums.counts[filled], int(sums.counts.sum())
    means = sums.sums[filled] / counts[:, None]
    overall = sums.sums.sum(axis=0) / n
    labels = len(counts)
    extra = float((counts * ((means - overall) ** 2).sum(axis=1)).sum())
    # Sum of squares about each cluster's mean = about its centroid - n_i |mean_i - c_i|².
    shift = ((means - centroids[filled]) ** 2).sum(axis=1)
    intra = float((sums.squared[filled] - counts * shift).sum())
    return 1.0 if intra == 0.0 else extra * (n - labels) / (intra * (labels - 1.0))


def davies_bouldin(sums: ClusterSums) -> float:
    """scikit-learn's ``davies_bouldin_score`` from per-cluster sums: mean distance of a
    cluster's rows to its centroid (equal to its mean once Lloyd has converged)."""
    filled = sums.counts > 0
    intra = sums.distance[filled] / sums.counts[filled]
    centres = sums.sums[filled] / sums.counts[filled, None]
    between = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(intra, 0) or np.allclose(between, 0):
        return 0.0
    between[between == 0] = np.inf
    combined = intra[:, None] + intra
    return float(np.mean(np.max(combined / between, axis=1)))


def mllib_kmeans(frame: DataFrame, k: int, seed: int) -> tuple[np.ndarray, int]:
    """MLlib k-means (k-means|| start) -> centroids (k, d) and its iteration count. MLlib may
    return fewer centres than k on few distinct points: the last centre is repeated (those
    clusters stay empty)."""
    from customer_segmentation.engines.spark import KMEANS_TOL, fit_mllib, z_columns

    model = fit_mllib(frame, z_columns(frame), k, seed, MAX_ITER, KMEANS_TOL)
    centres = np.array([np.asarray(c, dtype=np.float64) for c in model.clusterCenters()])
    if centres.shape[0] < k:
        centres = np.vstack([centres, np.repeat(centres[-1:], k - centres.shape[0], axis=0)])
    return centres, int(model.summary.numIter)


def _best_of_seeds(
    engine: SparkEngine, frame: DataFrame, k: int, seeds: Sequence[int]
) -> tuple[np.ndarray, int, ClusterSums, str]:
    from customer_segmentation.engines.spark import INIT_STEPS, z_columns

    if k == 1:
        row = frame.agg(*[F.avg(name) for name in z_columns(frame)]).first()
        centres = np.array([[float(v) for v in row]])
        return (
            centres,
            1,
            engine.sums(frame, centres),
            "k = 1: the column means (MLlib k-means needs k >= 2)",
        )
    best = None
    for seed in seeds:
        centres, n_iter = mllib_kmeans(frame, k, seed)
        sums = engine.sums(frame, centres)
        if best is None or sums.wcss < best[2].wcss * (1 - 1e-12):
            best = (centres, n_iter, sums, seed)
    centres, n_iter, sums, seed = best
    best_from = (
        f"MLlib k-means|| (initSteps {INIT_STEPS}, seed {seed})"
        if len(seeds) == 1
        else f"best of {len(seeds)} MLlib k-means|| starts (seed {seed})"
    )
    if sums.distinct < k:
        best_from += f"; {k - sums.distinct} empty cluster(s)"
    return centres, n_iter, sums, best_from


def _diagnose(
    engine: SparkEngine, frame: DataFrame, n: int, k: int, seeds: Sequence[int], report: Callable
) -> KDiagnostic:
    started = time.perf_counter()
    centres, n_iter, sums, best_from = _best_of_seeds(engine, frame, k, seeds)
    silhouette = calinski = davies = None
    if 2 <= sums.distinct < n:
        silhouette = engine.silhouette(frame, centres)
        calinski = calinski_harabasz(sums, centres)
        davies = davies_bouldin(sums)
    seconds = time.perf_counter() - started
    report(f"k = {k}: WCSS {sums.wcss:,.1f} ({seconds:.1f} s)")
    scores = (silhouette, calinski, davies)  # in KDiagnostic's field order
    converged = n_iter < MAX_ITER
    return KDiagnostic(k, sums.wcss, *scores, n_iter, converged, seconds, centres, best_from)


def diagnose_with_mllib(
    engine: SparkEngine, z: DataFrame, settings: SegmentationSettings, rows: np.ndarray | None
) -> tuple[list[KDiagnostic], int]:
    """One :class:`KDiagnostic` per k <= n of the settings' range, and the seeds used."""
    report = reporter("ml_k_diagnostics")
    frame, n = engine.layout(z, rows)
    n_init = settings.n_init if settings.n_init is not None else 1
    seeds = [settings.random_state + i for i in range(n_init)]
    report(
        f"(spark) MLlib k-means|| for k = {settings.k_min}..{settings.k_max}, {n_init} seed(s), "
        f"on {n:,} customers" + (" (seeded sample)" if rows is not None else "")
    )
    try:
        found = [_diagnose(engine, frame, n, k, seeds, report) for k in settings.k_values if k <= n]
    finally:
        frame.unpersist()
    return found, n_init
