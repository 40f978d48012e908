"""Each customer's nearest centroid, its distance, the runner-up, the margin and the features
that carry the margin."""

from customer_segmentation.models import customer_assignments


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    fit = dbt.ref("ml_kmeans_fit")
    definitions = dbt.ref("int_feature_definitions")

    return customer_assignments(session, z, fit, definitions)
