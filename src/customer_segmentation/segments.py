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

from customer_segmentation.actions import recommend_actions
from customer_segmentation.clustering import canonical_segment_order, match_to_previous
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
    levels, names, the previous run's matching segment and centroid shift, and how the ids
    were assigned."""

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
    )


def match_previous(
    segments: Segments, previous: pa.Table | None, scaler: FittedScaler, features: FeatureSet
) -> Segments:
    """Segments matched to the previous fit (Hungarian, on centroids in today's z units).

    Same features and k: the ids and names continue. Another k: ids stay canonical and
    previous_segment_id shows the closest old segment. Other features: unchanged.
    """
    if previous is None or previous.num_rows == 0:
        return segments
    try:
        previous_z, previous_ids = previous_fit_centroids(previous, scaler, features)
    except WarmStartError as mismatch:
        return replace(segments, how=f"canonical: previous run not comparable ({mismatch})")
    match = match_to_previous(segments.centroids, previous_z)
    continued = [previous_ids[m] if m >= 0 else None for m in match]
    shift = [
        float(np.linalg.norm(segments.centroids[i] - previous_z[m])) if m >= 0 else None
        for i, m in enumerate(match)
    ]
    k = segments.centroids.shape[0]
    if len(previous_ids) != k:
        return replace(
            segments,
            previous_ids=continued,
            shift=shift,
            how=f"canonical: k changed from {len(previous_ids)} to {k}; "
            "previous_segment_id shows the closest old segment",
        )
    names = dict(
        zip(previous["segment_id"].to_pylist(), previous["segment_name"].to_pylist(), strict=True)
    )
    matched = replace(
        segments,
        ids=np.array(continued),
        names=make_unique([names[i] for i in continued]),
        previous_ids=continued,
        shift=shift,
        how="matched to the previous run (Hungarian, on centroids)",
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
    previous_segment_id, centroid_shift_z, id_assignment, and the fit's facts
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
_SEGMENT_TAIL = ("count_customers", "previous_segment_id", "centroid_shift_z")


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
) -> pa.Table:
    """ml_kmeans_fit: Lloyd on every row at the chosen k, then segments and their table.

    Levels (and so names and actions) come from where each segment's customers rank among
    all customers (:meth:`Engine.mean_positions`), not from the centroid's ratio to a mean.

    Segment ids: matched to ``previous`` (the last run's table) when it has the same features
    and k, so segments keep their ids and names; otherwise 1..k in canonical order.
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
    segments = match_previous(segments, previous, scaler, features)
    report(f"WCSS {fit.wcss:,.2f} after {fit.n_iter} iterations; segment ids {segments.how}")
    return fit_table(segments, fit, start, features, settings)


def centroid_matrix(fit_table: pa.Table) -> np.ndarray:
    """(k, d) z-unit centroids from a segment × feature table, rows by segment_id."""
    ordered = fit_table.sort_by([("segment_id", "ascending"), ("feature_position", "ascending")])
    k = len(set(ordered["segment_id"].to_pylist()))
    return ordered["centroid_z"].to_numpy().reshape(k, -1)
