"""Each customer's nearest centroid, its distance, the runner-up and the margin."""

from customer_segmentation.pipeline import assignments_table


def model(dbt, session):
    dbt.config(materialized="table")
    z = dbt.ref("ml_customer_features_z").order("fit_row").to_arrow_table()
    fit = dbt.ref("ml_kmeans_fit").to_arrow_table()

    return assignments_table(z, fit)
