"""Leaves of the Ward tree: every customer (exact Ward) or k-means micro-clusters (two-stage)."""

from customer_segmentation.models import ward_leaves


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    settings = dbt.ref("int_segmentation_settings")

    return ward_leaves(session, z, settings)
