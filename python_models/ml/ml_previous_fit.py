"""The previous run's ml_kmeans_fit, kept before the new fit replaces it (id matching)."""

from customer_segmentation.models import previous_fit


def model(dbt, session):
    dbt.config(materialized="table")
    return previous_fit(session, dbt.this)
