"""The final k-means fit: one row per segment x feature (centroids, names, fit facts)."""

from customer_segmentation.features import FeatureSet
from customer_segmentation.pipeline import kmeans_fit_table, resolve_warm_start
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.warehouse import existing_table


def model(dbt, session):
    dbt.config(materialized="table")
    config = {
        "preset": dbt.config.get("preset"),
        "random_state": dbt.config.get("random_state"),
        "silhouette_max_rows": dbt.config.get("silhouette_max_rows"),
        "silhouette_sample_size": dbt.config.get("silhouette_sample_size"),
    }
    warm_start = dbt.config.get("warm_start")
    warm_start_units = dbt.config.get("warm_start_units")
    z = dbt.ref("ml_customer_features_z").order("fit_row").to_arrow_table()
    scaler = dbt.ref("ml_feature_scaler").to_arrow_table()
    diagnostics = dbt.ref("ml_k_diagnostics").to_arrow_table()
    features = FeatureSet.from_arrow(dbt.ref("int_feature_definitions").to_arrow_table())

    this = dbt.this
    previous = existing_table(session, this.database, this.schema, this.identifier)
    settings = SegmentationSettings.from_config(config.get)
    return kmeans_fit_table(
        z,
        scaler,
        diagnostics,
        settings,
        features,
        previous=previous,
        warm_start=resolve_warm_start(warm_start, warm_start_units, scaler, previous, features),
    )
