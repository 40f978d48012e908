"""One function per dbt Python model (python_models/ml/ml_<name>.py calls <name> here).

A model reads its inputs with ``dbt.ref()`` (dbt finds the refs in the model file, so they
stay there) and hands them, with its ``session``, to the function of the same name. The
engine is chosen once, from the session (:func:`engines.for_session`); small inputs
(feature definitions, scaler, diagnostics, fit) are read to Arrow, row inputs stay in the
engine, and the result comes back as the engine's table type.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from customer_segmentation import diagnostics, segments, tree
from customer_segmentation.effects import (
    contingency_cells_table,
    contingency_summary_table,
    group_effect_table,
)
from customer_segmentation.engines import Engine, for_session
from customer_segmentation.environment import environment_table
from customer_segmentation.features import FeatureSet
from customer_segmentation.progress import reporter
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.warm_start import resolve_warm_start


def _features(engine: Engine, definitions: Any) -> FeatureSet:
    return FeatureSet.from_arrow(engine.read(definitions))


def feature_scaler(session: Any, definitions: Any, rows: Any) -> Any:
    """ml_feature_scaler from int_feature_definitions and int_customer_features."""
    engine = for_session(session)
    features = _features(engine, definitions)
    scaler = engine.fit_scaler(rows, features.names, features.canonical_order)
    return engine.table(scaler.to_arrow())


def customer_features_z(session: Any, definitions: Any, rows: Any, scaler: Any) -> Any:
    """ml_customer_features_z: z-scores in the canonical fit order (column fit_row)."""
    engine = for_session(session)
    features = _features(engine, definitions)
    fitted = FittedScaler.from_arrow(engine.read(scaler))
    return engine.standardise(rows, fitted, features.canonical_order)


def _settings(engine: Engine, settings: Any) -> SegmentationSettings:
    return SegmentationSettings.from_arrow(engine.read(settings))


def k_diagnostics(session: Any, z: Any, settings: Any) -> Any:
    """ml_k_diagnostics; the settings' spark_diagnostics mode applies on Spark only."""
    engine = for_session(session)
    fit = _settings(engine, settings)
    mode = fit.spark_diagnostics if engine.name == "spark" else "driver"
    table = diagnostics.k_diagnostics_table(engine, z, fit, fit.input_label, mode=mode)
    return engine.table(table)


def kmeans_fit(
    session: Any,
    z: Any,
    scaler: Any,
    k_diagnostics: Any,
    definitions: Any,
    settings: Any,
    *,
    this: Any,
) -> Any:
    """ml_kmeans_fit; ``this`` is the model's own relation, whose previous contents keep
    segment ids stable across runs."""
    engine = for_session(session)
    features = _features(engine, definitions)
    fit = _settings(engine, settings)
    fitted = FittedScaler.from_arrow(engine.read(scaler))
    previous = engine.previous(this)
    start = resolve_warm_start(fit.warm_start, fit.warm_start_units, fitted, previous, features)
    table = segments.kmeans_fit_table(
        engine,
        z,
        fitted,
        engine.read(k_diagnostics),
        features,
        fit,
        previous=previous,
        warm_start=start,
    )
    return engine.table(table)


def customer_assignments(session: Any, z: Any, fit: Any) -> Any:
    """ml_customer_assignments: nearest and runner-up segment per customer."""
    engine = for_session(session)
    return engine.assign(z, segments.centroid_matrix(engine.read(fit)))


def ward_leaves(session: Any, z: Any, settings: Any) -> Any:
    engine = for_session(session)
    return tree.ward_leaves(engine, z, _settings(engine, settings))


def ward_linkage(session: Any, z: Any, leaves: Any) -> Any:
    engine = for_session(session)
    return engine.table(tree.ward_linkage_table(engine, z, leaves))


def ward_clusters(session: Any, leaves: Any, merges: Any, k_diagnostics: Any) -> Any:
    engine = for_session(session)
    return tree.ward_clusters(engine, leaves, engine.read(merges), engine.read(k_diagnostics))


def _effect_input(customers: pa.Table, features: FeatureSet) -> tuple[pa.Table, list, list]:
    """customer_segments -> one column per measure and one per categorical feature (holding
    the category's name), plus those two name lists."""
    measures = [f.name for f in features.measures]
    categorical = features.categorical_names
    columns = {name: customers[name] for name in measures}
    columns.update({name: customers[f"{name}_name"] for name in categorical})
    return pa.table(columns) if columns else pa.table({}), measures, categorical


def category_pairs(features: FeatureSet) -> list[tuple[str, str]]:
    """Every pair of categorical features, in declared order (case study: region × channel)."""
    names = features.categorical_names
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def category_effects(session: Any, definitions: Any, customers: Any) -> Any:
    """ml_category_effects: Kruskal-Wallis of every measure across the categories of every
    categorical feature (:func:`effects.group_effect_table`)."""
    engine = for_session(session)
    features = _features(engine, definitions)
    table, measures, categorical = _effect_input(engine.read(customers), features)
    reporter("ml_category_effects")(
        f"Kruskal-Wallis: {len(measures)} measures × {len(categorical)} categorical features"
    )
    return engine.table(group_effect_table(table, measures, categorical))


def category_associations(session: Any, definitions: Any, customers: Any) -> Any:
    """ml_category_associations: chi-square and Cramér's V per categorical pair."""
    engine = for_session(session)
    features = _features(engine, definitions)
    table, _, _ = _effect_input(engine.read(customers), features)
    return engine.table(contingency_summary_table(table, category_pairs(features)))


def category_association_cells(session: Any, definitions: Any, customers: Any) -> Any:
    """ml_category_association_cells: observed, expected and adjusted residuals per cell."""
    engine = for_session(session)
    features = _features(engine, definitions)
    table, _, _ = _effect_input(engine.read(customers), features)
    return engine.table(contingency_cells_table(table, category_pairs(features)))


def environment(session: Any) -> Any:
    """ml_environment: library versions, one row per component."""
    return for_session(session).table(environment_table())
