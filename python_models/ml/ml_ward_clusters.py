"""Each customer's Ward cluster when the tree is cut at the chosen k."""

from customer_segmentation.models import ward_clusters


def model(dbt, session):
    dbt.config(materialized="table")
    leaves = dbt.ref("ml_ward_leaves")
    merges = dbt.ref("ml_ward_linkage")
    diagnostics = dbt.ref("ml_k_diagnostics")

    return ward_clusters(session, leaves, merges, diagnostics)
