"""The fit steps of :mod:`customer_segmentation.pipeline` on Apache Spark.

Every function takes the pyspark DataFrames a dbt Python model reads on dbt-spark and returns
the DataFrame it writes, with the same columns and the same meaning as its namesake in
:mod:`~customer_segmentation.pipeline`. Only row-level work runs in Spark (standardising,
distances, k-means iterations, per-cluster sums); everything computed on small collected
results (choosing k, the Ward linkage of at most a few thousand leaves, segment order, names,
ids) reuses the existing numpy / scikit-learn helpers, so the two engines cannot drift apart
there.

Where the engines differ (by design, documented per function):

- **k diagnostics** run one MLlib k-means|| initialisation per k (``initSteps`` 2, seed =
  ``random_state``; ``n_init`` seeds ``random_state + i`` when that var is set) instead of the
  scikit-learn path's budget of k-means++ restarts and polish passes: on data without clear
  clusters the WCSS ends above the best-known solution the DuckDB path finds (demo customers,
  k = 8: +37 %). ``k_diagnostics_table(..., restarts="driver")`` runs the DuckDB path's own
  diagnostics on the (sampled, at most ``diagnostics_max_rows``) rows collected to the driver
  and reaches its WCSS; the final Lloyd still runs on every row in Spark.
- **Silhouette** is :class:`pyspark.ml.evaluation.ClusteringEvaluator`'s, on every row: the
  *squared* Euclidean silhouette, ``(b - a) / max(a, b)`` with a and b mean **squared**
  distances. It is not scikit-learn's (Euclidean) silhouette: values are typically higher on
  well-separated data and the two must not be compared across engines. Calinski-Harabasz and
  Davies-Bouldin are computed exactly as scikit-learn does, from per-cluster sums.
- **Results depend on the partition layout** as well as the seed (MLlib's k-means|| samples per
  partition): the fit input is laid out in ``ceil(n / ROWS_PER_PARTITION)`` partitions by
  ``fit_row``, set by the data, not by the cluster, so the same data and seed give the same
  centres run after run (tested), and the same layout on any cluster; pass ``partitions`` to
  override. (The scaler's sums are Spark aggregates: on another partitioning z-scores can
  differ in the last bits, and so can the centres.)
- Empty clusters keep their centre (MLlib's rule); scikit-learn moves them to far points.

Lloyd iterations of the final fit run as DataFrame aggregations whose per-partition partial
sums are collected and added in partition order on the driver, so they are deterministic.

Needs the ``spark`` extra (``pip install -e '.[spark]'``) and Java 17.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from customer_segmentation import pipeline
from customer_segmentation.clustering import (
    MAX_ITER,
    KDiagnostic,
    check_enough_rows,
    seeded_sample,
)
from customer_segmentation.features import KEY_COLUMN, Z_SUFFIX, z_name
from customer_segmentation.pipeline import (
    WARD_MICRO_CLUSTERS,
    WarmStart,
    _chosen_row,
    _customers_under,
    centroid_matrix,
    chosen_k,
)
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.ward import (
    cut_tree,
    linkage_from_arrow,
    linkage_to_arrow,
    ward_linkage,
    weighted_ward_linkage,
)
from customer_segmentation.warm_start import WarmStartError

__all__ = [
    "KMEANS_TOL",
    "ROWS_PER_PARTITION",
    "SparkKMeansFit",
    "assignments_table",
    "existing_table",
    "feature_scaler_table",
    "k_diagnostics_table",
    "kmeans_fit",
    "kmeans_fit_table",
    "standardise_customers",
    "to_arrow",
    "to_spark",
    "ward_clusters_table",
    "ward_leaves_table",
    "ward_linkage_table",
    "with_fit_row",
]

#: Rows per partition of the fit input (see the module docstring: the layout is part of what
#: decides an MLlib k-means|| result, so it follows the data, not the cluster).
ROWS_PER_PARTITION = 1_000_000
#: MLlib k-means stops when no centre moves more than this (z units). Tiny on purpose: Lloyd
#: then runs until the assignment is stable, as scikit-learn's strict convergence does, while
#: last-bit noise from the order of distributed sums cannot keep it iterating.
KMEANS_TOL = 1e-12
#: k-means|| rounds (MLlib's default).
INIT_STEPS = 2
#: First stage of two-stage Ward, as :func:`customer_segmentation.ward.micro_clusters`: at most
#: 50 Lloyd iterations, fitted on a seeded sample of at most this many rows.
MICRO_CLUSTER_MAX_ITER = 50
MICRO_CLUSTER_SAMPLE_ROWS = 100_000

_VECTOR = "_cs_features"
_LABEL = "_cs_label"
_ROW_ID = "_cs_row_id"


# --- conversions ---------------------------------------------------------------------------


def to_arrow(table: pa.Table | DataFrame) -> pa.Table:
    """A small table as Arrow: a pyspark DataFrame is collected to the driver, an Arrow table is
    returned as it is. For lookup tables and fitted state (scaler, fit, diagnostics), not rows."""
    return table if isinstance(table, pa.Table) else table.toArrow()


def to_spark(spark: SparkSession, table: pa.Table) -> DataFrame:
    """An Arrow table as a pyspark DataFrame (column types follow the Arrow types)."""
    return spark.createDataFrame(table)


def existing_table(spark: SparkSession, schema: str, identifier: str) -> DataFrame | None:
    """``schema.identifier`` if it exists (e.g. the previous run of a model), else None: the
    Spark counterpart of :func:`customer_segmentation.warehouse.existing_table`.

    With non-Delta tables (``file_format`` parquet, as on local Spark) dbt-spark's table
    materialization drops a model's table *before* the model runs, so a model cannot read its
    own previous output this way (None every time): segment ids are then canonical on every
    run. Delta tables are replaced atomically and stay readable until then."""
    name = f"{schema}.{identifier}"
    return spark.table(name) if spark.catalog.tableExists(name) else None


def _z_columns(df: DataFrame) -> list[str]:
    """The standardised feature columns, in stored (fit) order."""
    return [name for name in df.columns if name.endswith(Z_SUFFIX)]


def _partitions_for(n_rows: int, partitions: int | None) -> int:
    return partitions if partitions is not None else max(1, math.ceil(n_rows / ROWS_PER_PARTITION))


# --- canonical order and standardisation ---------------------------------------------------


def with_fit_row(features: DataFrame, order: str) -> DataFrame:
    """``features`` plus ``fit_row`` (bigint, 0..n-1) in the canonical fit order.

    ``order`` is the ``order by`` list the DuckDB path reads ``int_customer_features`` in
    (column names separated by commas, each ascending, e.g. ``"minutes_watched,
    customer_lifetime_value, region_code, channel_code, customer_id"``). NULLs sort last, as in
    DuckDB. Runs as a distributed sort: the rows are range-partitioned, numbered inside each
    partition, and offset by the sizes of the partitions before them (one small collect), so
    no step moves every row to one partition. The numbered rows are checkpointed once, so the
    numbers cannot change if Spark recomputes them.
    """
    keys = [name.strip() for name in order.split(",") if name.strip()]
    if not keys:
        raise ValueError("with_fit_row: empty order")
    tagged = (
        features.orderBy(*[F.col(key).asc_nulls_last() for key in keys])
        .withColumn(_ROW_ID, F.monotonically_increasing_id())
        .localCheckpoint(eager=True)
    )
    # monotonically_increasing_id = partition index << 33 | row number inside the partition.
    partition = F.shiftright(F.col(_ROW_ID), 33)
    sizes = sorted(
        (int(row["p"]), int(row["n"]))
        for row in tagged.groupBy(partition.alias("p")).agg(F.count(F.lit(1)).alias("n")).collect()
    )
    pairs: list[Column] = []
    start = 0
    for index, size in sizes:
        pairs += [F.lit(index).cast("bigint"), F.lit(start).cast("bigint")]
        start += size
    offset = F.element_at(F.create_map(*pairs), partition) if pairs else F.lit(0)
    inside = F.col(_ROW_ID) - F.shiftleft(partition, 33)
    return tagged.withColumn("fit_row", (offset + inside).cast("bigint")).drop(_ROW_ID)


def feature_scaler_table(features: DataFrame, feature_names: Sequence[str]) -> DataFrame:
    """``ml_feature_scaler`` on Spark: one row per feature with mean, population std (ddof 0),
    the scale used (1 for a constant column) and the handling, as
    :meth:`FittedScaler.to_arrow`. Means and standard deviations are Spark aggregates
    (``avg``, ``stddev_pop``); which column is constant and its scale come from
    :class:`FittedScaler` itself."""
    names = list(feature_names)
    aggregates = [F.count(F.lit(1)).alias("n")]
    for j, name in enumerate(names):
        value = F.col(name).cast("double")
        aggregates += [F.avg(value).alias(f"mean_{j}"), F.stddev_pop(value).alias(f"std_{j}")]
    row = features.agg(*aggregates).first()
    n = int(row["n"])
    if n == 0:
        raise ValueError("cannot standardise zero rows")
    scaler = FittedScaler(
        feature_names=tuple(names),
        mean=np.array([row[f"mean_{j}"] for j in range(len(names))], dtype=np.float64),
        std=np.array([row[f"std_{j}"] for j in range(len(names))], dtype=np.float64),
        n_samples=n,
    )
    return to_spark(features.sparkSession, scaler.to_arrow())


def standardise_customers(
    features: DataFrame, scaler_table: DataFrame | pa.Table, order: str | None = None
) -> DataFrame:
    """``int_customer_features`` (n rows) -> fit_row, customer_id, one ``<feature>_z`` column
    per scaler feature: z = (x - mean) / scale, as :func:`pipeline.standardise_customers`.

    ``fit_row`` is the canonical fit order: taken from ``features`` when it has the column,
    else numbered here by :func:`with_fit_row` with ``order`` (required then). The arithmetic
    is the same IEEE operations as numpy's, so with the same scaler the z-scores are
    bit-identical.
    """
    scaler = FittedScaler.from_arrow(to_arrow(scaler_table))
    if "fit_row" not in features.columns:
        if order is None:
            raise ValueError("standardise_customers: features have no fit_row; pass order")
        features = with_fit_row(features, order)
    reporter("ml_customer_features_z")(
        f"(spark) standardising customers × {len(scaler.feature_names)} features"
    )
    columns = [F.col("fit_row").cast("bigint").alias("fit_row"), F.col(KEY_COLUMN)]
    for j, name in enumerate(scaler.feature_names):
        z = (F.col(name).cast("double") - F.lit(float(scaler.mean[j]))) / F.lit(
            float(scaler.scale[j])
        )
        columns.append(z.alias(z_name(name)))
    return features.select(*columns)


# --- shared row-level kernels -------------------------------------------------------------


@dataclass
class _Prepared:
    """The fit input laid out for repeated passes: ``frame`` has fit_row, the z columns and an
    MLlib feature vector, range-partitioned and sorted by fit_row, persisted."""

    frame: DataFrame
    z_columns: list[str]
    n_rows: int

    def release(self) -> None:
        self.frame.unpersist()


def _prepare(
    z: DataFrame,
    partitions: int | None = None,
    rows: np.ndarray | None = None,
    n_rows: int | None = None,
) -> _Prepared:
    """Lay out ``z`` (optionally only the fit_rows in ``rows``) for the k-means passes;
    ``n_rows`` is the row count of ``z`` when the caller knows it (saves a pass)."""
    z_columns = _z_columns(z)
    if not z_columns:
        raise ValueError(f"no standardised (*{Z_SUFFIX}) columns in {z.columns}")
    frame = z.select("fit_row", *z_columns)
    if rows is not None:
        wanted = to_spark(z.sparkSession, pa.table({"fit_row": pa.array(rows, pa.int64())}))
        frame = frame.join(F.broadcast(wanted), "fit_row")
        n_expected = len(rows)
    else:
        n_expected = None
        n_rows = n_rows if n_rows is not None else frame.count()
    if n_expected is not None:
        n_rows = n_expected
    frame = (
        VectorAssembler(inputCols=z_columns, outputCol=_VECTOR)
        .transform(frame.repartitionByRange(_partitions_for(n_rows, partitions), "fit_row"))
        .sortWithinPartitions("fit_row")
        .persist()
    )
    counted = frame.count()
    if n_expected is not None and counted != n_expected:
        frame.unpersist()
        raise ValueError(f"sample of {n_expected} fit_rows matched {counted} rows")
    return _Prepared(frame, z_columns, counted)


def _sorted_distances(z_columns: Sequence[str], centroids: np.ndarray) -> Column:
    """Per row, an array of (d2, i) structs sorted by squared distance d2 to centroid i, then i:
    element 0 is the nearest centroid (lowest index on exact ties, as numpy's stable argsort),
    element 1 the runner-up. Squared distances are summed feature by feature, as in
    :func:`customer_segmentation.clustering.assign_to_centroids` and SQL scoring."""
    structs = []
    for i, centre in enumerate(np.asarray(centroids, dtype=np.float64)):
        squared: Column | None = None
        for name, value in zip(z_columns, centre, strict=True):
            diff = F.col(name) - F.lit(float(value))
            squared = diff * diff if squared is None else squared + diff * diff
        structs.append(F.struct(squared.alias("d2"), F.lit(i).alias("i")))
    return F.sort_array(F.array(*structs), asc=True)


@dataclass(frozen=True)
class _ClusterStats:
    """Sufficient statistics of a nearest-centroid assignment (k clusters, d features)."""

    counts: np.ndarray  # (k,) rows per cluster
    sums: np.ndarray  # (k, d) sum of z per cluster
    squared: np.ndarray  # (k,) sum of squared distances to the cluster's centroid
    distance: np.ndarray  # (k,) sum of distances to the cluster's centroid

    @property
    def wcss(self) -> float:
        return float(self.squared.sum())

    @property
    def distinct(self) -> int:
        return int((self.counts > 0).sum())

    def means(self, fallback: np.ndarray) -> np.ndarray:
        """(k, d) cluster means; an empty cluster keeps its ``fallback`` row."""
        out = np.array(fallback, dtype=np.float64, copy=True)
        filled = self.counts > 0
        out[filled] = self.sums[filled] / self.counts[filled, None]
        return out


def _cluster_stats(prepared: _Prepared, centroids: np.ndarray) -> _ClusterStats:
    """One pass: assign every row to its nearest centroid and sum per cluster.

    Sums are aggregated per (partition, cluster) in Spark and added in partition order here,
    so the result does not depend on the order in which Spark merges partial aggregates.
    """
    k, d = centroids.shape
    nearest = _sorted_distances(prepared.z_columns, centroids)[0]
    labelled = prepared.frame.select(
        F.spark_partition_id().alias("_pid"),
        nearest["i"].alias(_LABEL),
        nearest["d2"].alias("_d2"),
        *prepared.z_columns,
    )
    rows = labelled.groupBy("_pid", _LABEL).agg(
        F.count(F.lit(1)).alias("_n"),
        F.sum("_d2").alias("_sq"),
        F.sum(F.sqrt("_d2")).alias("_dist"),
        *[F.sum(name).alias(f"_s{j}") for j, name in enumerate(prepared.z_columns)],
    )
    counts = np.zeros(k, dtype=np.int64)
    sums = np.zeros((k, d))
    squared = np.zeros(k)
    distance = np.zeros(k)
    for row in sorted(rows.collect(), key=lambda r: (r["_pid"], r[_LABEL])):
        i = int(row[_LABEL])
        counts[i] += int(row["_n"])
        squared[i] += row["_sq"]
        distance[i] += row["_dist"]
        sums[i] += [row[f"_s{j}"] for j in range(d)]
    return _ClusterStats(counts, sums, squared, distance)


def _silhouette(prepared: _Prepared, centroids: np.ndarray) -> float:
    """ClusteringEvaluator's squared-Euclidean silhouette of the nearest-centroid labels."""
    label = _sorted_distances(prepared.z_columns, centroids)[0]["i"].cast("double")
    evaluator = ClusteringEvaluator(
        featuresCol=_VECTOR,
        predictionCol=_LABEL,
        metricName="silhouette",
        distanceMeasure="squaredEuclidean",
    )
    return float(evaluator.evaluate(prepared.frame.withColumn(_LABEL, label)))


def _calinski_harabasz(stats: _ClusterStats, centroids: np.ndarray) -> float:
    """scikit-learn's ``calinski_harabasz_score`` from per-cluster sums (non-empty clusters)."""
    filled = stats.counts > 0
    counts, n = stats.counts[filled], int(stats.counts.sum())
    means = stats.sums[filled] / counts[:, None]
    overall = stats.sums.sum(axis=0) / n
    labels = len(counts)
    extra = float((counts * ((means - overall) ** 2).sum(axis=1)).sum())
    # Sum of squares about each cluster's mean = about its centroid - n_i |mean_i - c_i|².
    shift = ((means - centroids[filled]) ** 2).sum(axis=1)
    intra = float((stats.squared[filled] - counts * shift).sum())
    return 1.0 if intra == 0.0 else extra * (n - labels) / (intra * (labels - 1.0))


def _davies_bouldin(stats: _ClusterStats, centroids: np.ndarray) -> float:
    """scikit-learn's ``davies_bouldin_score`` from per-cluster sums: mean distance of a
    cluster's rows to its centroid (equal to its mean once Lloyd has converged)."""
    filled = stats.counts > 0
    intra = stats.distance[filled] / stats.counts[filled]
    centres = stats.sums[filled] / stats.counts[filled, None]
    between = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(intra, 0) or np.allclose(between, 0):
        return 0.0
    between[between == 0] = np.inf
    combined = intra[:, None] + intra
    return float(np.mean(np.max(combined / between, axis=1)))


def _mllib_kmeans(
    prepared: _Prepared, k: int, seed: int, max_iter: int = MAX_ITER, tol: float = KMEANS_TOL
) -> tuple[np.ndarray, int]:
    """MLlib k-means (k-means|| start) -> centroids (k, d) and its iteration count.

    MLlib needs k >= 2 and may return fewer centres than k when the data has fewer distinct
    points; the missing rows repeat the last centre (they stay empty clusters).
    """
    model = KMeans(
        featuresCol=_VECTOR,
        predictionCol=_LABEL,
        k=k,
        initMode="k-means||",
        initSteps=INIT_STEPS,
        seed=seed,
        maxIter=max_iter,
        tol=tol,
    ).fit(prepared.frame)
    centres = np.array([np.asarray(c, dtype=np.float64) for c in model.clusterCenters()])
    if centres.shape[0] < k:
        centres = np.vstack([centres, np.repeat(centres[-1:], k - centres.shape[0], axis=0)])
    return centres, int(model.summary.numIter)


def _column_means(prepared: _Prepared) -> np.ndarray:
    row = prepared.frame.agg(*[F.avg(name) for name in prepared.z_columns]).first()
    return np.array([[float(v) for v in row]])


# --- k diagnostics ----------------------------------------------------------------------------


def k_diagnostics_table(
    z: DataFrame,
    settings: SegmentationSettings,
    source: str | None = None,
    *,
    restarts: Literal["mllib", "driver"] = "mllib",
    partitions: int | None = None,
) -> DataFrame:
    """``ml_k_diagnostics`` on Spark: one row per k in the settings' range (k <= n), the same
    columns as :func:`pipeline.k_diagnostics_table`.

    ``restarts="mllib"`` (default): per k, MLlib k-means (k-means||, seed ``random_state``;
    with the ``n_init`` var set, that many seeds ``random_state + i`` and the lowest WCSS wins;
    k = 1 is the column means, as MLlib needs k >= 2). WCSS, Calinski-Harabasz and
    Davies-Bouldin come from one Spark pass per k (per-cluster counts, sums and distances to
    the final centroids), silhouette from ClusteringEvaluator (squared Euclidean, every row:
    ``silhouette_sample_size`` is null). The k rule is :func:`clustering.choose_k` and the
    elbow :func:`clustering.elbow_k` on the collected per-k results. One k-means|| start per
    k finds worse local optima than the DuckDB path's restarts and polish passes on data
    without clear clusters (measured on the demo customers at k = 8: WCSS 37 % higher).

    ``restarts="driver"``: the DuckDB path's own diagnostics
    (:func:`pipeline.k_diagnostics_table`: k-means++ restarts, polish passes, scikit-learn's
    silhouette) on the rows collected to the driver: at most ``diagnostics_max_rows`` (a
    seeded sample above, 200,000 by default, 21 MB at 13 features), exactly what the DuckDB
    path does above that size. Same rows and seed, so the same table as DuckDB's up to
    rounding; the final fit then runs Lloyd on all rows in Spark (:func:`kmeans_fit`).

    Either way ``diagnostics_max_rows`` samples the same fit_rows as the DuckDB path
    (:func:`clustering.seeded_sample`).
    """
    report = reporter("ml_k_diagnostics")
    n = z.count()
    needed = settings.k if settings.k_rule == "fixed" else max(settings.k_min, 2)
    check_enough_rows(n, needed, source or "input")
    rows = seeded_sample(n, settings.diagnostics_max_rows, settings.random_state)
    if restarts == "driver":
        return _driver_diagnostics(z, settings, source, rows)
    if restarts != "mllib":
        raise ValueError(f"restarts {restarts!r}: use 'mllib' or 'driver'")
    prepared = _prepare(z, partitions, rows, n_rows=n)
    n_init = settings.n_init if settings.n_init is not None else 1
    seeds = [settings.random_state + i for i in range(n_init)]
    report(
        f"(spark) MLlib k-means|| for k = {settings.k_min}..{settings.k_max}, {n_init} seed(s), "
        f"on {prepared.n_rows:,} customers" + (" (seeded sample)" if rows is not None else "")
    )
    diagnostics: list[KDiagnostic] = []
    try:
        for k in [k for k in settings.k_values if k <= prepared.n_rows]:
            diagnostics.append(_diagnose(prepared, k, seeds, report))
    finally:
        prepared.release()

    table = pipeline.diagnostics_table(
        diagnostics,
        settings,
        n_init=n_init,
        silhouette_sample=None,  # ClusteringEvaluator scores every row
        diagnostics_sample=None if rows is None else len(rows),
        report=report,
    )
    return to_spark(z.sparkSession, table)


def _driver_diagnostics(
    z: DataFrame, settings: SegmentationSettings, source: str | None, rows: np.ndarray | None
) -> DataFrame:
    """:func:`pipeline.k_diagnostics_table` on the (sampled) rows, collected in fit_row order."""
    z_columns = _z_columns(z)
    frame = z.select("fit_row", KEY_COLUMN, *z_columns)
    if rows is not None:
        wanted = to_spark(z.sparkSession, pa.table({"fit_row": pa.array(rows, pa.int64())}))
        frame = frame.join(F.broadcast(wanted), "fit_row")
    collected = frame.orderBy("fit_row").toArrow()
    reporter("ml_k_diagnostics")(
        f"(spark) k diagnostics on the driver over {collected.num_rows:,} collected rows"
    )
    table = pipeline.k_diagnostics_table(collected, settings, source=source)
    if rows is not None:
        column = table.schema.get_field_index("diagnostics_sample_size")
        sizes = pa.array([len(rows)] * table.num_rows, pa.int64())
        table = table.set_column(column, "diagnostics_sample_size", sizes)
    return to_spark(z.sparkSession, table)


def _diagnose(prepared: _Prepared, k: int, seeds: Sequence[int], report) -> KDiagnostic:
    started = time.perf_counter()
    if k == 1:
        centres, n_iter = _column_means(prepared), 1
        stats = _cluster_stats(prepared, centres)
        best_from = "k = 1: the column means (MLlib k-means needs k >= 2)"
    else:
        best = None
        for seed in seeds:
            centres, n_iter = _mllib_kmeans(prepared, k, seed)
            stats = _cluster_stats(prepared, centres)
            if best is None or stats.wcss < best[2].wcss * (1 - 1e-12):
                best = (centres, n_iter, stats, seed)
        centres, n_iter, stats, seed = best
        best_from = (
            f"MLlib k-means|| (initSteps {INIT_STEPS}, seed {seed})"
            if len(seeds) == 1
            else f"best of {len(seeds)} MLlib k-means|| starts (seed {seed})"
        )
        if stats.distinct < k:
            best_from += f"; {k - stats.distinct} empty cluster(s)"
    silhouette = calinski = davies = None
    if 2 <= stats.distinct < prepared.n_rows:
        silhouette = _silhouette(prepared, centres)
        calinski = _calinski_harabasz(stats, centres)
        davies = _davies_bouldin(stats, centres)
    seconds = time.perf_counter() - started
    report(f"k = {k}: WCSS {stats.wcss:,.1f} ({seconds:.1f} s)")
    return KDiagnostic(
        k=k,
        wcss=stats.wcss,
        silhouette=silhouette,
        calinski_harabasz=calinski,
        davies_bouldin=davies,
        n_iter=n_iter,
        converged=n_iter < MAX_ITER,
        seconds=seconds,
        centroids=centres,
        best_from=best_from,
    )


# --- final k-means fit -------------------------------------------------------------------------


@dataclass(frozen=True)
class SparkKMeansFit:
    """The final k-means fit on Spark, z units.

    Attributes
    ----------
    centroids : (k, d) centroids, in the order the fit started from (not yet canonical).
    sizes : (k,) customers nearest to each centroid.
    wcss : within-cluster sum of squares over all rows (scikit-learn's ``inertia_``).
    n_iter : Lloyd iterations; converged : whether the assignment stopped changing before
        ``clustering.MAX_ITER``.
    init : where Lloyd started (the diagnostics' best centroids, or a warm start).
    silhouette : ClusteringEvaluator's squared-Euclidean silhouette over all rows, None when
        fewer than 2 clusters are non-empty (or every row is its own cluster).
    n_rows : rows fitted; n_init, fit_sample_size : as recorded in ``ml_kmeans_fit``.
    """

    centroids: np.ndarray
    sizes: np.ndarray
    wcss: float
    n_iter: int
    converged: bool
    init: str
    silhouette: float | None
    n_rows: int
    n_init: int
    fit_sample_size: int | None


def _lloyd(
    prepared: _Prepared, start: np.ndarray, max_iter: int = MAX_ITER
) -> tuple[np.ndarray, _ClusterStats, int, bool]:
    """Lloyd's k-means from ``start`` (k, d) on every row; each iteration is one Spark pass.

    Stops when an iteration leaves every centroid bit-identical (the assignment is stable:
    the per-cluster sums are deterministic) or after ``max_iter`` iterations. Returns the
    centroids, the statistics of their final assignment, iterations and convergence.
    """
    centroids = np.array(start, dtype=np.float64, copy=True)
    for iteration in range(1, max_iter + 1):
        stats = _cluster_stats(prepared, centroids)
        updated = stats.means(centroids)
        moved = not np.array_equal(updated, centroids)
        centroids = updated
        if not moved:
            return centroids, stats, iteration, True
    return centroids, _cluster_stats(prepared, centroids), max_iter, False


def kmeans_fit(
    z: DataFrame,
    diagnostics: DataFrame | pa.Table,
    settings: SegmentationSettings,
    *,
    warm_start: WarmStart | None = None,
    partitions: int | None = None,
) -> SparkKMeansFit:
    """Lloyd on all rows at the chosen k, from the diagnostics' best centroids (or a warm
    start), as :func:`pipeline.kmeans_fit_table` does with scikit-learn. After a sampled
    diagnostics run this refines the sample's solution on the full data."""
    chosen = _chosen_row(to_arrow(diagnostics))
    k = int(chosen["k"])
    report = reporter("ml_kmeans_fit")
    prepared = _prepare(z, partitions)
    d = len(prepared.z_columns)
    try:
        if warm_start is not None:
            if warm_start.centroids.shape != (k, d):
                raise WarmStartError(
                    f"{warm_start.label}: {warm_start.centroids.shape[0]} centroids, but the "
                    f"chosen k is {k}; set var k: {warm_start.centroids.shape[0]}"
                )
            start, init, n_init, fit_rows = warm_start.centroids, warm_start.label, 1, None
        else:
            fit_rows = chosen["diagnostics_sample_size"]
            restarts = str(chosen["best_from"]) + (
                f" on a {fit_rows:,}-row sample" if fit_rows else ""
            )
            start = np.asarray(chosen["centroids_z"], dtype=np.float64).reshape(k, d)
            init = f"{restarts} (ml_k_diagnostics), then Lloyd on all rows"
            n_init = int(chosen["n_init"])
        report(f"(spark) k = {k}: Lloyd on all {prepared.n_rows:,} customers from {init}")
        centroids, stats, n_iter, converged = _lloyd(prepared, start)
        silhouette = None
        if 2 <= stats.distinct < prepared.n_rows:
            silhouette = _silhouette(prepared, centroids)
    finally:
        prepared.release()
    report(f"(spark) WCSS {stats.wcss:,.2f} after {n_iter} iterations")
    return SparkKMeansFit(
        centroids=centroids,
        sizes=stats.counts,
        wcss=stats.wcss,
        n_iter=n_iter,
        converged=converged,
        init=init,
        silhouette=silhouette,
        n_rows=prepared.n_rows,
        n_init=n_init,
        fit_sample_size=None if fit_rows is None else int(fit_rows),
    )


def kmeans_fit_table(
    z: DataFrame,
    scaler_table: DataFrame | pa.Table,
    diagnostics: DataFrame | pa.Table,
    settings: SegmentationSettings,
    *args: Any,
    warm_start: WarmStart | None = None,
    partitions: int | None = None,
    **kwargs: Any,
) -> DataFrame:
    """``ml_kmeans_fit`` on Spark: one row per segment × feature, the columns of
    :func:`pipeline.kmeans_fit_table`.

    The fit is :func:`kmeans_fit` (Spark). The table is then built by
    :func:`pipeline.kmeans_fit_table` itself, run on the k fitted centroids as k stand-in
    rows (Lloyd from k points on those points returns them unchanged), so canonical segment
    order (:func:`clustering.canonical_segment_order`), names, matching to the previous run
    and everything the DuckDB path adds to a segment are the same code on both engines. The
    per-run facts that need every row (count_customers, wcss, silhouette and its sample size,
    n_iter, converged, init_method, n_init, fit_sample_size) are then replaced by the Spark
    fit's. ``*args`` / ``**kwargs`` (the feature set, ``previous``, lookup tables: Spark
    DataFrames are collected to Arrow) are passed on to :func:`pipeline.kmeans_fit_table`.
    That function's own progress lines (about the k stand-in rows) are not shown.
    """
    fit = kmeans_fit(z, diagnostics, settings, warm_start=warm_start, partitions=partitions)
    z_columns = _z_columns(z)
    k = fit.centroids.shape[0]
    diagnostics_arrow = to_arrow(diagnostics)
    chosen = np.array(diagnostics_arrow["is_chosen"].to_pylist(), dtype=bool)
    stored = diagnostics_arrow["centroids_z"].to_pylist()
    centroids_z = [
        fit.centroids.ravel().tolist() if is_chosen else value
        for is_chosen, value in zip(chosen, stored, strict=True)
    ]
    stand_in_diagnostics = diagnostics_arrow.set_column(
        diagnostics_arrow.schema.get_field_index("centroids_z"),
        "centroids_z",
        pa.array(centroids_z, pa.list_(pa.float64())),
    )
    stand_in_rows = pa.table(
        {
            "fit_row": pa.array(np.arange(k), pa.int64()),
            KEY_COLUMN: pa.array(np.arange(1, k + 1), pa.int64()),
            **{name: pa.array(fit.centroids[:, j]) for j, name in enumerate(z_columns)},
        }
    )
    with contextlib.redirect_stderr(io.StringIO()):
        table = pipeline.kmeans_fit_table(
            stand_in_rows,
            to_arrow(scaler_table),
            stand_in_diagnostics,
            settings,
            *[_small(value) for value in args],
            warm_start=None,
            **{key: _small(value) for key, value in kwargs.items()},
        )
    # Which Spark centroid each segment of the table is: nearest centroid_z (equal up to the
    # last bits, as Lloyd on k points returns them).
    segments = centroid_matrix(table)
    distance = ((segments[:, None, :] - fit.centroids[None, :, :]) ** 2).sum(axis=2)
    source = distance.argmin(axis=1)
    if len(set(source.tolist())) != k:
        raise ValueError(
            "two fitted centroids coincide: the segment table cannot tell them apart "
            "(fewer distinct customers than k?)"
        )
    ordered = table.sort_by([("segment_id", "ascending"), ("feature_position", "ascending")])
    d = len(z_columns)
    rows = ordered.num_rows

    def per_segment(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(values, d).tolist(), kind)

    replaced = {
        "count_customers": per_segment(fit.sizes[source], pa.int64()),
        "wcss": pa.array([fit.wcss] * rows, pa.float64()),
        "silhouette": pa.array([fit.silhouette] * rows, pa.float64()),
        "silhouette_sample_size": pa.array([None] * rows, pa.int64()),
        "n_iter": pa.array([fit.n_iter] * rows, pa.int32()),
        "converged": pa.array([fit.converged] * rows, pa.bool_()),
        "init_method": pa.array([fit.init] * rows, pa.string()),
        "n_init": pa.array([fit.n_init] * rows, pa.int32()),
        "fit_sample_size": pa.array([fit.fit_sample_size] * rows, pa.int64()),
    }
    for name, values in replaced.items():
        if name in ordered.column_names:
            ordered = ordered.set_column(ordered.schema.get_field_index(name), name, values)
    return to_spark(z.sparkSession, ordered)


def _small(value: Any) -> Any:
    """A Spark DataFrame argument (lookup table, previous run) collected to Arrow."""
    return to_arrow(value) if isinstance(value, DataFrame) else value


# --- assignments --------------------------------------------------------------------------------


def assignments_table(z: DataFrame, fit_table: DataFrame | pa.Table) -> DataFrame:
    """``ml_customer_assignments`` on Spark: customer_id, segment_id, distance_to_centroid,
    second_segment_id, distance_to_second_centroid, margin (z units; the second three null
    when k = 1), as :func:`pipeline.assignments_table`. Ties go to the lower segment id."""
    centroids = centroid_matrix(to_arrow(fit_table))
    k = centroids.shape[0]
    reporter("ml_customer_assignments")(f"(spark) nearest of {k} centroids per customer")
    ranked = _sorted_distances(_z_columns(z), centroids)
    first, second = ranked[0], ranked[1]
    distance = F.sqrt(first["d2"])
    if k > 1:
        second_id = (second["i"] + 1).cast("int")
        second_distance = F.sqrt(second["d2"])
        margin = second_distance - distance
    else:
        second_id = F.lit(None).cast("int")
        second_distance = margin = F.lit(None).cast("double")
    return z.select(
        F.col(KEY_COLUMN),
        (first["i"] + 1).cast("int").alias("segment_id"),
        distance.alias("distance_to_centroid"),
        second_id.alias("second_segment_id"),
        second_distance.alias("distance_to_second_centroid"),
        margin.alias("margin"),
    )


# --- Ward ---------------------------------------------------------------------------------------


def ward_leaves_table(
    z: DataFrame,
    settings: SegmentationSettings,
    *,
    n_micro: int = WARD_MICRO_CLUSTERS,
    sample_rows: int = MICRO_CLUSTER_SAMPLE_ROWS,
    partitions: int | None = None,
) -> DataFrame:
    """``ml_ward_leaves`` on Spark: fit_row, customer_id -> leaf_id, linkage_method.

    Up to ``ward_max_rows`` customers every customer is a leaf (exact Ward, leaf_id =
    fit_row). Above, the leaves are ``n_micro`` MLlib k-means micro-clusters (k-means||, seed
    ``random_state``, at most 50 iterations, fitted on the same seeded sample of at most
    ``sample_rows`` fit_rows as :func:`ward.micro_clusters`, then every row assigned): the
    first stage of two-stage Ward. Empty micro-clusters are dropped and the rest numbered
    densely 0..m-1 in MLlib's order.
    """
    n = z.count()
    base = z.select(F.col("fit_row").cast("bigint").alias("fit_row"), F.col(KEY_COLUMN))
    if n <= settings.ward_max_rows:
        return base.select(
            "fit_row",
            KEY_COLUMN,
            F.col("fit_row").alias("leaf_id"),
            F.lit("exact").alias("linkage_method"),
        )
    report = reporter("ml_ward_leaves")
    report(f"(spark) {n:,} customers > ward_max_rows {settings.ward_max_rows:,}: two-stage Ward")
    m = min(n_micro, n)
    rows = seeded_sample(n, sample_rows, settings.random_state)
    sample = _prepare(z, partitions, rows)
    try:
        model = KMeans(
            featuresCol=_VECTOR,
            predictionCol=_LABEL,
            k=m,
            initMode="k-means||",
            initSteps=INIT_STEPS,
            seed=settings.random_state,
            maxIter=MICRO_CLUSTER_MAX_ITER,
        ).fit(sample.frame)
    finally:
        sample.release()
    everyone = VectorAssembler(inputCols=_z_columns(z), outputCol=_VECTOR).transform(
        z.select(F.col("fit_row").cast("bigint").alias("fit_row"), KEY_COLUMN, *_z_columns(z))
    )
    predicted = model.transform(everyone).select("fit_row", KEY_COLUMN, _LABEL).persist()
    try:
        used = sorted(int(r[0]) for r in predicted.select(_LABEL).distinct().collect())
        dense = to_spark(
            z.sparkSession,
            pa.table(
                {
                    _LABEL: pa.array(used, pa.int32()),
                    "leaf_id": pa.array(np.arange(len(used)), pa.int64()),
                }
            ),
        )
        method = f"two_stage: ward on {len(used)} k-means micro-clusters (Spark MLlib)"
        leaves = (
            predicted.join(F.broadcast(dense), _LABEL)
            .select("fit_row", KEY_COLUMN, "leaf_id", F.lit(method).alias("linkage_method"))
            .localCheckpoint(eager=True)
        )
    finally:
        predicted.unpersist()
    return leaves


def ward_linkage_table(z: DataFrame, leaves: DataFrame) -> DataFrame:
    """``ml_ward_linkage`` on Spark: one row per merge of the Ward tree over the leaves
    (:func:`ward.linkage_to_arrow`) plus count_customers under each merged node.

    Exact Ward collects the z-scores (at most ``ward_max_rows`` rows, fit_row order) and runs
    :func:`ward.ward_linkage`; two-stage Ward collects only the leaves' means and sizes (one
    Spark aggregation) and runs :func:`ward.weighted_ward_linkage` on them.
    """
    z_columns = _z_columns(z)
    method = leaves.select("linkage_method").first()[0]
    if method == "exact":
        rows = z.select("fit_row", *z_columns).orderBy("fit_row").toArrow()
        points = np.column_stack([rows[name].to_numpy() for name in z_columns])
        reporter("ml_ward_linkage")(f"(spark) exact Ward linkage over {len(points):,} leaves")
        merges = ward_linkage(points)
        weights = np.ones(len(points))
    else:
        joined = z.join(leaves.select("fit_row", "leaf_id"), "fit_row")
        means = (
            joined.groupBy("leaf_id")
            .agg(F.count(F.lit(1)).alias("_n"), *[F.avg(name).alias(name) for name in z_columns])
            .orderBy("leaf_id")
            .toArrow()
        )
        leaf_ids = means["leaf_id"].to_numpy()
        if not np.array_equal(leaf_ids, np.arange(len(leaf_ids))):
            raise ValueError("ml_ward_leaves: leaf ids are not 0..m-1")
        centres = np.column_stack([means[name].to_numpy() for name in z_columns])
        weights = means["_n"].to_numpy().astype(np.float64)
        reporter("ml_ward_linkage")(f"(spark) Ward linkage ({method}) over {len(weights):,} leaves")
        merges = weighted_ward_linkage(centres, weights)
    table = linkage_to_arrow(merges, method)
    table = table.append_column(
        "count_customers", pa.array(_customers_under(merges, weights), pa.int64())
    )
    return to_spark(z.sparkSession, table)


def ward_clusters_table(
    leaves: DataFrame, merges: DataFrame | pa.Table, diagnostics: DataFrame | pa.Table
) -> DataFrame:
    """``ml_ward_clusters`` on Spark: customer_id, ward_cluster (1..k) with the tree cut at the
    chosen k (:func:`ward.cut_tree` on the collected merges, then a broadcast join per row)."""
    k = chosen_k(to_arrow(diagnostics))
    cluster_of_leaf = cut_tree(linkage_from_arrow(to_arrow(merges)), k)
    lookup = to_spark(
        leaves.sparkSession,
        pa.table(
            {
                "leaf_id": pa.array(np.arange(len(cluster_of_leaf)), pa.int64()),
                "ward_cluster": pa.array(cluster_of_leaf, pa.int32()),
            }
        ),
    )
    return leaves.join(F.broadcast(lookup), "leaf_id").select(KEY_COLUMN, "ward_cluster")
