"""Leaves of the Ward tree: every customer (exact Ward) or k-means micro-clusters (two-stage)."""

from customer_segmentation.models import ward_leaves
from customer_segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    config = {
        "random_state": dbt.config.get("random_state"),
        "ward_max_rows": dbt.config.get("ward_max_rows"),
    }
    z = dbt.ref("ml_customer_features_z")

    return ward_leaves(session, z, SegmentationSettings.from_config(config.get))
