"""The local engine: DuckDB relations (dbt-duckdb) or Arrow tables, numpy and scikit-learn.

A relation is read into Arrow once, in the order asked for (the sort runs in DuckDB), and
every pass then runs on numpy arrays in this process. Lloyd is scikit-learn's (``KMeans``
from the given centres, ``n_init`` 1); the silhouette is scikit-learn's, on a seeded sample
above ``silhouette_max_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.metrics import silhouette_score

from customer_segmentation.clustering import fit_kmeans
from customer_segmentation.effect_tables import COUNT_COLUMN, table_counts
from customer_segmentation.engines.base import Groups, LloydFit, Rows, SegmentIds, two_stage_label
from customer_segmentation.features import KEY_COLUMN, Z_SUFFIX, to_matrix, z_columns, z_name
from customer_segmentation.kernels import (
    ClusterSums,
    assignment_columns,
    cluster_sums,
    exact_position_sums,
    nearest,
    standardised_columns,
)
from customer_segmentation.lifecycle import OVERLAP_SCHEMA
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.threads import native_threads_for
from customer_segmentation.ward import micro_clusters
from customer_segmentation.warehouse import existing_table, quoted_identifier


def _sorted(table: pa.Table, order: str) -> pa.Table:
    """An Arrow table in ``order`` (comma-separated columns, ascending, NULLs last: DuckDB's)."""
    keys = [(name.strip(), "ascending") for name in order.split(",") if name.strip()]
    return table.sort_by(keys)  # Arrow puts nulls last by default, as DuckDB does


class LocalEngine:
    """Row passes in this process (see :class:`customer_segmentation.engines.base.Engine`).

    ``connection`` is the dbt-duckdb session (a DuckDB connection), used only to read a
    model's previous table; None in tests that pass Arrow tables.
    """

    name = "duckdb"

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection
        self._read: dict[tuple, tuple[Any, pa.Table]] = {}
        #: per z relation: (the relation, its key columns, its (n, d) matrix), read once
        self._zs: dict[int, tuple[Any, pa.Table, np.ndarray]] = {}
        #: per (z relation, final centres): the labels of the Lloyd fit that ended there
        self._labels: dict[tuple[int, bytes], np.ndarray] = {}

    def read(
        self, relation: Rows, order: str | None = None, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """Arrow, read once per (relation, order, columns): a DuckDB relation re-runs on every
        read. ``columns`` reads only those (a wide mart at 10M rows costs seconds per column)."""
        key = (id(relation), order, None if columns is None else tuple(columns))
        if key not in self._read:
            if isinstance(relation, pa.Table):
                table = relation if order is None else _sorted(relation, order)
                table = table if columns is None else table.select(list(columns))
            else:
                query = relation.order(order) if order else relation
                if columns is not None:
                    query = query.select(*[duckdb.ColumnExpression(c) for c in columns])
                table = query.to_arrow_table()
            self._read[key] = (relation, table)  # the relation is kept so its id stays unique
        return self._read[key][1]

    def table(self, arrow: pa.Table) -> pa.Table:
        return arrow

    def count(self, relation: Rows) -> int:
        """Rows of ``relation``: a count query for a DuckDB relation (no read of its rows)."""
        if isinstance(relation, pa.Table):
            return relation.num_rows
        cached = self._cached(relation)
        if cached is not None:
            return cached.num_rows
        if id(relation) in self._zs:
            return self._zs[id(relation)][1].num_rows
        return int(relation.aggregate("count(*)").fetchall()[0][0])

    def counts(self, relation: Rows, columns: Sequence[str]) -> pa.Table:
        """A DuckDB group-by (an Arrow table: pyarrow's), so only the combinations are read."""
        if isinstance(relation, pa.Table):
            return table_counts(relation)(columns)
        keys = ", ".join(quoted_identifier(name) for name in columns)
        counted = relation.aggregate(f"{keys}, count(*) as {COUNT_COLUMN}", keys)
        return counted.to_arrow_table()

    def _cached(self, relation: Rows) -> pa.Table | None:
        """The Arrow table of ``relation`` if one read already holds every row and column."""
        for (key, _, columns), (_, table) in self._read.items():
            if key == id(relation) and columns is None:
                return table
        return None

    def previous(self, this: Any, identifier: str) -> pa.Table | None:
        if self.connection is None or this is None:
            return None
        return existing_table(self.connection, this.database, this.schema, identifier)

    def fit_scaler(self, rows: Rows, names: list[str]) -> FittedScaler:
        """Moments from the columns as stored: they do not depend on the row order
        (:func:`customer_segmentation.scaling.moments`), so the rows are not sorted. A
        column that is not a number DuckDB hands over as is (e.g. DECIMAL) is cast to DOUBLE
        in DuckDB, as :meth:`standardise` casts it."""
        if isinstance(rows, pa.Table):
            table = rows.select(names)
        else:
            table = rows.select(*_as_numbers(rows, names)).to_arrow_table()
        return FittedScaler.fit_columns([_column_values(table[name]) for name in names], names)

    def standardise(self, rows: Rows, scaler: FittedScaler, order: str) -> Rows:
        """fit_row (0..n-1 in ``order``), customer_id, one ``<feature>_z`` per scaler feature.

        From a DuckDB relation this is a DuckDB relation: numbering, z-scores and the write
        all run in DuckDB, in parallel (at 10M × 13, 9.4 s where reading the sorted rows into
        Python and writing them back took 13.8 s). ``(x - mean) / scale`` in double precision
        is the same IEEE arithmetic as :meth:`FittedScaler.transform_column`, so the z-scores
        have the same bits either way."""
        n = self.count(rows)
        reporter("ml_customer_features_z")(
            f"standardising {n:,} customers × {len(scaler.feature_names)} features"
        )
        if not isinstance(rows, pa.Table):
            return _standardised_relation(rows, scaler, order)
        features = self.read(rows, order)
        fit_row = pa.array(np.arange(features.num_rows, dtype=np.int64))
        return pa.table(standardised_columns(features, fit_row, scaler))

    def _z(self, z: Rows) -> pa.Table:
        """fit_row and customer_id of ``z`` in fit_row order (see :meth:`matrix`)."""
        return self._z_read(z)[1]

    def _z_read(self, z: Rows) -> tuple[Any, pa.Table, np.ndarray]:
        if id(z) not in self._zs:
            if isinstance(z, pa.Table):
                keys = z.select([c for c in ("fit_row", KEY_COLUMN) if c in z.column_names])
                self._zs[id(z)] = (z, keys, to_matrix(z, z_columns(z)))
            else:
                self._zs[id(z)] = (z, *_streamed_z(z))
        return self._zs[id(z)]

    def matrix(self, z: Rows, rows: np.ndarray | None = None) -> np.ndarray:
        """The z matrix (n, d) in fit_row order, read once per relation, or only its ``rows``
        (sorted fit_row values): from a DuckDB relation not yet read, only those rows are
        read (the diagnostics' and the stability's samples at 10M customers: 50,000 and
        20,000 rows, not 10M)."""
        if rows is not None and not isinstance(z, pa.Table) and id(z) not in self._zs:
            picked = pa.table({"fit_row": pa.array(rows, pa.int64())})
            sample = self.connection.from_arrow(picked)
            table = z.join(sample, "fit_row").order("fit_row").to_arrow_table()
            return to_matrix(table, z_columns(table))
        matrix = self._z_read(z)[2]
        return matrix if rows is None else matrix[rows]

    def lloyd(self, z: Rows, start: np.ndarray, settings: SegmentationSettings) -> LloydFit:
        """scikit-learn's Lloyd from ``start``; silhouette on a seeded sample when large."""
        matrix = self.matrix(z)
        k = start.shape[0]
        fit = fit_kmeans(
            matrix, k, n_init=1, random_state=settings.random_state, initial_centroids=start
        )
        silhouette, sample = _silhouette(matrix, fit.labels, settings)
        self._labels[(id(z), np.asarray(fit.centroids, np.float64).tobytes())] = fit.labels
        return LloydFit(
            centroids=fit.centroids,
            sizes=np.bincount(fit.labels, minlength=k),
            wcss=fit.wcss,
            n_iter=fit.n_iter,
            converged=fit.converged,
            silhouette=silhouette,
            silhouette_sample_size=sample,
            n_rows=matrix.shape[0],
        )

    def mean_positions(self, z: Rows, centres: np.ndarray) -> np.ndarray:
        """Exact positions: the reference is every row (:func:`exact_position_sums`), summed
        per the labels of the Lloyd fit that ended at ``centres`` (the ones its sizes count),
        else per nearest centre."""
        labels = self._labels.get((id(z), np.asarray(centres, np.float64).tobytes()))
        sums = exact_position_sums(self.matrix(z), centres, labels)
        return sums.means(np.full(centres.shape, np.nan))

    def assign(
        self, z: Rows, centres: np.ndarray, ids: SegmentIds = None, groups: Groups = None
    ) -> pa.Table:
        table = self._z(z)
        reporter("ml_customer_assignments")(
            f"nearest of {centres.shape[0]} centroids for {table.num_rows:,} customers"
        )
        matrix = self.matrix(z)
        return pa.table(assignment_columns(table[KEY_COLUMN], matrix, centres, ids, groups))

    def overlap(self, z: Rows, centres: np.ndarray, previous: Rows) -> pa.Table:
        """Customers in both ``z`` and ``previous`` (customer_id, segment_id) per nearest
        centre position (0-based) and previous segment id (:data:`lifecycle.OVERLAP_SCHEMA`)."""
        table = self._z(z)
        found = nearest(self.matrix(z), centres)
        current = pa.table(
            {KEY_COLUMN: table[KEY_COLUMN], "segment_position": pa.array(found.segment, pa.int32())}
        )
        before = self.read(previous).select([KEY_COLUMN, "segment_id"])
        before = before.rename_columns([KEY_COLUMN, "previous_segment_id"])
        joined = current.join(
            before.cast(
                pa.schema([(KEY_COLUMN, pa.string()), ("previous_segment_id", pa.int32())])
            ),
            KEY_COLUMN,
        )
        cells = joined.group_by(["segment_position", "previous_segment_id"]).aggregate(
            [(KEY_COLUMN, "count")]
        )
        cells = cells.rename_columns(["segment_position", "previous_segment_id", "count_customers"])
        return cells.cast(OVERLAP_SCHEMA).sort_by(
            [("segment_position", "ascending"), ("previous_segment_id", "ascending")]
        )

    def _leaves(self, z: Rows, leaf: np.ndarray, method: str) -> pa.Table:
        table = self._z(z)
        return pa.table(
            {
                "fit_row": table["fit_row"],
                KEY_COLUMN: table[KEY_COLUMN],
                "leaf_id": pa.array(leaf, pa.int64()),
                # One value for every row: dictionary-encoded, not n Python strings.
                "linkage_method": pa.DictionaryArray.from_arrays(
                    pa.array(np.zeros(len(leaf), dtype=np.int32)), pa.array([method], pa.string())
                ),
            }
        )

    def exact_leaves(self, z: Rows) -> pa.Table:
        return self._leaves(z, np.arange(self.count(z), dtype=np.int64), "exact")

    def micro_leaves(self, z: Rows, n_micro: int, settings: SegmentationSettings) -> pa.Table:
        leaf = micro_clusters(self.matrix(z), n_micro, random_state=settings.random_state)
        return self._leaves(z, leaf, two_stage_label(int(leaf.max()) + 1))

    def linkage_method(self, leaves: Rows) -> str:
        """The first row's value (every row has the same): one row read, not every leaf."""
        first = leaves.slice(0, 1) if isinstance(leaves, pa.Table) else leaves.limit(1)
        return self.read(first, columns=["linkage_method"])["linkage_method"][0].as_py()

    def leaf_sums(self, z: Rows, leaves: Rows) -> ClusterSums:
        """Sums in fit_row order; only fit_row and leaf_id of the leaves are read, and they
        are sorted only when not stored in that order."""
        leaf = self.read(leaves, columns=["fit_row", "leaf_id"])
        fit_row, labels = leaf["fit_row"].to_numpy(), leaf["leaf_id"].to_numpy()
        if fit_row.size > 1 and not bool(np.all(fit_row[1:] > fit_row[:-1])):
            labels = labels[np.argsort(fit_row, kind="stable")]
        return cluster_sums(self.matrix(z), labels, int(labels.max()) + 1)

    def join_clusters(self, leaves: Rows, lookup: pa.Table) -> pa.Table:
        table = self.read(leaves)
        cluster_of_leaf = np.zeros(int(lookup["leaf_id"].to_numpy().max()) + 1, dtype=np.int32)
        cluster_of_leaf[lookup["leaf_id"].to_numpy()] = lookup["ward_cluster"].to_numpy()
        return pa.table(
            {
                KEY_COLUMN: table[KEY_COLUMN],
                "ward_cluster": pa.array(cluster_of_leaf[table["leaf_id"].to_numpy()], pa.int32()),
            }
        )


#: Rows per batch of a streamed read: the export's transient memory is one batch, not the table.
_BATCH_ROWS = 131_072


def _streamed(
    relation: Any, names: Sequence[str], keep: Sequence[str]
) -> tuple[pa.Table, np.ndarray]:
    """The ``keep`` columns (Arrow) and the (n, d) float64 matrix of the ``names`` columns of
    a DuckDB relation, in its row order.

    Rows stream in batches into the preallocated row-major matrix, one column at a time: a
    batch's block of the matrix stays in cache while its columns are written. At 10M × 13 (2
    cores) that is 0.9 s, where DuckDB packing each row into one fixed-size list took 4.2 s.
    The ``keep`` columns are copied out of each batch: an exported batch is freed only when
    none of its columns is referenced, so keys kept as exported would hold every batch (the
    whole table), and a whole-table export would double the matrix while it is copied."""
    query = relation.select(*[duckdb.ColumnExpression(c) for c in dict.fromkeys([*keep, *names])])
    n = int(relation.aggregate("count(*)").fetchall()[0][0])
    matrix = np.empty((n, len(names)))
    kept: dict[str, list[pa.Array]] = {name: [] for name in keep}
    at = 0
    # to_arrow_reader from DuckDB 1.4 on; fetch_record_batch before (deprecated in 2.0)
    reader = getattr(query, "to_arrow_reader", None) or query.fetch_record_batch
    batches = reader(_BATCH_ROWS)
    for batch in batches:
        block = matrix[at : at + batch.num_rows]
        for j, name in enumerate(names):
            block[:, j] = _doubles(batch.column(name))
        for name in keep:
            kept[name].append(_copied(batch.column(name)))
        at += batch.num_rows
    if at != n:
        raise RuntimeError(f"streamed read: {at:,} rows, {n:,} counted")
    schema = pa.schema([batches.schema.field(name) for name in keep])
    owned = {name: pa.chunked_array(kept[name], schema.field(name).type) for name in keep}
    return pa.table(owned, schema=schema), matrix


def _as_numbers(relation: Any, names: Sequence[str]) -> list[Any]:
    """Select expressions of ``names``: integers, booleans and doubles as they are, any other
    type cast to DOUBLE in DuckDB."""
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    return [
        duckdb.ColumnExpression(name)
        if types.get(name) in _NATIVE_NUMBERS
        else duckdb.SQLExpression(f"cast({quoted_identifier(name)} as double)").alias(name)
        for name in names
    ]


#: DuckDB types whose Arrow values numpy takes as they are
_NATIVE_NUMBERS = {
    "DOUBLE", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT",
    "UTINYINT", "BOOLEAN",
}  # fmt: skip


def _standardised_relation(relation: Any, scaler: FittedScaler, order: str) -> Any:
    """The z relation in SQL: fit_row from ``row_number()`` over ``order``, stored in fit_row
    order; the fitted means and scales as exact double literals (the shortest decimal that
    reads back as the same double)."""
    keys = ", ".join(quoted_identifier(name.strip()) for name in order.split(",") if name.strip())
    key = quoted_identifier(KEY_COLUMN)
    columns = [
        f"row_number() over (order by {keys}) - 1 as fit_row",
        f"cast({key} as varchar) as {key}",
    ]
    for j, name in enumerate(scaler.feature_names):
        mean, scale = _double(scaler.mean[j]), _double(scaler.scale[j])
        value = f"cast({quoted_identifier(name)} as double)"
        columns.append(f"({value} - {mean}) / {scale} as {quoted_identifier(z_name(name))}")
    return relation.project(", ".join(columns)).order("fit_row")


def _double(value: float) -> str:
    """A double as an exact SQL literal: Python's repr reads back as the same double."""
    return f"'{float(value)!r}'::double"


def _column_values(column: pa.ChunkedArray) -> list[np.ndarray]:
    """The chunks of a feature column as numpy: integers and booleans as they are (their sums
    are exact in int64), anything else as float64 (a DECIMAL value rounded once, as DuckDB's
    cast to DOUBLE does). No copy for numbers without NULLs."""
    exact = pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)
    return [
        chunk.to_numpy(zero_copy_only=False)
        if exact and chunk.null_count == 0
        else np.asarray(chunk.to_numpy(zero_copy_only=False), dtype=np.float64)
        for chunk in column.chunks
    ]


def _doubles(column: pa.Array) -> np.ndarray:
    """float64 values of a numeric or boolean Arrow column, NULL as NaN (DuckDB's cast)."""
    if column.type != pa.float64():
        column = pc.cast(column, pa.float64(), safe=False)
    return column.to_numpy(zero_copy_only=False)


def _copied(column: pa.Array) -> pa.Array:
    """``column`` in buffers of its own (concat_arrays copies, even a single array)."""
    return pa.concat_arrays([column])


def _streamed_z(relation: Any) -> tuple[pa.Table, np.ndarray]:
    """fit_row and customer_id (Arrow) and the (n, d) z matrix of a DuckDB relation, in
    fit_row order: rows come in stored order (fit_row order for the table the z model
    wrote) and are sorted only when they are not."""
    names = [c for c in relation.columns if c.endswith(Z_SUFFIX)]
    table, matrix = _streamed(relation, names, ["fit_row", KEY_COLUMN])
    fit_row = table["fit_row"].to_numpy()
    if fit_row.size > 1 and not bool(np.all(fit_row[1:] > fit_row[:-1])):
        order = np.argsort(fit_row, kind="stable")
        table, matrix = table.take(pa.array(order)), matrix[order]
    return table, matrix


def _silhouette(
    z: np.ndarray, labels: np.ndarray, settings: SegmentationSettings
) -> tuple[float | None, int | None]:
    """scikit-learn's silhouette of ``labels``; a seeded sample above silhouette_max_rows."""
    distinct = len(np.unique(labels))
    if not 2 <= distinct < z.shape[0]:
        return None, None
    sample = None if z.shape[0] <= settings.silhouette_max_rows else settings.silhouette_sample_size
    with native_threads_for(sample or z.shape[0]):
        score = silhouette_score(z, labels, sample_size=sample, random_state=settings.random_state)
    return float(score), sample
