"""Ward linkage over the leaves: one row per merge (a dendrogram as a table)."""

from customer_segmentation.models import ward_linkage


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z")
    leaves = dbt.ref("ml_ward_leaves")

    return ward_linkage(session, z, leaves)
