"""k-means at every k of the range: WCSS, silhouette, CH, DB; which k the rule chooses."""

from customer_segmentation.engines import k_diagnostics
from customer_segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    config = {
        "preset": dbt.config.get("preset"),
        "k": dbt.config.get("k"),
        "k_min": dbt.config.get("k_min"),
        "k_max": dbt.config.get("k_max"),
        "k_rule": dbt.config.get("k_rule"),
        "random_state": dbt.config.get("random_state"),
        "n_init": dbt.config.get("n_init"),
        "best_repeats": dbt.config.get("best_repeats"),
        "silhouette_max_rows": dbt.config.get("silhouette_max_rows"),
        "silhouette_sample_size": dbt.config.get("silhouette_sample_size"),
        "diagnostics_max_rows": dbt.config.get("diagnostics_max_rows"),
    }
    input_label = dbt.config.get("input_label")
    spark_diagnostics = dbt.config.get("spark_diagnostics")
    z = dbt.ref("ml_customer_features_z")

    settings = SegmentationSettings.from_config(config.get)
    return k_diagnostics(z, settings, input_label, spark_diagnostics=spark_diagnostics)
