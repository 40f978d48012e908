"""The final k-means fit: one row per segment x feature (centroids, names, fit facts)."""

from customer_segmentation.pipeline import kmeans_fit_table
from customer_segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    config = {
        "preset": dbt.config.get("preset"),
        "random_state": dbt.config.get("random_state"),
        "n_init": dbt.config.get("n_init"),
    }
    z = dbt.ref("ml_customer_features_z").order("fit_row").to_arrow_table()
    scaler = dbt.ref("ml_feature_scaler").to_arrow_table()
    diagnostics = dbt.ref("ml_k_diagnostics").to_arrow_table()
    regions = dbt.ref("regions").to_arrow_table()
    channels = dbt.ref("channels").to_arrow_table()

    settings = SegmentationSettings.from_config(config.get)
    return kmeans_fit_table(z, scaler, diagnostics, settings, regions=regions, channels=channels)
