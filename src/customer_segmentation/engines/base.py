"""The engine boundary: the row passes a fit needs, and nothing that interprets a fit.

An engine holds rows where they live (DuckDB relations / Arrow for :mod:`.local`, Spark
DataFrames for :mod:`.spark`) and does what must touch every row: read small tables, count
(all rows, or per combination of values for the effect tests), fit the scaler's sums,
standardise, collect a (sampled) matrix, run Lloyd iterations from given centres, assign rows
to their nearest centres, make Ward leaves, sum per cluster and join a small lookup back onto
the rows. What a fit means (the diagnostics table, segment
order, names, actions, id matching, warm starts, the Ward cut) is written once above this
boundary, in :mod:`customer_segmentation.diagnostics`, :mod:`~customer_segmentation.segments`
and :mod:`~customer_segmentation.tree`, and serves both engines.

Relations passed in and returned are the engine's own type (``Rows``); a "z relation" has
fit_row (0..n-1, canonical fit order), customer_id and one ``<feature>_z`` column per feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from customer_segmentation.explain import FeatureGroups
from customer_segmentation.kernels import ClusterSums
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings

#: A relation of the engine (DuckDB relation or Arrow table; Spark DataFrame).
Rows = Any
#: segment ids (k,) for the centres in order, or None for 1..k
SegmentIds = np.ndarray | None
#: the source-feature groups of the z columns (top features), or None for none
Groups = FeatureGroups | None


@dataclass(frozen=True)
class LloydFit:
    """Lloyd's k-means on every row from given centres, z units.

    Attributes
    ----------
    centroids : (k, d) final centres, in the order of the starting centres.
    sizes : (k,) rows nearest to each centre.
    wcss : within-cluster sum of squares over all rows.
    n_iter : iterations run; converged : whether they stopped before the limit.
    silhouette : mean silhouette of the final assignment (the engine's definition, see its
        module), None when fewer than 2 clusters are filled or every row is its own cluster.
    silhouette_sample_size : rows the silhouette was computed on, None = every row.
    n_rows : rows fitted.
    """

    centroids: np.ndarray
    sizes: np.ndarray
    wcss: float
    n_iter: int
    converged: bool
    silhouette: float | None
    silhouette_sample_size: int | None
    n_rows: int


def two_stage_label(leaves: int, how: str = "") -> str:
    """The linkage_method value of a two-stage Ward tree over ``leaves`` micro-clusters."""
    return f"two_stage: ward on {leaves} k-means micro-clusters" + (f" ({how})" if how else "")


class Engine(Protocol):
    """Row passes over one engine's relations (see the module docstring)."""

    #: ``"duckdb"`` or ``"spark"``: shown in progress lines and chosen once per model.
    name: str

    def read(
        self, relation: Rows, order: str | None = None, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """A small relation (lookups, fitted state) as Arrow, optionally ``order by`` order and
        only ``columns``."""
        ...

    def table(self, arrow: pa.Table) -> Rows:
        """An Arrow table as the engine's model result."""
        ...

    def count(self, relation: Rows) -> int: ...

    def counts(self, relation: Rows, columns: Sequence[str]) -> pa.Table:
        """Rows per combination of values of ``columns`` that occurs, nulls included: those
        columns and ``count_rows`` (int64), in any order
        (:data:`customer_segmentation.effect_tables.Counts`); a group-by where the rows live."""
        ...

    def previous(self, this: Any, identifier: str) -> pa.Table | None:
        """The current contents of table ``identifier`` in the schema of ``this`` (a model's
        ``dbt.this``), or None when it does not exist yet."""
        ...

    def fit_scaler(self, rows: Rows, names: list[str]) -> FittedScaler:
        """Means and population stds of ``names`` over every row."""
        ...

    def standardise(self, rows: Rows, scaler: FittedScaler, order: str) -> Rows:
        """The z relation: rows numbered by fit_row in ``order`` and z-scored by ``scaler``."""
        ...

    def matrix(self, z: Rows, rows: np.ndarray | None = None) -> np.ndarray:
        """(n, d) z matrix in fit_row order, only the fit_rows in ``rows`` when given."""
        ...

    def lloyd(self, z: Rows, start: np.ndarray, settings: SegmentationSettings) -> LloydFit:
        """Lloyd iterations on every row from ``start`` (k, d), then the fit's silhouette."""
        ...

    def mean_positions(self, z: Rows, centres: np.ndarray) -> np.ndarray:
        """(k, d) per centre, the mean over its nearest rows of each feature's position among
        all rows (:func:`customer_segmentation.kernels.positions_among`, 0..1, 0.5 = the
        median customer); NaN for a centre with no rows."""
        ...

    def assign(
        self, z: Rows, centres: np.ndarray, ids: SegmentIds = None, groups: Groups = None
    ) -> Rows:
        """ml_customer_assignments: nearest + runner-up centre per row, labelled by ``ids``
        (default 1..k), and with ``groups`` the margin's top features, in the same pass
        (:func:`customer_segmentation.kernels.assignment_columns`)."""
        ...

    def overlap(self, z: Rows, centres: np.ndarray, previous: Rows) -> pa.Table:
        """Customers both in ``z`` and in ``previous`` (customer_id, segment_id: the last
        run's assignments), counted per nearest centre position (0-based) and previous
        segment id (:data:`customer_segmentation.lifecycle.OVERLAP_SCHEMA`)."""
        ...

    def exact_leaves(self, z: Rows) -> Rows:
        """fit_row, customer_id, leaf_id (= fit_row), linkage_method ``exact``."""
        ...

    def micro_leaves(self, z: Rows, n_micro: int, settings: SegmentationSettings) -> Rows:
        """fit_row, customer_id, leaf_id 0..m-1 of ``n_micro`` k-means micro-clusters,
        linkage_method :func:`two_stage_label` (first stage of two-stage Ward)."""
        ...

    def linkage_method(self, leaves: Rows) -> str: ...

    def leaf_sums(self, z: Rows, leaves: Rows) -> ClusterSums:
        """Counts and sums of the z rows per leaf_id 0..m-1."""
        ...

    def join_clusters(self, leaves: Rows, lookup: pa.Table) -> Rows:
        """customer_id, ward_cluster: ``lookup`` (leaf_id, ward_cluster) joined on leaf_id."""
        ...
