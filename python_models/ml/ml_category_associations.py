"""Chi-square with Cramér's V for every pair of categorical features (region x channel)."""

from customer_segmentation.models import category_associations


def model(dbt, session):
    dbt.config(materialized="table")
    definitions = dbt.ref("int_feature_definitions")
    customers = dbt.ref("customer_segments")

    return category_associations(session, definitions, customers)
