"""The final k-means fit: one row per segment x feature (centroids, names, fit facts)."""

from customer_segmentation.models import kmeans_fit
from customer_segmentation.settings import SegmentationSettings


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
    z = dbt.ref("ml_customer_features_z")
    scaler = dbt.ref("ml_feature_scaler")
    diagnostics = dbt.ref("ml_k_diagnostics")
    definitions = dbt.ref("int_feature_definitions")

    return kmeans_fit(
        session,
        z,
        scaler,
        diagnostics,
        definitions,
        SegmentationSettings.from_config(config.get),
        this=dbt.this,
        warm_start=warm_start,
        warm_start_units=warm_start_units,
    )
