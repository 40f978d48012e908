"""The numpy kernels every engine runs on its rows: nearest centres and per-cluster sums.

The local engine calls them on the whole matrix (in chunks), the Spark engine on each Arrow
batch inside ``mapInArrow``: one implementation, so both engines compute the same numbers for
the same rows. Everything here is z units; ``n`` rows, ``d`` features, ``k`` centres.

Squared distances are summed feature by feature (``((z - c) ** 2).sum(axis=1)``), not with the
one-GEMM identity ``|z|² - 2 z·c + |c|²``: the identity cancels catastrophically for rows near a
centre and would make distances disagree with SQL scoring (``score_customers`` sums the same
squared differences) in the last bits. The GEMM is cheaper only above ~50 centres; this
project's k is at most tens, and micro-clusters use scikit-learn's own chunked search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from customer_segmentation.explain import FeatureGroups, explanation_columns
from customer_segmentation.features import KEY_COLUMN, z_name
from customer_segmentation.ranks import tie_runs

if TYPE_CHECKING:
    from customer_segmentation.scaling import FittedScaler

#: Rows per chunk of :func:`nearest`: each chunk's temporaries stay in cache (10M × 13 rows,
#: k = 8: 8.8 s with chunks of 1M rows, 4.8 s with 16,384; the same arithmetic, same bits).
CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class Nearest:
    """Nearest and runner-up centre of n rows (k >= 1).

    Attributes
    ----------
    segment : (n,) int64, 0-based index of the nearest centre (lowest index on exact ties).
    squared : (n,) squared distance to it.
    second_segment : (n,) int64, the runner-up index, -1 when k = 1.
    second_squared : (n,) squared distance to the runner-up, NaN when k = 1.
    """

    segment: np.ndarray
    squared: np.ndarray
    second_segment: np.ndarray
    second_squared: np.ndarray

    @property
    def distance(self) -> np.ndarray:
        return np.sqrt(self.squared)

    @property
    def second_distance(self) -> np.ndarray:
        return np.sqrt(self.second_squared)

    @property
    def margin(self) -> np.ndarray:
        """second_distance - distance: how clearly a row belongs to its nearest centre."""
        return self.second_distance - self.distance


def squared_distances(z: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(n, k) squared Euclidean distances of rows ``z`` (n, d) to ``centres`` (k, d)."""
    squared = np.empty((z.shape[0], centres.shape[0]))
    for j in range(centres.shape[0]):
        squared[:, j] = ((z - centres[j]) ** 2).sum(axis=1)
    return squared


def nearest(z: np.ndarray, centres: np.ndarray, chunk_rows: int = CHUNK_ROWS) -> Nearest:
    """Nearest and second-nearest centre per row (stable: ties go to the lower index)."""
    n, k = z.shape[0], centres.shape[0]
    segment = np.empty(n, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    squared = np.empty(n)
    second_squared = np.full(n, np.nan)
    for start in range(0, n, chunk_rows):
        block = squared_distances(z[start : start + chunk_rows], centres)
        order = np.argsort(block, axis=1, kind="stable")
        rows = np.arange(block.shape[0])
        end = start + block.shape[0]
        segment[start:end] = order[:, 0]
        squared[start:end] = block[rows, order[:, 0]]
        if k > 1:
            second[start:end] = order[:, 1]
            second_squared[start:end] = block[rows, order[:, 1]]
    return Nearest(segment, squared, second, second_squared)


@dataclass(frozen=True)
class ClusterSums:
    """Sufficient statistics of n rows grouped into m clusters (d features).

    Attributes
    ----------
    counts : (m,) int64 rows per cluster.
    sums : (m, d) sum of the rows per cluster.
    squared : (m,) sum of squared distances to the cluster's centre (0 when no centre given).
    distance : (m,) sum of distances to the cluster's centre (0 when no centre given).
    """

    counts: np.ndarray
    sums: np.ndarray
    squared: np.ndarray
    distance: np.ndarray

    @classmethod
    def zeros(cls, m: int, d: int) -> ClusterSums:
        return cls(np.zeros(m, np.int64), np.zeros((m, d)), np.zeros(m), np.zeros(m))

    def __add__(self, other: ClusterSums) -> ClusterSums:
        return ClusterSums(
            self.counts + other.counts,
            self.sums + other.sums,
            self.squared + other.squared,
            self.distance + other.distance,
        )

    @property
    def wcss(self) -> float:
        return float(self.squared.sum())

    @property
    def distinct(self) -> int:
        """Clusters with at least one row."""
        return int((self.counts > 0).sum())

    def means(self, fallback: np.ndarray) -> np.ndarray:
        """(m, d) cluster means; an empty cluster keeps its ``fallback`` row."""
        out = np.array(fallback, dtype=np.float64, copy=True)
        filled = self.counts > 0
        out[filled] = self.sums[filled] / self.counts[filled, None]
        return out

    def to_row(self) -> dict:
        """One Arrow-able row (lists), for shipping partial sums from a Spark partition."""
        return {
            "counts": self.counts.tolist(),
            "sums": self.sums.ravel().tolist(),
            "squared": self.squared.tolist(),
            "distance": self.distance.tolist(),
        }

    @classmethod
    def from_row(cls, row: dict, d: int) -> ClusterSums:
        return cls(
            np.asarray(row["counts"], np.int64),
            np.asarray(row["sums"], np.float64).reshape(-1, d),
            np.asarray(row["squared"], np.float64),
            np.asarray(row["distance"], np.float64),
        )


#: The Arrow schema of :meth:`ClusterSums.to_row` plus the partition it came from.
CLUSTER_SUMS_SCHEMA = pa.schema(
    [
        ("partition", pa.int64()),
        ("counts", pa.list_(pa.int64())),
        ("sums", pa.list_(pa.float64())),
        ("squared", pa.list_(pa.float64())),
        ("distance", pa.list_(pa.float64())),
    ]
)


def cluster_sums(z: np.ndarray, labels: np.ndarray, m: int, squared=None) -> ClusterSums:
    """Per-cluster counts and sums of ``z`` (n, d) by ``labels`` (n,) in 0..m-1; with
    ``squared`` (n,) squared distances to each row's centre, their sums and root sums too."""
    counts = np.bincount(labels, minlength=m).astype(np.int64)
    sums = np.column_stack(
        [np.bincount(labels, weights=z[:, j], minlength=m) for j in range(z.shape[1])]
    ).reshape(m, z.shape[1])
    if squared is None:
        return ClusterSums(counts, sums, np.zeros(m), np.zeros(m))
    return ClusterSums(
        counts,
        sums,
        np.bincount(labels, weights=squared, minlength=m),
        np.bincount(labels, weights=np.sqrt(squared), minlength=m),
    )


def assignment_sums(z: np.ndarray, centres: np.ndarray) -> ClusterSums:
    """One Lloyd E-step on ``z``: nearest centre per row, then :func:`cluster_sums`."""
    found = nearest(z, centres)
    return cluster_sums(z, found.segment, centres.shape[0], found.squared)


def positions_among(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each value's mid-rank position in its column of ``reference``, in [0, 1].

    Position = (share of reference values below + share at most the value) / 2: 0.5 is the
    median customer, ties share their middle rank, so a column that is mostly zeros puts a
    zero near the middle of the zeros, not at 0. Monotone transforms (z-scoring, log1p) do
    not change it, so z units give the same positions as original units.

    Parameters
    ----------
    values : (n, d) rows to place.
    reference : (m, d), each column sorted ascending: every row of the population (exact
        positions) or a quantile grid of it (positions to about 1 / m).
    """
    out = np.empty(values.shape, dtype=np.float64)
    m = reference.shape[0]
    for j in range(values.shape[1]):
        below = np.searchsorted(reference[:, j], values[:, j], "left")
        at_most = np.searchsorted(reference[:, j], values[:, j], "right")
        out[:, j] = (below + at_most) / (2.0 * m)
    return out


def position_sums(z: np.ndarray, centres: np.ndarray, reference: np.ndarray) -> ClusterSums:
    """Per nearest centre: counts and sums of the rows' :func:`positions_among` ``reference``
    (z, reference in z units; sums / counts = the mean position of a segment's rows)."""
    labels = nearest(z, centres).segment
    return cluster_sums(positions_among(z, reference), labels, centres.shape[0])


def exact_position_sums(
    z: np.ndarray, centres: np.ndarray, labels: np.ndarray | None = None
) -> ClusterSums:
    """:func:`position_sums` with every row of ``z`` (n, d) as the reference, summed per
    ``labels`` (n,) (default: each row's nearest centre).

    A run of t equal values starting at sorted index s has position (2 s + t) / (2 n) for each
    of its rows (:func:`column_positions`). Placing each row into the sorted column by binary
    search instead costs about 20 s per column at 10M rows (cache misses); this about 1 s."""
    labels = nearest(z, centres).segment if labels is None else labels
    m = centres.shape[0]
    # each column copied out once: the passes over it then read contiguous memory
    sums = np.column_stack(
        [
            np.bincount(labels, weights=column_positions(np.ascontiguousarray(column)), minlength=m)
            for column in z.T
        ]
    )
    counts = np.bincount(labels, minlength=m).astype(np.int64)
    return ClusterSums(counts, sums.reshape(m, z.shape[1]), np.zeros(m), np.zeros(m))


def column_positions(values: np.ndarray) -> np.ndarray:
    """Each value's position among ``values`` (n,): (2 s + t) / (2 n) for a run of t equal
    values from sorted index s. A column of at most two distinct values (a one-hot column)
    needs no sort: at 10M rows, 11 of the case study's 13 columns."""
    n = values.shape[0]
    low, high = values.min(initial=np.inf), values.max(initial=-np.inf)
    at_low = values == low
    if np.all(at_low | (values == high)):
        below = int(np.count_nonzero(at_low))
        if below == n:
            return np.full(n, 0.5)
        return np.where(at_low, below / (2.0 * n), (2.0 * below + (n - below)) / (2.0 * n))
    order = np.argsort(values)
    starts, lengths = tie_runs(values[order])
    positions = np.empty(n)
    positions[order] = np.repeat((2.0 * starts + lengths) / (2.0 * n), lengths)
    return positions


def standardised_columns(
    rows: pa.Table | pa.RecordBatch, fit_row: pa.Array, scaler: FittedScaler
) -> dict:
    """The z relation's columns for these rows: ``fit_row`` as given, customer_id as text
    (the input's key unchanged) and one float64 ``<feature>_z`` per scaler feature
    (:meth:`FittedScaler.transform_column` of the row's value)."""
    columns = {"fit_row": fit_row, KEY_COLUMN: rows.column(KEY_COLUMN).cast(pa.string())}
    for j, name in enumerate(scaler.feature_names):
        values = rows.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        columns[z_name(name)] = pa.array(scaler.transform_column(j, values), pa.float64())
    return columns


def assignment_columns(
    customer_id: pa.Array,
    z: np.ndarray,
    centres: np.ndarray,
    ids: np.ndarray | None = None,
    groups: FeatureGroups | None = None,
) -> dict:
    """The ml_customer_assignments columns for these rows: customer_id, segment_id (``ids``
    of the centres, default 1-based positions), distance_to_centroid, second_segment_id,
    distance_to_second_centroid, margin (z units; the last three null when k = 1); with
    ``groups``, also the top features of the margin (:func:`explain.explanation_columns`)."""
    found = nearest(z, centres)
    labels = np.arange(1, centres.shape[0] + 1) if ids is None else np.asarray(ids)
    has_second = found.second_segment >= 0
    distance, second = found.distance, found.second_distance
    columns = {
        "customer_id": customer_id,
        "segment_id": pa.array(labels[found.segment], pa.int32()),
        "distance_to_centroid": pa.array(distance, pa.float64()),
        "second_segment_id": pa.array(
            np.where(has_second, labels[np.maximum(found.second_segment, 0)], 0),
            pa.int32(),
            mask=~has_second,
        ),
        "distance_to_second_centroid": pa.array(second, pa.float64(), mask=~has_second),
        "margin": pa.array(second - distance, pa.float64(), mask=~has_second),
    }
    if groups is not None:
        columns.update(explanation_columns(z, centres, found.segment, found.second_segment, groups))
    return columns
