"""The final fit (ml_kmeans_fit) and what it means: written once, above the engines.

The engine runs Lloyd on every row (:meth:`Engine.lloyd`) from the diagnostics' best centres
or a warm start; everything after that runs here on the k fitted centres: canonical segment
order, names (:mod:`.naming`), actions (:mod:`.actions`), Hungarian matching to the previous
fit, and the segment × feature table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from customer_segmentation import lifecycle
from customer_segmentation.actions import recommend_actions
from customer_segmentation.clustering import canonical_segment_order
from customer_segmentation.diagnostics import chosen_row
from customer_segmentation.engines.base import Engine, LloydFit, Rows
from customer_segmentation.features import FeatureSet
from customer_segmentation.naming import make_unique, measure_levels, segment_names
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.warm_start import WarmStart, WarmStartError, previous_fit_centroids


@dataclass(frozen=True)
class Start:
    """Where the final Lloyd starts: ``centroids`` (k, d) z units, the init_method label, the
    n_init and fit_sample_size recorded in ml_kmeans_fit."""

    centroids: np.ndarray
    label: str
    n_init: int
    fit_sample_size: int | None


def start_of_fit(diagnostics: pa.Table, d: int, warm_start: WarmStart | None) -> Start:
    """The warm start, else the chosen k's best restart from ml_k_diagnostics (after a sampled
    diagnostics run, Lloyd on every row refines the sample's solution)."""
    chosen = chosen_row(diagnostics)
    k = int(chosen["k"])
    if warm_start is not None:
        if warm_start.centroids.shape[0] != k:
            raise WarmStartError(
                f"{warm_start.label}: {warm_start.centroids.shape[0]} centroids, but the chosen "
                f"k is {k}; set var k: {warm_start.centroids.shape[0]}"
            )
        return Start(warm_start.centroids, warm_start.label, 1, None)
    rows = chosen["diagnostics_sample_size"]
    restarts = str(chosen["best_from"]) + (f" on a {rows:,}-row sample" if rows else "")
    return Start(
        np.asarray(chosen["centroids_z"], dtype=np.float64).reshape(k, d),
        f"{restarts} (ml_k_diagnostics), then Lloyd on all rows",
        int(chosen["n_init"]),
        None if rows is None else int(rows),
    )


@dataclass(frozen=True)
class Segments:
    """k segments in id order: ids, z and original-unit centroids (k, d), sizes, measure
    levels, names, the previous run's segment each continues and the centroid shift, how the
    ids were assigned, and the lineage (:mod:`.lifecycle`): event, related old id, shared
    share, the highest id ever issued."""

    ids: np.ndarray
    centroids: np.ndarray
    original: np.ndarray
    sizes: np.ndarray
    positions: np.ndarray
    levels: list
    names: list[str]
    previous_ids: list
    shift: list
    how: str
    events: list
    related_ids: list
    shares: list
    max_issued: int

    def reordered(self, order: np.ndarray) -> Segments:
        return replace(
            self,
            ids=self.ids[order],
            centroids=self.centroids[order],
            original=self.original[order],
            sizes=self.sizes[order],
            positions=self.positions[order],
            levels=[self.levels[i] for i in order],
            names=[self.names[i] for i in order],
            previous_ids=[self.previous_ids[i] for i in order],
            shift=[self.shift[i] for i in order],
            events=[self.events[i] for i in order],
            related_ids=[self.related_ids[i] for i in order],
            shares=[self.shares[i] for i in order],
        )


def canonical_segments(
    centroids: np.ndarray,
    sizes: np.ndarray,
    positions: np.ndarray,
    scaler: FittedScaler,
    features: FeatureSet,
) -> Segments:
    """Fresh ids 1..k in canonical order (:attr:`FeatureSet.segment_sort_columns`: summable
    measures such as CLV first, then the other measures, each descending), with names.

    ``positions`` (k, d) are the segments' mean positions (:meth:`Engine.mean_positions`)
    in the order of ``centroids``; levels and names are read from them."""
    original = features.to_original_units(scaler.inverse_transform(centroids))
    sort_by = features.segment_sort_columns
    order = canonical_segment_order(original, sort_by)
    centroids, original, positions = centroids[order], original[order], positions[order]
    levels = measure_levels(positions, features)
    k = centroids.shape[0]
    how = "canonical: ordered by centroid " + ", then ".join(features.names[j] for j in sort_by[:2])
    return Segments(
        ids=np.arange(1, k + 1),
        centroids=centroids,
        original=original,
        sizes=np.asarray(sizes)[order],
        positions=positions,
        levels=levels,
        names=segment_names(levels, original, features),
        previous_ids=[None] * k,
        shift=[None] * k,
        how=how + ", highest first",
        events=["born"] * k,
        related_ids=[None] * k,
        shares=[None] * k,
        max_issued=k,
    )


def _previous_max_issued(previous: pa.Table) -> int:
    """The highest id the previous run had ever issued (its segment ids for an older table)."""
    ids = previous["segment_id"].to_pylist()
    if "max_issued_segment_id" in previous.column_names:
        ids += previous["max_issued_segment_id"].to_pylist()
    return max((i for i in ids if i is not None), default=0)


def match_previous(
    segments: Segments,
    previous: pa.Table | None,
    scaler: FittedScaler,
    features: FeatureSet,
    overlap: pa.Table | None = None,
) -> Segments:
    """Segment ids that keep their meaning (:func:`lifecycle.lineage`): a segment that is the
    same as a previous one keeps its id and name, whatever k does; every other segment gets
    an id never issued before (``split`` from its main source, or ``born``).

    ``overlap`` (:data:`lifecycle.OVERLAP_SCHEMA`, positions in ``segments``' order) is the
    customers each new segment shares with each previous one; without it (or without common
    customers) segments are matched on centroids. A previous run with other features is not
    comparable: every segment is born, with new ids.
    """
    if previous is None or previous.num_rows == 0:
        return segments
    k = segments.centroids.shape[0]
    max_issued = _previous_max_issued(previous)
    try:
        previous_z, previous_ids = previous_fit_centroids(previous, scaler, features)
    except WarmStartError as mismatch:
        fresh = lifecycle.fresh_lineage(k, max_issued)
        return replace(
            segments,
            ids=fresh.ids,
            max_issued=fresh.max_issued,
            how=f"new ids from {max_issued + 1}: previous run not comparable ({mismatch})",
        )
    shared = lifecycle.overlap_matrix(overlap, k, previous_ids)
    found = lifecycle.lineage(segments.centroids, previous_z, previous_ids, max_issued, shared)
    old_names = dict(
        zip(previous["segment_id"].to_pylist(), previous["segment_name"].to_pylist(), strict=False)
    )
    names = [
        old_names[found.related_ids[i]] if event == "continued" else segments.names[i]
        for i, event in enumerate(found.events)
    ]
    k_previous = len(previous_ids)
    matched = replace(
        segments,
        ids=found.ids,
        names=make_unique(names),
        previous_ids=[
            r if e == "continued" else None
            for r, e in zip(found.related_ids, found.events, strict=True)
        ],
        shift=found.shifts,
        how=f"matched to the previous run (Hungarian, on {found.basis}; k {k_previous} -> {k}): "
        + found.summary(),
        events=found.events,
        related_ids=found.related_ids,
        shares=found.shares,
        max_issued=found.max_issued,
    )
    return matched.reordered(np.argsort(matched.ids))


def fit_table(
    segments: Segments,
    fit: LloydFit,
    start: Start,
    features: FeatureSet,
    settings: SegmentationSettings,
) -> pa.Table:
    """One row per segment × feature (ids ascending, features in fit order).

    Columns: segment_id, segment_name, recommended_action, action_reason, feature_name,
    feature_position, centroid_z, centroid_original (after expm1 for log1p features),
    mean_position and measure_level (measures only: where the segment's customers rank among
    all customers, 0..1, and the level names and actions read from it), count_customers,
    previous_segment_id, centroid_shift_z, lifecycle_event, related_segment_id,
    share_from_related, max_issued_segment_id, id_assignment, and the fit's facts
    repeated per row (preset, k, wcss, silhouette, silhouette_sample_size, n_iter, converged,
    init_method, fit_sample_size, n_init, random_state).
    """
    k, d = segments.centroids.shape
    per_segment = _per_segment_columns(segments, features)
    per_feature = {
        "feature_name": pa.array(features.names * k, pa.string()),
        "feature_position": pa.array(np.tile(np.arange(1, d + 1), k), pa.int32()),
        "centroid_z": pa.array(segments.centroids.ravel(), pa.float64()),
        "centroid_original": pa.array(segments.original.ravel(), pa.float64()),
        **_measure_columns(segments, features),
    }

    def per_run(value: object, kind: pa.DataType) -> pa.Array:
        return pa.array([value] * (k * d), kind)

    return pa.table(
        {
            **{name: per_segment[name] for name in _SEGMENT_HEAD},
            **per_feature,
            **{name: per_segment[name] for name in _SEGMENT_TAIL},
            "max_issued_segment_id": per_run(segments.max_issued, pa.int32()),
            "id_assignment": per_run(segments.how, pa.string()),
            "preset": per_run(settings.preset, pa.string()),
            "k": per_run(k, pa.int32()),
            "wcss": per_run(fit.wcss, pa.float64()),
            "silhouette": per_run(fit.silhouette, pa.float64()),
            "silhouette_sample_size": per_run(fit.silhouette_sample_size, pa.int64()),
            "n_iter": per_run(fit.n_iter, pa.int32()),
            "converged": per_run(fit.converged, pa.bool_()),
            "init_method": per_run(start.label, pa.string()),
            "fit_sample_size": per_run(start.fit_sample_size, pa.int64()),
            "n_init": per_run(start.n_init, pa.int32()),
            "random_state": per_run(settings.random_state, pa.int64()),
        }
    )


#: fit_table's per-segment columns before and after its per-feature ones.
_SEGMENT_HEAD = ("segment_id", "segment_name", "recommended_action", "action_reason")
_SEGMENT_TAIL = (
    "count_customers",
    "previous_segment_id",
    "centroid_shift_z",
    "lifecycle_event",
    "related_segment_id",
    "share_from_related",
)


def _per_segment_columns(segments: Segments, features: FeatureSet) -> dict[str, pa.Array]:
    """fit_table's columns that hold one value per segment, repeated for each of its d rows."""
    d = segments.centroids.shape[1]
    actions = recommend_actions(segments.levels, features)

    def per_segment(values: list, kind: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(np.asarray(values, dtype=object), d).tolist(), kind)

    return {
        "segment_id": per_segment(segments.ids.tolist(), pa.int32()),
        "segment_name": per_segment(segments.names, pa.string()),
        "recommended_action": per_segment([a for a, _ in actions], pa.string()),
        "action_reason": per_segment([r for _, r in actions], pa.string()),
        "count_customers": per_segment(segments.sizes.tolist(), pa.int64()),
        "previous_segment_id": per_segment(segments.previous_ids, pa.int32()),
        "centroid_shift_z": per_segment(segments.shift, pa.float64()),
        "lifecycle_event": per_segment(segments.events, pa.string()),
        "related_segment_id": per_segment(segments.related_ids, pa.int32()),
        "share_from_related": per_segment(segments.shares, pa.float64()),
    }


def _measure_columns(segments: Segments, features: FeatureSet) -> dict[str, pa.Array]:
    """mean_position and measure_level per segment × feature (null for non-measures)."""
    k = segments.centroids.shape[0]
    return {
        "mean_position": pa.array(
            [
                float(segments.positions[i, j]) if f.kind == "numeric" else None
                for i in range(k)
                for j, f in enumerate(features.features)
            ],
            pa.float64(),
        ),
        "measure_level": pa.array(
            [segments.levels[i].get(f.name) for i in range(k) for f in features.features],
            pa.string(),
        ),
    }


def kmeans_fit_table(
    engine: Engine,
    z: Rows,
    scaler: FittedScaler,
    diagnostics: pa.Table,
    features: FeatureSet,
    settings: SegmentationSettings,
    *,
    previous: pa.Table | None = None,
    warm_start: WarmStart | None = None,
    previous_assignments: Rows | None = None,
) -> pa.Table:
    """ml_kmeans_fit: Lloyd on every row at the chosen k, then segments and their table.

    Levels (and so names and actions) come from where each segment's customers rank among
    all customers (:meth:`Engine.mean_positions`), not from the centroid's ratio to a mean.

    Segment ids: 1..k in canonical order on a fresh database; with ``previous`` (the last
    run's table) a segment that continues an old one keeps its id and name, whatever k does,
    and the others get ids never issued before (:func:`match_previous`). The customers both
    runs share, per new and old segment, come from ``previous_assignments`` (the last run's
    customer_id, segment_id rows) when given.
    """
    if tuple(features.names) != scaler.feature_names:
        raise ValueError(
            f"the feature set's {features.names} do not match the scaler's {scaler.feature_names}"
        )
    report = reporter("ml_kmeans_fit")
    start = start_of_fit(diagnostics, len(features.names), warm_start)
    k = start.centroids.shape[0]
    report(f"({engine.name}) k = {k}: Lloyd on all rows from {start.label}")
    fit = engine.lloyd(z, start.centroids, settings)
    positions = engine.mean_positions(z, fit.centroids)
    segments = canonical_segments(fit.centroids, fit.sizes, positions, scaler, features)
    overlap = None
    if previous is not None and previous.num_rows and previous_assignments is not None:
        overlap = engine.overlap(z, segments.centroids, previous_assignments)
    segments = match_previous(segments, previous, scaler, features, overlap)
    report(f"WCSS {fit.wcss:,.2f} after {fit.n_iter} iterations; segment ids {segments.how}")
    return fit_table(segments, fit, start, features, settings)


def centroid_matrix(fit_table: pa.Table) -> np.ndarray:
    """(k, d) z-unit centroids from a segment × feature table, rows by segment_id."""
    ordered = fit_table.sort_by([("segment_id", "ascending"), ("feature_position", "ascending")])
    k = len(set(ordered["segment_id"].to_pylist()))
    return ordered["centroid_z"].to_numpy().reshape(k, -1)
