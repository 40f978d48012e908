"""One entry point per dbt Python model, for either engine.

A dbt Python model reads its inputs with ``dbt.ref()`` (dbt finds the refs in the model file,
so they stay there) and hands the results to the function here of the same name. The type of
what ``dbt.ref()`` returned picks the engine: a DuckDB relation (dbt-duckdb) is read into
Arrow in the canonical fit order and goes through :mod:`customer_segmentation.pipeline`
(scikit-learn); a pyspark DataFrame (dbt-spark) goes through
:mod:`customer_segmentation.spark.engine` (Spark MLlib). Both return the same columns.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from customer_segmentation import pipeline
from customer_segmentation.features import FeatureSet, to_matrix
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.spark import is_spark_dataframe
from customer_segmentation.warehouse import existing_table


def _spark():
    from customer_segmentation.spark import engine

    return engine


def _arrow(relation: Any, order: str | None = None) -> pa.Table:
    """A DuckDB relation (or a Spark DataFrame, collected) as Arrow, optionally ordered."""
    if is_spark_dataframe(relation):
        return _spark().to_arrow(relation)
    return (relation.order(order) if order else relation).to_arrow_table()


def _features(definitions: Any) -> FeatureSet:
    return FeatureSet.from_arrow(_arrow(definitions))


def feature_scaler(definitions: Any, rows: Any) -> Any:
    """ml_feature_scaler from int_feature_definitions and int_customer_features."""
    features = _features(definitions)
    if is_spark_dataframe(rows):
        return _spark().feature_scaler_table(rows, features.names)
    table = _arrow(rows, features.canonical_order)
    return FittedScaler.fit(to_matrix(table, features.names), features.names).to_arrow()


def customer_features_z(definitions: Any, rows: Any, scaler: Any) -> Any:
    """ml_customer_features_z: z-scores in the canonical fit order (column fit_row)."""
    features = _features(definitions)
    if is_spark_dataframe(rows):
        return _spark().standardise_customers(rows, scaler, order=features.canonical_order)
    return pipeline.standardise_customers(_arrow(rows, features.canonical_order), _arrow(scaler))


#: How the Spark engine runs the k diagnostics unless var spark_diagnostics says otherwise.
#: ``driver``: this project's restarts and polish passes on the seeded sample collected to the
#: driver (at most diagnostics_max_rows rows), so both engines choose from the same fits. One
#: MLlib k-means|| per k (``mllib``) ended 37 % above that WCSS at k = 8 on the demo data.
SPARK_DIAGNOSTICS = "driver"


def k_diagnostics(
    z: Any,
    settings: SegmentationSettings,
    source: str | None,
    *,
    spark_diagnostics: str | None = None,
) -> Any:
    if is_spark_dataframe(z):
        how = spark_diagnostics
        if how is None or str(how).strip().lower() in ("", "none", "null"):
            how = SPARK_DIAGNOSTICS
        return _spark().k_diagnostics_table(z, settings, source, restarts=str(how))
    return pipeline.k_diagnostics_table(_arrow(z, "fit_row"), settings, source=source)


def kmeans_fit(
    z: Any,
    scaler: Any,
    diagnostics: Any,
    definitions: Any,
    settings: SegmentationSettings,
    *,
    session: Any,
    this: Any,
    warm_start: str | None,
    warm_start_units: str | None,
) -> Any:
    """ml_kmeans_fit; ``this`` is the model's own relation, whose previous contents keep
    segment ids stable across runs."""
    features = _features(definitions)
    scaler_table, diagnostics_table = _arrow(scaler), _arrow(diagnostics)
    if is_spark_dataframe(z):
        previous_frame = _spark().existing_table(session, this.schema, this.identifier)
        previous = None if previous_frame is None else _arrow(previous_frame)
    else:
        previous = existing_table(session, this.database, this.schema, this.identifier)
    start = pipeline.resolve_warm_start(
        warm_start, warm_start_units, scaler_table, previous, features
    )
    if is_spark_dataframe(z):
        return _spark().kmeans_fit_table(
            z, scaler_table, diagnostics_table, settings, features,
            previous=previous, warm_start=start,
        )  # fmt: skip
    return pipeline.kmeans_fit_table(
        _arrow(z, "fit_row"), scaler_table, diagnostics_table, settings, features,
        previous=previous, warm_start=start,
    )  # fmt: skip


def customer_assignments(z: Any, fit: Any) -> Any:
    if is_spark_dataframe(z):
        return _spark().assignments_table(z, fit)
    return pipeline.assignments_table(_arrow(z, "fit_row"), _arrow(fit))


def ward_leaves(z: Any, settings: SegmentationSettings) -> Any:
    if is_spark_dataframe(z):
        return _spark().ward_leaves_table(z, settings)
    return pipeline.ward_leaves_table(_arrow(z, "fit_row"), settings)


def ward_linkage(z: Any, leaves: Any) -> Any:
    if is_spark_dataframe(z):
        return _spark().ward_linkage_table(z, leaves)
    return pipeline.ward_linkage_table(_arrow(z, "fit_row"), _arrow(leaves, "fit_row"))


def ward_clusters(leaves: Any, merges: Any, diagnostics: Any) -> Any:
    if is_spark_dataframe(leaves):
        return _spark().ward_clusters_table(leaves, merges, diagnostics)
    return pipeline.ward_clusters_table(_arrow(leaves), _arrow(merges), _arrow(diagnostics))


def _small_result(like: Any, table: pa.Table) -> Any:
    """Effect tests are computed on the driver: return them as the engine's table type."""
    if is_spark_dataframe(like):
        return _spark().to_spark(like.sparkSession, table)
    return table


def category_effects(definitions: Any, customers: Any) -> Any:
    table = pipeline.category_effects_table(_arrow(customers), _features(definitions))
    return _small_result(customers, table)


def category_associations(definitions: Any, customers: Any) -> Any:
    table = pipeline.category_associations_table(_arrow(customers), _features(definitions))
    return _small_result(customers, table)


def category_association_cells(definitions: Any, customers: Any) -> Any:
    table = pipeline.category_association_cells_table(_arrow(customers), _features(definitions))
    return _small_result(customers, table)


def environment(session: Any) -> Any:
    """ml_environment: library versions, as the session's table type (Arrow for DuckDB, a
    Spark DataFrame when ``session`` is a SparkSession)."""
    from customer_segmentation.environment import environment_table

    table = environment_table()
    if type(session).__module__.startswith("pyspark"):
        return _spark().to_spark(session, table)
    return table
