"""Kruskal-Wallis with effect size: each measure across the categories of each categorical."""

from customer_segmentation.models import category_effects


def model(dbt, session):
    dbt.config(materialized="table")
    definitions = dbt.ref("int_feature_definitions")
    customers = dbt.ref("customer_segments")

    return category_effects(session, definitions, customers)
