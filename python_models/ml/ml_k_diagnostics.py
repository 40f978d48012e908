"""k-means at every k of the range: WCSS, silhouette, CH, DB; which k the rule chooses."""

from customer_segmentation.models import k_diagnostics


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    settings = dbt.ref("int_segmentation_settings")

    return k_diagnostics(session, z, settings)
