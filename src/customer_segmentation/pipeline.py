"""Arrow in, Arrow out: the steps the dbt Python models call.

Each function takes the tables a model reads (as ``pyarrow.Table``) and returns the table it
writes, so the models stay a few lines of glue and every step can be tested without dbt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from sklearn.metrics import silhouette_score

from customer_segmentation.actions import recommend_actions
from customer_segmentation.clustering import (
    assign_to_centroids,
    canonical_segment_order,
    check_enough_rows,
    choose_k,
    diagnose_k,
    elbow_k,
    fit_kmeans,
    match_to_previous,
    seeded_sample,
)
from customer_segmentation.effects import (
    contingency_cells_table,
    contingency_summary_table,
    group_effect_table,
)
from customer_segmentation.features import (
    KEY_COLUMN,
    FeatureSet,
    feature_of,
    to_matrix,
    z_columns,
    z_name,
)
from customer_segmentation.naming import make_unique, measure_levels, segment_names
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.threads import native_threads_for
from customer_segmentation.ward import (
    cut_tree,
    leaf_centroids,
    linkage_from_arrow,
    linkage_to_arrow,
    micro_clusters,
    ward_linkage,
    weighted_ward_linkage,
)
from customer_segmentation.warm_start import (
    WarmStartError,
    centroids_from_table,
    previous_fit_centroids,
    read_centroid_file,
)

#: Leaves of the two-stage Ward tree above ``ward_max_rows`` customers.
WARD_MICRO_CLUSTERS = 1_000


def standardise_customers(features: pa.Table, scaler_table: pa.Table) -> pa.Table:
    """``int_customer_features`` (n rows, read in :attr:`FeatureSet.canonical_order`) ->
    fit_row (0..n-1, that order), customer_id, one ``<feature>_z`` column per scaler feature."""
    scaler = FittedScaler.from_arrow(scaler_table)
    reporter("ml_customer_features_z")(
        f"standardising {features.num_rows:,} customers × {len(scaler.feature_names)} features"
    )
    columns = {
        "fit_row": pa.array(np.arange(features.num_rows, dtype=np.int64)),
        KEY_COLUMN: features.column(KEY_COLUMN).cast(pa.int64()),
    }
    for j, name in enumerate(scaler.feature_names):
        values = features.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        columns[z_name(name)] = pa.array(scaler.transform_column(j, values))
    return pa.table(columns)


def _z_matrix(z_table: pa.Table) -> np.ndarray:
    return to_matrix(z_table, z_columns(z_table))


def k_diagnostics_table(
    z_table: pa.Table, settings: SegmentationSettings, source: str | None = None
) -> pa.Table:
    """One row per k in the settings' range that the data allows (k <= n).

    Columns: k, wcss, silhouette, calinski_harabasz, davies_bouldin, n_iter, converged,
    silhouette_sample_size (null = exact), is_best_silhouette, is_elbow, is_chosen, k_rule,
    choice_reason (on the chosen row), n_init, random_state.
    """
    z = _z_matrix(z_table)
    needed = settings.k if settings.k_rule == "fixed" else max(settings.k_min, 2)
    check_enough_rows(z.shape[0], needed, source or "input")
    report = reporter("ml_k_diagnostics")
    rows = seeded_sample(z.shape[0], settings.diagnostics_max_rows, settings.random_state)
    if rows is not None:
        z = z[rows]
    n_init = settings.restarts(z.shape[0])
    report(
        f"k-means for k = {settings.k_min}..{settings.k_max}, n_init = {n_init}, on "
        f"{z.shape[0]:,} customers" + (" (seeded sample)" if rows is not None else "")
    )
    diagnostics, sample = diagnose_k(
        z,
        settings.k_values,
        n_init=n_init,
        random_state=settings.random_state,
        silhouette_max_rows=settings.silhouette_max_rows,
        silhouette_sample_size=settings.silhouette_sample_size,
        progress=report,
        best_repeats=settings.best_repeats,
    )
    return diagnostics_table(
        diagnostics,
        settings,
        n_init=n_init,
        silhouette_sample=sample,
        diagnostics_sample=None if rows is None else len(rows),
        report=report,
    )


def diagnostics_table(
    diagnostics: list,
    settings: SegmentationSettings,
    *,
    n_init: int,
    silhouette_sample: int | None,
    diagnostics_sample: int | None,
    report=None,
) -> pa.Table:
    """The ml_k_diagnostics table from one :class:`~.clustering.KDiagnostic` per k, with the k
    the settings' rule chooses (:func:`clustering.choose_k`), the best-silhouette k and the
    elbow flagged. Both engines build their table here."""
    chosen, reason = choose_k(diagnostics, settings.k_rule, settings.k)
    scored = [d for d in diagnostics if d.silhouette is not None]
    best_silhouette = max(scored, key=lambda d: (d.silhouette, -d.k)).k if scored else None
    elbow = elbow_k([d.k for d in diagnostics], [d.wcss for d in diagnostics])
    if report is not None:
        report(f"chosen k = {chosen} ({reason})")
    count = len(diagnostics)
    return pa.table(
        {
            "k": pa.array([d.k for d in diagnostics], pa.int32()),
            "wcss": pa.array([d.wcss for d in diagnostics], pa.float64()),
            "silhouette": pa.array([d.silhouette for d in diagnostics], pa.float64()),
            "calinski_harabasz": pa.array([d.calinski_harabasz for d in diagnostics], pa.float64()),
            "davies_bouldin": pa.array([d.davies_bouldin for d in diagnostics], pa.float64()),
            "n_iter": pa.array([d.n_iter for d in diagnostics], pa.int32()),
            "converged": pa.array([d.converged for d in diagnostics], pa.bool_()),
            "best_from": pa.array([d.best_from for d in diagnostics], pa.string()),
            "silhouette_sample_size": pa.array([silhouette_sample] * count, pa.int64()),
            "diagnostics_sample_size": pa.array([diagnostics_sample] * count, pa.int64()),
            "is_best_silhouette": pa.array([d.k == best_silhouette for d in diagnostics]),
            "is_elbow": pa.array([d.k == elbow for d in diagnostics]),
            "is_chosen": pa.array([d.k == chosen for d in diagnostics]),
            "k_rule": pa.array([settings.k_rule] * count, pa.string()),
            "choice_reason": pa.array(
                [reason if d.k == chosen else None for d in diagnostics], pa.string()
            ),
            "n_init": pa.array([n_init] * count, pa.int32()),
            "random_state": pa.array([settings.random_state] * count, pa.int64()),
            # The best restart's centroids (k × d, row-major, z units): the final fit starts
            # from them instead of repeating the restarts.
            "centroids_z": pa.array(
                [d.centroids.ravel().tolist() for d in diagnostics], pa.list_(pa.float64())
            ),
        }
    )


def chosen_k(diagnostics: pa.Table) -> int:
    return int(_chosen_row(diagnostics)["k"])


def _chosen_row(diagnostics: pa.Table) -> dict:
    chosen = [row for row in diagnostics.to_pylist() if row["is_chosen"]]
    if len(chosen) != 1:
        raise ValueError(f"ml_k_diagnostics marks {len(chosen)} rows as chosen, expected 1")
    return chosen[0]


@dataclass(frozen=True)
class WarmStart:
    """Where Lloyd starts: ``centroids`` (k, d) in z units, and a label for the record."""

    centroids: np.ndarray
    label: str


def kmeans_fit_table(
    z_table: pa.Table,
    scaler_table: pa.Table,
    diagnostics: pa.Table,
    settings: SegmentationSettings,
    features: FeatureSet,
    *,
    previous: pa.Table | None = None,
    warm_start: WarmStart | None = None,
) -> pa.Table:
    """The final k-means fit at the chosen k, as one row per segment × feature.

    Segment ids: matched to ``previous`` (the last run's table) with the Hungarian method when
    it has the same features and k, so segments keep their ids and names; otherwise 1..k in
    canonical order (:attr:`FeatureSet.segment_sort_columns`: summable measures such as CLV
    first, then the other measures, each descending).

    Columns: segment_id, segment_name, recommended_action, action_reason, feature_name,
    feature_position, centroid_z, centroid_original (after expm1 for log1p features),
    count_customers, previous_segment_id, centroid_shift_z, id_assignment,
    and the fit's facts repeated per row (preset, k, wcss, silhouette, silhouette_sample_size,
    n_iter, converged, init_method, n_init, random_state).
    """
    scaler = FittedScaler.from_arrow(scaler_table)
    names = [feature_of(c) for c in z_columns(z_table)]
    if tuple(names) != scaler.feature_names or names != features.names:
        raise ValueError(
            f"z columns {names} do not match the scaler's {scaler.feature_names} or the "
            f"feature set's {features.names}"
        )
    z = _z_matrix(z_table)
    chosen = _chosen_row(diagnostics)
    k = int(chosen["k"])
    report = reporter("ml_kmeans_fit")
    n_init = 1
    fit_rows = None
    if warm_start is not None:
        if warm_start.centroids.shape[0] != k:
            raise WarmStartError(
                f"{warm_start.label}: {warm_start.centroids.shape[0]} centroids, but the chosen "
                f"k is {k}; set var k: {warm_start.centroids.shape[0]}"
            )
        report(f"k-means k = {k} warm-started from {warm_start.label}")
        fit = fit_kmeans(
            z,
            k,
            n_init=1,
            random_state=settings.random_state,
            initial_centroids=warm_start.centroids,
            init_label=warm_start.label,
        )
    else:
        # The diagnostics already ran the restarts at this k: start Lloyd from their best
        # centroids on every row. On the rows they ran on this converges at once; after a
        # sampled diagnostics run it refines the sample's solution on the full data.
        n_init, fit_rows = int(chosen["n_init"]), chosen["diagnostics_sample_size"]
        restarts = str(chosen["best_from"]) + (f" on a {fit_rows:,}-row sample" if fit_rows else "")
        report(f"k = {k}: Lloyd on all {z.shape[0]:,} customers from the {restarts}")
        fit = fit_kmeans(
            z,
            k,
            n_init=1,
            random_state=settings.random_state,
            initial_centroids=np.asarray(chosen["centroids_z"]).reshape(k, z.shape[1]),
            init_label=f"{restarts} (ml_k_diagnostics), then Lloyd on all rows",
        )

    original = features.to_original_units(scaler.inverse_transform(fit.centroids))
    sort_by = features.segment_sort_columns
    order = canonical_segment_order(original, sort_by)
    centroids, original = fit.centroids[order], original[order]
    sizes = np.bincount(fit.labels, minlength=k)[order]
    overall = features.to_original_units(scaler.mean[np.newaxis, :])[0]
    levels = measure_levels(original, centroids, features, overall)
    labels = segment_names(levels, original, features)
    ids = np.arange(1, k + 1)
    previous_ids: list = [None] * k
    shift: list = [None] * k
    how = "canonical: ordered by centroid " + ", then ".join(names[j] for j in sort_by[:2])
    how += ", highest first"

    if previous is not None and previous.num_rows:
        try:
            previous_z, previous_segment_ids = previous_fit_centroids(previous, scaler, features)
        except WarmStartError as mismatch:
            how = f"canonical: previous run not comparable ({mismatch})"
        else:
            match = match_to_previous(centroids, previous_z)
            previous_ids = [previous_segment_ids[m] if m >= 0 else None for m in match]
            shift = [
                float(np.linalg.norm(centroids[i] - previous_z[m])) if m >= 0 else None
                for i, m in enumerate(match)
            ]
            if len(previous_segment_ids) == k:
                ids = np.array(previous_ids)
                previous_names = _names_by_segment(previous)
                labels = make_unique([previous_names[i] for i in previous_ids])
                how = "matched to the previous run (Hungarian, on centroids)"
                reorder = np.argsort(ids)
                ids, centroids, original = ids[reorder], centroids[reorder], original[reorder]
                sizes = sizes[reorder]
                labels = [labels[i] for i in reorder]
                levels = [levels[i] for i in reorder]
                previous_ids = [previous_ids[i] for i in reorder]
                shift = [shift[i] for i in reorder]
            else:
                how = (
                    f"canonical: k changed from {len(previous_segment_ids)} to {k}; "
                    "previous_segment_id shows the closest old segment"
                )
    actions = recommend_actions(levels, features)
    silhouette, sample = _final_silhouette(z, fit.labels, settings)
    report(f"WCSS {fit.wcss:,.2f} after {fit.n_iter} iterations; segment ids {how}")

    d = len(names)
    rows = k * d

    def per_segment(values, kind):
        return pa.array(np.repeat(np.asarray(values, dtype=object), d).tolist(), kind)

    def per_run(value, kind):
        return pa.array([value] * rows, kind)

    return pa.table(
        {
            "segment_id": per_segment(ids.tolist(), pa.int32()),
            "segment_name": per_segment(labels, pa.string()),
            "recommended_action": per_segment([a for a, _ in actions], pa.string()),
            "action_reason": per_segment([r for _, r in actions], pa.string()),
            "feature_name": pa.array(names * k, pa.string()),
            "feature_position": pa.array(np.tile(np.arange(1, d + 1), k), pa.int32()),
            "centroid_z": pa.array(centroids.ravel(), pa.float64()),
            "centroid_original": pa.array(original.ravel(), pa.float64()),
            "count_customers": per_segment(sizes.tolist(), pa.int64()),
            "previous_segment_id": per_segment(previous_ids, pa.int32()),
            "centroid_shift_z": per_segment(shift, pa.float64()),
            "id_assignment": per_run(how, pa.string()),
            "preset": per_run(settings.preset, pa.string()),
            "k": per_run(k, pa.int32()),
            "wcss": per_run(fit.wcss, pa.float64()),
            "silhouette": per_run(silhouette, pa.float64()),
            "silhouette_sample_size": per_run(sample, pa.int64()),
            "n_iter": per_run(fit.n_iter, pa.int32()),
            "converged": per_run(fit.converged, pa.bool_()),
            "init_method": per_run(fit.init, pa.string()),
            "fit_sample_size": per_run(fit_rows, pa.int64()),
            "n_init": per_run(n_init, pa.int32()),
            "random_state": per_run(settings.random_state, pa.int64()),
        }
    )


def resolve_warm_start(
    setting: str | None,
    units: str | None,
    scaler_table: pa.Table,
    previous: pa.Table | None,
    features: FeatureSet,
) -> WarmStart | None:
    """The warm start a ``warm_start`` var asks for: none, ``previous`` (the centroids of the
    last run in this database) or the path of a centroid CSV (see :mod:`warm_start`)."""
    if setting is None or str(setting).strip().lower() in ("", "none", "null"):
        return None
    scaler = FittedScaler.from_arrow(scaler_table)
    if str(setting).strip().lower() == "previous":
        if previous is None or previous.num_rows == 0:
            raise WarmStartError("warm_start 'previous': this database has no previous run")
        centroids, _ = previous_fit_centroids(previous, scaler, features)
        return WarmStart(centroids, "warm start: previous run's centroids")
    label = f"warm_start '{setting}'"
    table = read_centroid_file(setting)
    unit = "original" if units is None or str(units).lower() in ("", "none") else str(units)
    centroids = centroids_from_table(table, scaler, features, units=unit, source=label)
    return WarmStart(centroids, label)


def _names_by_segment(previous: pa.Table) -> dict:
    return dict(
        zip(previous["segment_id"].to_pylist(), previous["segment_name"].to_pylist(), strict=True)
    )


def _final_silhouette(
    z: np.ndarray, labels: np.ndarray, settings: SegmentationSettings
) -> tuple[float | None, int | None]:
    distinct = len(np.unique(labels))
    if not 2 <= distinct < z.shape[0]:
        return None, None
    sample = None if z.shape[0] <= settings.silhouette_max_rows else settings.silhouette_sample_size
    with native_threads_for(sample or z.shape[0]):
        score = silhouette_score(z, labels, sample_size=sample, random_state=settings.random_state)
    return float(score), sample


def centroid_matrix(fit_table: pa.Table) -> np.ndarray:
    """(k, d) z-unit centroids from a segment × feature table, rows by segment_id."""
    ordered = fit_table.sort_by([("segment_id", "ascending"), ("feature_position", "ascending")])
    k = len(set(ordered["segment_id"].to_pylist()))
    return ordered["centroid_z"].to_numpy().reshape(k, -1)


def assignments_table(z_table: pa.Table, fit_table: pa.Table) -> pa.Table:
    """customer_id, segment_id, distance_to_centroid, second_segment_id,
    distance_to_second_centroid, margin (z units; second/margin null when k = 1)."""
    centroids = centroid_matrix(fit_table)
    reporter("ml_customer_assignments")(
        f"nearest of {centroids.shape[0]} centroids for {z_table.num_rows:,} customers"
    )
    assignment = assign_to_centroids(_z_matrix(z_table), centroids)
    has_second = assignment.second_segment >= 0
    return pa.table(
        {
            KEY_COLUMN: z_table[KEY_COLUMN],
            "segment_id": pa.array(assignment.segment + 1, pa.int32()),
            "distance_to_centroid": pa.array(assignment.distance, pa.float64()),
            "second_segment_id": pa.array(
                np.where(has_second, assignment.second_segment + 1, 0), pa.int32(), mask=~has_second
            ),
            "distance_to_second_centroid": pa.array(
                assignment.second_distance, pa.float64(), mask=~has_second
            ),
            "margin": pa.array(assignment.margin, pa.float64(), mask=~has_second),
        }
    )


def ward_leaves_table(z_table: pa.Table, settings: SegmentationSettings) -> pa.Table:
    """customer_id -> leaf_id of the Ward tree, and which method the tree uses.

    Up to ``ward_max_rows`` customers every customer is a leaf (exact Ward). Above it, the
    leaves are ``WARD_MICRO_CLUSTERS`` k-means micro-clusters (two-stage Ward), so memory
    stays O(n) instead of the exact method's O(n²).
    """
    n = z_table.num_rows
    if n <= settings.ward_max_rows:
        leaf = np.arange(n, dtype=np.int64)
        method = "exact"
    else:
        report = reporter("ml_ward_leaves")
        report(f"{n:,} customers > ward_max_rows {settings.ward_max_rows:,}: two-stage Ward")
        leaf = micro_clusters(
            _z_matrix(z_table), min(WARD_MICRO_CLUSTERS, n), random_state=settings.random_state
        )
        method = f"two_stage: ward on {int(leaf.max()) + 1} k-means micro-clusters"
    return pa.table(
        {
            "fit_row": z_table["fit_row"],
            KEY_COLUMN: z_table[KEY_COLUMN],
            "leaf_id": pa.array(leaf, pa.int64()),
            # One value for every row: dictionary-encoded, not a list of n Python strings.
            "linkage_method": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int32)), pa.array([method], pa.string())
            ),
        }
    )


def ward_linkage_table(z_table: pa.Table, leaves: pa.Table) -> pa.Table:
    """One row per merge of the Ward tree over the leaves (see :func:`linkage_to_arrow`),
    plus count_customers under each merged node."""
    z = _z_matrix(z_table)
    leaf = leaves["leaf_id"].to_numpy()
    method = leaves["linkage_method"][0].as_py()
    reporter("ml_ward_linkage")(f"Ward linkage ({method}) over {int(leaf.max()) + 1:,} leaves")
    if method == "exact":
        merges = ward_linkage(z[leaf])
        weights = np.ones(len(leaf))
    else:
        centres, weights = leaf_centroids(z, leaf)
        merges = weighted_ward_linkage(centres, weights)
    table = linkage_to_arrow(merges, method)
    return table.append_column(
        "count_customers", pa.array(_customers_under(merges, weights), pa.int64())
    )


def _customers_under(merges: np.ndarray, leaf_weights: np.ndarray) -> np.ndarray:
    m = len(leaf_weights)
    under = np.concatenate([leaf_weights, np.zeros(len(merges))])
    for step, (left, right, _, _) in enumerate(merges):
        under[m + step] = under[int(left)] + under[int(right)]
    return under[m:].astype(np.int64)


def ward_clusters_table(leaves: pa.Table, merges: pa.Table, diagnostics: pa.Table) -> pa.Table:
    """customer_id, ward_cluster (1..k) with the tree cut at the chosen k."""
    k = chosen_k(diagnostics)
    cluster_of_leaf = cut_tree(linkage_from_arrow(merges), k)
    return pa.table(
        {
            KEY_COLUMN: leaves[KEY_COLUMN],
            "ward_cluster": pa.array(cluster_of_leaf[leaves["leaf_id"].to_numpy()], pa.int32()),
        }
    )


def _effect_input(customers: pa.Table, features: FeatureSet) -> tuple[pa.Table, list, list]:
    """customer_segments -> a table with one column per measure and one per categorical
    feature (holding the category's name), plus those two name lists."""
    measures = [f.name for f in features.measures]
    categorical = features.categorical_names
    columns = {name: customers[name] for name in measures}
    columns.update({name: customers[f"{name}_name"] for name in categorical})
    return pa.table(columns) if columns else pa.table({}), measures, categorical


def category_effects_table(customers: pa.Table, features: FeatureSet) -> pa.Table:
    """Kruskal-Wallis of every measure across the categories of every categorical feature
    (case study: do minutes and CLV differ by channel, by region?). See
    :func:`effects.group_effect_table`; empty when the feature set has no categorical feature."""
    table, measures, categorical = _effect_input(customers, features)
    reporter("ml_category_effects")(
        f"Kruskal-Wallis: {len(measures)} measures × {len(categorical)} categorical features"
    )
    return group_effect_table(table, measures, categorical)


def category_pairs(features: FeatureSet) -> list[tuple[str, str]]:
    """Every pair of categorical features, in declared order (case study: region × channel)."""
    names = features.categorical_names
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def category_associations_table(customers: pa.Table, features: FeatureSet) -> pa.Table:
    """Chi-square test of independence with Cramér's V for every pair of categorical features
    (see :func:`effects.contingency_summary_table`)."""
    table, _, _ = _effect_input(customers, features)
    return contingency_summary_table(table, category_pairs(features))


def category_association_cells_table(customers: pa.Table, features: FeatureSet) -> pa.Table:
    """Observed and expected counts and adjusted standardised residuals per cell of every
    categorical pair (see :func:`effects.contingency_cells_table`)."""
    table, _, _ = _effect_input(customers, features)
    return contingency_cells_table(table, category_pairs(features))
