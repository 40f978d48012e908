"""Ward linkage over the leaves: one row per merge (a dendrogram as a table)."""

from customer_segmentation.pipeline import ward_linkage_table


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z").order("fit_row").to_arrow_table()
    leaves = dbt.ref("ml_ward_leaves").order("fit_row").to_arrow_table()

    return ward_linkage_table(z, leaves)
