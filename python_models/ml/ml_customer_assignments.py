"""Each customer's nearest centroid, its distance, the runner-up and the margin."""

from customer_segmentation.models import customer_assignments


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    fit = dbt.ref("ml_kmeans_fit")

    return customer_assignments(session, z, fit)
