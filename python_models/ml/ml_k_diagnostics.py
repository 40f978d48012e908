"""k-means at every k of the range: WCSS, silhouette, CH, DB; which k the rule chooses."""

from customer_segmentation.models import k_diagnostics


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    settings = dbt.ref("int_segmentation_settings")
    warm_start = dbt.ref("ml_warm_start")  # checked first: a bad centroid file stops here

    return k_diagnostics(session, z, settings, warm_start)
