"""Kruskal-Wallis with effect size: each measure across the categories of each categorical."""

from customer_segmentation.features import FeatureSet
from customer_segmentation.pipeline import category_effects_table


def model(dbt, session):
    dbt.config(materialized="table")
    features = FeatureSet.from_arrow(dbt.ref("int_feature_definitions").to_arrow_table())
    customers = dbt.ref("customer_segments").to_arrow_table()

    return category_effects_table(customers, features)
