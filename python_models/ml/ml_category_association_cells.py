"""Per cell of every categorical pair: observed, expected counts and standardised residuals."""

from customer_segmentation.models import category_association_cells


def model(dbt, session):
    dbt.config(materialized="table")
    definitions = dbt.ref("int_feature_definitions")
    customers = dbt.ref("customer_segments")

    return category_association_cells(session, definitions, customers)
