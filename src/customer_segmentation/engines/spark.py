"""The Spark engine: the row passes on pyspark DataFrames (dbt-spark).

Per-row work runs in Spark with ``mapInArrow`` calling the same numpy code as the local
engine (:mod:`customer_segmentation.kernels` for nearest centres and cluster sums,
:meth:`FittedScaler.transform_column` for z-scores). Per-partition partial sums are collected
and added in partition order on the driver, so every pass is deterministic whatever order
Spark finishes its tasks in. What the engines do differently, by design:

- **Lloyd** iterates until an iteration leaves every centre bit-identical (the assignment is
  stable), at most ``clustering.MAX_ITER`` times; scikit-learn stops on its own tolerance.
- **Silhouette** is :class:`pyspark.ml.evaluation.ClusteringEvaluator`'s on every row: the
  *squared* Euclidean silhouette (a and b are mean squared distances), not scikit-learn's;
  values must not be compared across engines. ``silhouette_sample_size`` is null.
- **Micro-clusters** of two-stage Ward are MLlib k-means (k-means||, seed ``random_state``,
  at most 50 iterations) on the same seeded sample of at most 100,000 rows.
- **k diagnostics** ``mllib`` mode (var spark_diagnostics): one MLlib k-means|| per k
  (``n_init`` seeds ``random_state + i`` when set). The default ``driver`` mode collects the
  seeded sample and runs the same diagnostics as the local engine.
- **Positions** (for segment levels) are read against a grid of :data:`POSITION_GRID`
  approximate quantiles per feature (``approxQuantile``, relative error
  :data:`POSITION_RELATIVE_ERROR`), so they agree with the local engine's exact ranks to about
  0.001.
- Results depend on the partition layout as well as the seed: the fit input is laid out in
  ``ceil(n / ROWS_PER_PARTITION)`` partitions by fit_row (set by the data, not the cluster).
  Empty clusters keep their centre (MLlib's rule); scikit-learn moves them to far points.

Needs the ``spark`` extra (``pip install -e '.[spark]'``) and Java 17.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark import TaskContext
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from customer_segmentation.clustering import MAX_ITER, KDiagnostic, seeded_sample
from customer_segmentation.effect_tables import COUNT_COLUMN, table_counts
from customer_segmentation.engines.base import Groups, LloydFit, SegmentIds, two_stage_label
from customer_segmentation.explain import top_feature_names
from customer_segmentation.features import KEY_COLUMN, Z_SUFFIX, to_matrix, z_name
from customer_segmentation.kernels import (
    CLUSTER_SUMS_SCHEMA,
    ClusterSums,
    assignment_columns,
    assignment_sums,
    cluster_sums,
    nearest,
    position_sums,
    standardised_columns,
)
from customer_segmentation.lifecycle import OVERLAP_SCHEMA
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.ward import MICRO_CLUSTER_SAMPLE_ROWS

#: Rows per partition of the fit input: the layout decides an MLlib k-means|| result, so it
#: follows the data, not the cluster.
ROWS_PER_PARTITION = 1_000_000
#: MLlib k-means stops when no centre moves more than this (z units): tiny, so Lloyd runs
#: until the assignment is stable while last-bit noise cannot keep it iterating.
KMEANS_TOL = 1e-12
#: k-means|| rounds (MLlib's default).
INIT_STEPS = 2
#: First stage of two-stage Ward, as :func:`customer_segmentation.ward.micro_clusters`.
MICRO_CLUSTER_MAX_ITER = 50

#: Quantiles per feature that segment positions are read against, and their relative error.
POSITION_GRID = 1001
POSITION_RELATIVE_ERROR = 1e-4

_VECTOR = "_cs_features"
_LABEL = "_cs_label"
_ROW_ID = "_cs_row_id"
_SUMS_DDL = (
    "partition bigint, counts array<bigint>, sums array<double>, squared array<double>, "
    "distance array<double>"
)


def z_columns(df: DataFrame) -> list[str]:
    """The standardised feature columns, in stored (fit) order."""
    return [name for name in df.columns if name.endswith(Z_SUFFIX)]


def _batch_matrix(batch: pa.RecordBatch, columns: Sequence[str]) -> np.ndarray:
    return to_matrix(pa.Table.from_batches([batch]), columns)


def with_fit_row(features: DataFrame, order: str) -> DataFrame:
    """``features`` plus ``fit_row`` (bigint, 0..n-1) in ``order`` (comma-separated columns,
    ascending, NULLs last as in DuckDB). A distributed sort: rows are range-partitioned,
    numbered inside each partition and offset by the sizes of the partitions before them (one
    small collect); checkpointed once so the numbers cannot change on recomputation."""
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


def partition_sums(
    frame: DataFrame, columns: Sequence[str], sums_of: Callable[[pa.RecordBatch], ClusterSums]
) -> ClusterSums:
    """``sums_of`` on every Arrow batch of ``frame`` (only ``columns``), added per partition in
    Spark and then across partitions in partition order here (deterministic)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        total = None
        for batch in batches:
            part = sums_of(batch)
            total = part if total is None else total + part
        if total is not None:
            row = {"partition": TaskContext.get().partitionId(), **total.to_row()}
            yield pa.RecordBatch.from_pylist([row], schema=CLUSTER_SUMS_SCHEMA)

    partials = frame.select(*columns).mapInArrow(run, _SUMS_DDL).toArrow().to_pylist()
    if not partials:
        raise ValueError("no rows to sum")
    partials.sort(key=lambda row: row["partition"])
    d = len(partials[0]["sums"]) // len(partials[0]["counts"])
    total = ClusterSums.from_row(partials[0], d)
    for row in partials[1:]:
        total = total + ClusterSums.from_row(row, d)
    return total


def existing_table(spark: SparkSession, schema: str, identifier: str) -> DataFrame | None:
    """``schema.identifier`` if it exists (e.g. the previous run of a model), else None.

    With non-Delta tables (parquet, as on local Spark) dbt-spark drops a model's table before
    the model runs, so a model cannot read its *own* previous output: ml_previous_fit, which
    runs before ml_kmeans_fit, reads it instead."""
    name = f"{schema}.{identifier}"
    return spark.table(name) if spark.catalog.tableExists(name) else None


def fit_mllib(
    frame: DataFrame, columns: list[str], k: int, seed: int, max_iter: int, tol: float | None = None
) -> Any:
    """MLlib k-means (k-means|| start, :data:`INIT_STEPS`) on ``columns`` of ``frame``: the
    fitted model (features in ``_cs_features``, labels in ``_cs_label``); ``tol`` None keeps
    MLlib's default."""
    estimator = KMeans(
        featuresCol=_VECTOR,
        predictionCol=_LABEL,
        k=k,
        initMode="k-means||",
        initSteps=INIT_STEPS,
        seed=seed,
        maxIter=max_iter,
    )
    if tol is not None:
        estimator = estimator.setTol(tol)
    return estimator.fit(VectorAssembler(inputCols=columns, outputCol=_VECTOR).transform(frame))


class SparkEngine:
    """Row passes on Spark DataFrames (see :class:`customer_segmentation.engines.base.Engine`).

    ``partitions`` overrides the data-derived layout of the fit input.
    """

    name = "spark"

    def __init__(self, spark: SparkSession, partitions: int | None = None) -> None:
        self.spark = spark
        self.partitions = partitions

    # --- small tables ---------------------------------------------------------------------

    def read(
        self,
        relation: DataFrame | pa.Table,
        order: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """A small DataFrame collected to Arrow, only ``columns`` when given (an Arrow table
        is returned as it is, or those columns of it)."""
        if isinstance(relation, pa.Table):
            return relation if columns is None else relation.select(list(columns))
        if columns is not None:
            relation = relation.select(*[F.col(f"`{name}`") for name in columns])
        if order:
            relation = relation.orderBy(*[name.strip() for name in order.split(",")])
        return relation.toArrow()

    def table(self, arrow: pa.Table) -> DataFrame:
        return self.spark.createDataFrame(arrow)

    def count(self, relation: DataFrame) -> int:
        return relation.count()

    def counts(self, relation: DataFrame | pa.Table, columns: Sequence[str]) -> pa.Table:
        """A Spark group-by, collected: only the combinations reach the driver."""
        if isinstance(relation, pa.Table):
            return table_counts(relation)(columns)
        keys = [F.col(f"`{name}`") for name in columns]
        counted = relation.groupBy(*keys).agg(F.count(F.lit(1)).alias(COUNT_COLUMN))
        return counted.toArrow()

    def previous(self, this: Any, identifier: str) -> pa.Table | None:
        if this is None:
            return None
        frame = existing_table(self.spark, this.schema, identifier)
        return None if frame is None else frame.toArrow()

    # --- standardisation ------------------------------------------------------------------

    def fit_scaler(self, rows: DataFrame, names: list[str]) -> FittedScaler:
        """Means and population stds as Spark aggregates (``avg``, ``stddev_pop``); the
        constant-column rule and scale are :class:`FittedScaler`'s own."""
        aggregates = [F.count(F.lit(1)).alias("n")]
        for j, name in enumerate(names):
            value = F.col(name).cast("double")
            aggregates += [F.avg(value).alias(f"mean_{j}"), F.stddev_pop(value).alias(f"std_{j}")]
        row = rows.agg(*aggregates).first()
        if int(row["n"]) == 0:
            raise ValueError("cannot standardise zero rows")
        return FittedScaler(
            feature_names=tuple(names),
            mean=np.array([row[f"mean_{j}"] for j in range(len(names))], dtype=np.float64),
            std=np.array([row[f"std_{j}"] for j in range(len(names))], dtype=np.float64),
            n_samples=int(row["n"]),
        )

    def standardise(self, rows: DataFrame, scaler: FittedScaler, order: str) -> DataFrame:
        """fit_row (from ``rows`` when it has one, else numbered in ``order``), customer_id,
        ``<feature>_z`` by :meth:`FittedScaler.transform_column` on each Arrow batch."""
        if "fit_row" not in rows.columns:
            rows = with_fit_row(rows, order)
        names = list(scaler.feature_names)
        reporter("ml_customer_features_z")(
            f"(spark) standardising customers × {len(names)} features"
        )

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                fit_row = batch.column("fit_row").cast(pa.int64())
                yield pa.RecordBatch.from_pydict(standardised_columns(batch, fit_row, scaler))

        schema = ", ".join(
            ["fit_row bigint", f"{KEY_COLUMN} string"] + [f"{z_name(n)} double" for n in names]
        )
        selected = rows.select("fit_row", KEY_COLUMN, *[F.col(n).cast("double") for n in names])
        return selected.mapInArrow(run, schema)

    # --- the fit input ----------------------------------------------------------------------

    def layout(self, z: DataFrame, rows: np.ndarray | None = None) -> tuple[DataFrame, int]:
        """fit_row and the z columns (optionally only the fit_rows in ``rows``), range-
        partitioned and sorted by fit_row, persisted; and the row count."""
        frame = self._fit_rows(z, rows)
        n = len(rows) if rows is not None else frame.count()
        partitions = self.partitions or max(1, math.ceil(n / ROWS_PER_PARTITION))
        laid_out = frame.repartitionByRange(partitions, "fit_row").sortWithinPartitions("fit_row")
        laid_out = laid_out.persist()
        if laid_out.count() != n:
            laid_out.unpersist()
            raise ValueError(f"sample of {n} fit_rows matched another number of rows")
        return laid_out, n

    def _fit_rows(self, z: DataFrame, rows: np.ndarray | None) -> DataFrame:
        """fit_row and the z columns of ``z``, only the fit_rows in ``rows`` when given."""
        frame = z.select("fit_row", *z_columns(z))
        if rows is None:
            return frame
        wanted = self.table(pa.table({"fit_row": pa.array(rows, pa.int64())}))
        return frame.join(F.broadcast(wanted), "fit_row")

    def matrix(self, z: DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        frame = self._fit_rows(z, rows)
        return to_matrix(frame.orderBy("fit_row").toArrow(), z_columns(z))

    def sums(self, frame: DataFrame, centres: np.ndarray) -> ClusterSums:
        """One E-step over ``frame``: nearest centre per row and the per-cluster sums."""
        columns = z_columns(frame)
        return partition_sums(
            frame, columns, lambda batch: assignment_sums(_batch_matrix(batch, columns), centres)
        )

    # --- k-means ----------------------------------------------------------------------------

    def _lloyd(self, frame: DataFrame, start: np.ndarray, max_iter: int = MAX_ITER):
        centroids = np.array(start, dtype=np.float64, copy=True)
        for iteration in range(1, max_iter + 1):
            sums = self.sums(frame, centroids)
            updated = sums.means(centroids)
            moved = not np.array_equal(updated, centroids)
            centroids = updated
            if not moved:
                return centroids, sums, iteration, True
        return centroids, self.sums(frame, centroids), max_iter, False

    def lloyd(self, z: DataFrame, start: np.ndarray, settings: SegmentationSettings) -> LloydFit:
        """Lloyd on every row from ``start``, one Spark pass per iteration (see the module)."""
        frame, n = self.layout(z)
        try:
            centroids, sums, n_iter, converged = self._lloyd(frame, start)
            silhouette = None
            if 2 <= sums.distinct < n:
                silhouette = self.silhouette(frame, centroids)
        finally:
            frame.unpersist()
        return LloydFit(
            centroids=centroids,
            sizes=sums.counts,
            wcss=sums.wcss,
            n_iter=n_iter,
            converged=converged,
            silhouette=silhouette,
            silhouette_sample_size=None,
            n_rows=n,
        )

    def _labelled(self, frame: DataFrame, centres: np.ndarray) -> DataFrame:
        """The z columns plus the nearest centre's index (double) and an MLlib vector."""
        columns = z_columns(frame)

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                label = nearest(_batch_matrix(batch, columns), centres).segment
                yield batch.append_column(_LABEL, pa.array(label.astype(np.float64)))

        schema = ", ".join([f"{name} double" for name in columns] + [f"{_LABEL} double"])
        labelled = frame.select(*columns).mapInArrow(run, schema)
        return VectorAssembler(inputCols=columns, outputCol=_VECTOR).transform(labelled)

    def silhouette(self, frame: DataFrame, centres: np.ndarray) -> float:
        """ClusteringEvaluator's squared-Euclidean silhouette of the nearest-centre labels."""
        evaluator = ClusteringEvaluator(
            featuresCol=_VECTOR,
            predictionCol=_LABEL,
            metricName="silhouette",
            distanceMeasure="squaredEuclidean",
        )
        return float(evaluator.evaluate(self._labelled(frame, centres)))

    def mean_positions(self, z: DataFrame, centres: np.ndarray) -> np.ndarray:
        """Positions against each feature's quantile grid (see the module), summed per
        nearest centre in every partition and added in partition order."""
        columns = z_columns(z)
        probabilities = np.linspace(0.0, 1.0, POSITION_GRID).tolist()
        grid = z.approxQuantile(columns, probabilities, POSITION_RELATIVE_ERROR)
        reference = np.sort(np.array(grid, dtype=np.float64).T, axis=0)

        def sums_of(batch: pa.RecordBatch) -> ClusterSums:
            return position_sums(_batch_matrix(batch, columns), centres, reference)

        sums = partition_sums(z, columns, sums_of)
        return sums.means(np.full(centres.shape, np.nan))

    def assign(
        self, z: DataFrame, centres: np.ndarray, ids: SegmentIds = None, groups: Groups = None
    ) -> DataFrame:
        """customer_id, segment_id (``ids``, default 1-based positions), distance_to_centroid,
        second_segment_id, distance_to_second_centroid, margin and, with ``groups``, the
        margin's top features (:func:`kernels.assignment_columns` per batch: the same numpy
        arithmetic and tie rule as the local engine, in the same pass)."""
        columns = z_columns(z)
        reporter("ml_customer_assignments")(
            f"(spark) nearest of {centres.shape[0]} centroids per customer"
        )

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                keys = batch.column(KEY_COLUMN).cast(pa.string())
                matrix = _batch_matrix(batch, columns)
                found = assignment_columns(keys, matrix, centres, ids, groups)
                yield pa.RecordBatch.from_pydict(found)

        schema = (
            f"{KEY_COLUMN} string, segment_id int, distance_to_centroid double, "
            "second_segment_id int, distance_to_second_centroid double, margin double"
        )
        if groups is not None:
            schema += "".join(
                f", {name} {'double' if name.endswith('_contribution') else 'string'}"
                for name in top_feature_names()
            )
        return z.select(KEY_COLUMN, *columns).mapInArrow(run, schema)

    def overlap(self, z: DataFrame, centres: np.ndarray, previous: DataFrame) -> pa.Table:
        """Customers in both runs per nearest centre position (0-based) and previous segment
        id (:data:`lifecycle.OVERLAP_SCHEMA`): a join and a group-by in Spark, k x k_prev
        rows collected."""
        current = self.assign(z, centres).select(
            F.col(KEY_COLUMN), (F.col("segment_id") - 1).cast("int").alias("segment_position")
        )
        before = previous.select(
            F.col(KEY_COLUMN).cast("string").alias(KEY_COLUMN),
            F.col("segment_id").cast("int").alias("previous_segment_id"),
        )
        cells = (
            current.join(before, KEY_COLUMN)
            .groupBy("segment_position", "previous_segment_id")
            .agg(F.count(F.lit(1)).alias("count_customers"))
            .orderBy("segment_position", "previous_segment_id")
        )
        return cells.toArrow().cast(OVERLAP_SCHEMA)

    # --- Ward leaves ------------------------------------------------------------------------

    def exact_leaves(self, z: DataFrame) -> DataFrame:
        return z.select(
            F.col("fit_row").cast("bigint").alias("fit_row"),
            F.col(KEY_COLUMN),
            F.col("fit_row").cast("bigint").alias("leaf_id"),
            F.lit("exact").alias("linkage_method"),
        )

    def micro_leaves(self, z: DataFrame, n_micro: int, settings: SegmentationSettings) -> DataFrame:
        """MLlib k-means micro-clusters fitted on the seeded sample, every row assigned; empty
        micro-clusters dropped and the rest numbered densely 0..m-1 in MLlib's order."""
        columns = z_columns(z)
        rows = seeded_sample(self.count(z), MICRO_CLUSTER_SAMPLE_ROWS, settings.random_state)
        sample, _ = self.layout(z, rows)
        try:
            seed = settings.random_state
            model = fit_mllib(sample, columns, n_micro, seed, MICRO_CLUSTER_MAX_ITER)
        finally:
            sample.unpersist()
        everyone = VectorAssembler(inputCols=columns, outputCol=_VECTOR).transform(
            z.select(F.col("fit_row").cast("bigint").alias("fit_row"), KEY_COLUMN, *columns)
        )
        predicted = model.transform(everyone).select("fit_row", KEY_COLUMN, _LABEL).persist()
        try:
            used = sorted(int(r[0]) for r in predicted.select(_LABEL).distinct().collect())
            dense = self.table(
                pa.table(
                    {
                        _LABEL: pa.array(used, pa.int32()),
                        "leaf_id": pa.array(np.arange(len(used)), pa.int64()),
                    }
                )
            )
            method = two_stage_label(len(used), "Spark MLlib")
            leaves = (
                predicted.join(F.broadcast(dense), _LABEL)
                .select("fit_row", KEY_COLUMN, "leaf_id", F.lit(method).alias("linkage_method"))
                .localCheckpoint(eager=True)
            )
        finally:
            predicted.unpersist()
        return leaves

    def linkage_method(self, leaves: DataFrame) -> str:
        return leaves.select("linkage_method").first()[0]

    def leaf_sums(self, z: DataFrame, leaves: DataFrame) -> ClusterSums:
        columns = z_columns(z)
        m = int(leaves.agg(F.max("leaf_id")).first()[0]) + 1
        joined = z.select("fit_row", *columns).join(leaves.select("fit_row", "leaf_id"), "fit_row")

        def sums_of(batch: pa.RecordBatch) -> ClusterSums:
            labels = batch.column("leaf_id").to_numpy().astype(np.int64)
            return cluster_sums(_batch_matrix(batch, columns), labels, m)

        return partition_sums(joined, [*columns, "leaf_id"], sums_of)

    def join_clusters(self, leaves: DataFrame, lookup: pa.Table) -> DataFrame:
        return leaves.join(F.broadcast(self.table(lookup)), "leaf_id").select(
            KEY_COLUMN, "ward_cluster"
        )

    # --- k diagnostics, mllib mode ------------------------------------------------------------

    def mllib_diagnostics(
        self, z: DataFrame, settings: SegmentationSettings, rows: np.ndarray | None
    ) -> tuple[list[KDiagnostic], int]:
        """Per k, MLlib k-means|| (seeds random_state + i for the n_init var, else one) on the
        (sampled) rows; k = 1 is the column means. WCSS, Calinski-Harabasz and Davies-Bouldin
        from one E-step pass per k, silhouette from ClusteringEvaluator on every row."""
        from customer_segmentation.engines.spark_metrics import diagnose_with_mllib

        return diagnose_with_mllib(self, z, settings, rows)
