"""Each customer's Ward cluster when the tree is cut at the chosen k."""

from customer_segmentation.pipeline import ward_clusters_table


def model(dbt, session):
    dbt.config(materialized="table")
    leaves = dbt.ref("ml_ward_leaves").to_arrow_table()
    merges = dbt.ref("ml_ward_linkage").to_arrow_table()
    diagnostics = dbt.ref("ml_k_diagnostics").to_arrow_table()

    return ward_clusters_table(leaves, merges, diagnostics)
