"""The previous run's ml_customer_assignments, kept before ml_kmeans_fit (which refs this
model) and the new assignments replace it: shared customers match ids and feed transitions."""

from customer_segmentation.models import previous_assignments


def model(dbt, session):
    dbt.config(materialized="table")
    return previous_assignments(session, dbt.this)
