"""The final k-means fit: one row per segment x feature (centroids, names, fit facts)."""

from customer_segmentation.models import kmeans_fit


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    scaler = dbt.ref("ml_feature_scaler")
    diagnostics = dbt.ref("ml_k_diagnostics")
    definitions = dbt.ref("int_feature_definitions")
    settings = dbt.ref("int_segmentation_settings")
    previous = dbt.ref("ml_previous_fit")
    warm_start = dbt.ref("ml_warm_start")
    previous_assignments = dbt.ref("ml_previous_assignments")

    return kmeans_fit(
        session,
        z,
        scaler,
        diagnostics,
        definitions,
        settings,
        previous,
        warm_start,
        previous_assignments,
    )
