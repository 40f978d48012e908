"""One function per dbt Python model (python_models/ml/ml_<name>.py calls <name> here).

A model reads its inputs with ``dbt.ref()`` (dbt finds the refs in the model file, so they
stay there) and hands them, with its ``session``, to the function of the same name. The
engine is chosen once, from the session (:func:`engines.for_session`); small inputs
(feature definitions, scaler, diagnostics, fit) are read to Arrow, row inputs stay in the
engine, and the result comes back as the engine's table type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from customer_segmentation import diagnostics, segments, tree
from customer_segmentation.effect_tables import (
    COUNT_COLUMN,
    Counts,
    contingency_cells_table,
    contingency_summary_table,
    group_effect_table,
)
from customer_segmentation.engines import Engine, for_session
from customer_segmentation.environment import environment_table
from customer_segmentation.explain import FeatureGroups
from customer_segmentation.features import FeatureSet
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.stability import bootstrap_stability, stability_sample, stability_table
from customer_segmentation.warm_start import (
    WarmStartError,
    column_aliases,
    resolve_warm_start,
    warm_start_from_table,
    warm_start_table,
)


def _features(engine: Engine, definitions: Any) -> FeatureSet:
    return FeatureSet.from_arrow(engine.read(definitions))


def feature_scaler(session: Any, definitions: Any, rows: Any) -> Any:
    """ml_feature_scaler from int_feature_definitions and int_customer_features."""
    engine = for_session(session)
    features = _features(engine, definitions)
    scaler = engine.fit_scaler(rows, features.names)
    return engine.table(scaler.to_arrow())


def customer_features_z(session: Any, definitions: Any, rows: Any, scaler: Any) -> Any:
    """ml_customer_features_z: z-scores in the canonical fit order (column fit_row)."""
    engine = for_session(session)
    features = _features(engine, definitions)
    fitted = FittedScaler.from_arrow(engine.read(scaler))
    return engine.standardise(rows, fitted, features.canonical_order)


def _settings(engine: Engine, settings: Any) -> SegmentationSettings:
    return SegmentationSettings.from_arrow(engine.read(settings))


def k_diagnostics(session: Any, z: Any, settings: Any, warm_start: Any) -> Any:
    """ml_k_diagnostics; the settings' spark_diagnostics mode applies on Spark only.
    ``warm_start`` (ml_warm_start) is read so a bad centroid file stops the build before the
    diagnostics run; the diagnostics table itself does not depend on it."""
    engine = for_session(session)
    fit = _settings(engine, settings)
    if engine.count(warm_start):
        reporter("ml_k_diagnostics")(
            "warm start checked (ml_warm_start): the final fit starts there"
        )
    mode = fit.spark_diagnostics if engine.name == "spark" else "driver"
    table = diagnostics.k_diagnostics_table(engine, z, fit, fit.input_label, mode=mode)
    return engine.table(table)


#: The columns of ml_kmeans_fit that ml_previous_fit keeps (what id matching needs).
PREVIOUS_FIT_SCHEMA = pa.schema(
    [
        ("segment_id", pa.int32()),
        ("segment_name", pa.string()),
        ("feature_name", pa.string()),
        ("feature_position", pa.int32()),
        ("centroid_z", pa.float64()),
        ("centroid_original", pa.float64()),
        ("max_issued_segment_id", pa.int32()),
    ]
)


#: The columns of ml_customer_assignments that ml_previous_assignments keeps.
PREVIOUS_ASSIGNMENTS_SCHEMA = pa.schema([("customer_id", pa.string()), ("segment_id", pa.int32())])


def _kept(previous: pa.Table | None, schema: pa.Schema) -> pa.Table:
    if previous is None:
        return schema.empty_table()
    return previous.select(schema.names).cast(schema)


def previous_fit(session: Any, this: Any) -> Any:
    """ml_previous_fit: the last run's ml_kmeans_fit (its id-matching columns and the highest
    segment id ever issued), read before the new fit replaces it; no rows on the first run.
    ``this`` is the model's relation. A table written before max_issued_segment_id existed
    gets its highest segment id there."""
    engine = for_session(session)
    previous = engine.previous(this, "ml_kmeans_fit")
    if previous is not None and "max_issued_segment_id" not in previous.column_names:
        highest = max(previous["segment_id"].to_pylist(), default=0)
        previous = previous.append_column(
            "max_issued_segment_id", pa.array([highest] * previous.num_rows, pa.int32())
        )
    return engine.table(_kept(previous, PREVIOUS_FIT_SCHEMA))


def previous_assignments(session: Any, this: Any) -> Any:
    """ml_previous_assignments: the last run's ml_customer_assignments (customer_id,
    segment_id), read before ml_kmeans_fit (which refs this model) and so before the new
    assignments replace them; no rows on the first run."""
    engine = for_session(session)
    previous = engine.previous(this, "ml_customer_assignments")
    return engine.table(_kept(previous, PREVIOUS_ASSIGNMENTS_SCHEMA))


def warm_start(session: Any, settings: Any, scaler: Any, definitions: Any, previous: Any) -> Any:
    """ml_warm_start: the warm start's centroids (z units), checked before the k diagnostics
    run; no rows when var warm_start is unset. A start whose k differs from a fixed k stops
    here, naming the var."""
    engine = for_session(session)
    fit = _settings(engine, settings)
    definition_table = engine.read(definitions)
    features = FeatureSet.from_arrow(definition_table)
    fitted = FittedScaler.from_arrow(engine.read(scaler))
    start = resolve_warm_start(
        fit.warm_start,
        fit.warm_start_units,
        fitted,
        engine.read(previous),
        features,
        column_aliases(definition_table),
    )
    if start is not None:
        count = start.centroids.shape[0]
        if fit.k_rule == "fixed" and count != fit.k:
            raise WarmStartError(
                f"{start.label}: {count} centroids, but k is {fit.k}; set var k: {count}"
            )
        reporter("ml_warm_start")(f"{start.label}: {count} centroids checked")
    return engine.table(warm_start_table(start, features.names))


def kmeans_fit(
    session: Any,
    z: Any,
    scaler: Any,
    k_diagnostics: Any,
    definitions: Any,
    settings: Any,
    previous: Any,
    warm_start: Any,
    previous_assignments: Any = None,
) -> Any:
    """ml_kmeans_fit from the k diagnostics' chosen k (or ml_warm_start's centroids); segment
    ids follow ml_previous_fit, on the customers shared with ml_previous_assignments."""
    engine = for_session(session)
    features = _features(engine, definitions)
    table = segments.kmeans_fit_table(
        engine,
        z,
        FittedScaler.from_arrow(engine.read(scaler)),
        engine.read(k_diagnostics),
        features,
        _settings(engine, settings),
        previous=engine.read(previous),
        warm_start=warm_start_from_table(engine.read(warm_start), features.names),
        previous_assignments=_if_rows(engine, previous_assignments),
    )
    return engine.table(table)


def _if_rows(engine: Engine, relation: Any) -> Any:
    return None if relation is None or engine.count(relation) == 0 else relation


def customer_assignments(session: Any, z: Any, fit: Any, definitions: Any) -> Any:
    """ml_customer_assignments: nearest and runner-up segment per customer, and the features
    that carry the margin between them (:mod:`customer_segmentation.explain`), named by
    int_feature_definitions' source features."""
    engine = for_session(session)
    table = engine.read(fit)
    ids = sorted(set(table["segment_id"].to_pylist()))
    groups = FeatureGroups.from_sources([f.source for f in _features(engine, definitions).features])
    return engine.assign(z, segments.centroid_matrix(table), np.asarray(ids), groups)


def segment_stability(session: Any, z: Any, fit: Any, settings: Any) -> Any:
    """ml_segment_stability: each segment's bootstrap Jaccard and the run's mean ARI
    (:func:`stability.bootstrap_stability`) on the collected z rows, or their seeded sample
    above stability_sample_size; every figure null (and a note) when stability_resamples
    is 0."""
    engine = for_session(session)
    run = _settings(engine, settings)
    table = engine.read(fit)
    ids = np.asarray(sorted(set(table["segment_id"].to_pylist())))
    if run.stability_resamples == 0:
        note = "off: var stability_resamples is 0"
        return engine.table(stability_table(ids, None, note))
    rows = stability_sample(engine.count(z), run.stability_sample_size, run.random_state)
    progress = reporter("ml_segment_stability")
    size = "every row" if rows is None else f"a seeded sample of {len(rows)} rows"
    progress(f"{run.stability_resamples} bootstrap refits on {size}")
    result = bootstrap_stability(
        engine.matrix(z, rows),
        segments.centroid_matrix(table),
        n_resamples=run.stability_resamples,
        n_init=run.stability_n_init,
        random_state=run.random_state,
    )
    note = None if rows is None else f"seeded sample of {len(rows)} customers"
    return engine.table(stability_table(ids, result, note))


def ward_leaves(session: Any, z: Any, settings: Any) -> Any:
    engine = for_session(session)
    return tree.ward_leaves(engine, z, _settings(engine, settings))


def ward_linkage(session: Any, z: Any, leaves: Any) -> Any:
    engine = for_session(session)
    return engine.table(tree.ward_linkage_table(engine, z, leaves))


def ward_clusters(session: Any, leaves: Any, merges: Any, k_diagnostics: Any) -> Any:
    engine = for_session(session)
    return tree.ward_clusters(engine, leaves, engine.read(merges), engine.read(k_diagnostics))


def _effect_counts(
    engine: Engine, customers: Any, features: FeatureSet
) -> tuple[Counts, list, list]:
    """Grouped counts of customer_segments by measures and categorical features (a
    categorical's column holds its category's name), counted by the engine where the rows
    live, plus the two name lists."""
    measures = [f.name for f in features.measures]
    categorical = features.categorical_names
    source = {name: name for name in measures} | {name: f"{name}_name" for name in categorical}

    def counts(columns: Sequence[str]) -> pa.Table:
        counted = engine.counts(customers, [source[name] for name in columns])
        return counted.rename_columns([*columns, COUNT_COLUMN])

    return counts, measures, categorical


def category_pairs(features: FeatureSet) -> list[tuple[str, str]]:
    """Every pair of categorical features, in declared order (case study: region × channel)."""
    names = features.categorical_names
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def category_effects(session: Any, definitions: Any, customers: Any) -> Any:
    """ml_category_effects: Kruskal-Wallis of every measure across the categories of every
    categorical feature (:func:`effects.group_effect_table`)."""
    engine = for_session(session)
    features = _features(engine, definitions)
    counts, measures, categorical = _effect_counts(engine, customers, features)
    reporter("ml_category_effects")(
        f"Kruskal-Wallis: {len(measures)} measures × {len(categorical)} categorical features"
    )
    return engine.table(group_effect_table(counts, measures, categorical))


def category_associations(session: Any, definitions: Any, customers: Any) -> Any:
    """ml_category_associations: chi-square and Cramér's V per categorical pair."""
    engine = for_session(session)
    features = _features(engine, definitions)
    counts, _, _ = _effect_counts(engine, customers, features)
    return engine.table(contingency_summary_table(counts, category_pairs(features)))


def category_association_cells(session: Any, definitions: Any, customers: Any) -> Any:
    """ml_category_association_cells: observed, expected and adjusted residuals per cell."""
    engine = for_session(session)
    features = _features(engine, definitions)
    counts, _, _ = _effect_counts(engine, customers, features)
    return engine.table(contingency_cells_table(counts, category_pairs(features)))


def environment(session: Any) -> Any:
    """ml_environment: library versions, one row per component."""
    return for_session(session).table(environment_table())
