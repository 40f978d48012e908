"""Segment stability by bootstrap refits: one row per segment (Jaccard) with the run's ARI."""

from customer_segmentation.models import segment_stability


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    fit = dbt.ref("ml_kmeans_fit")
    settings = dbt.ref("int_segmentation_settings")
    return segment_stability(session, z, fit, settings)
