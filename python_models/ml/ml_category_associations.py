"""Chi-square with Cramér's V for every pair of categorical features (region x channel)."""

from customer_segmentation.features import FeatureSet
from customer_segmentation.pipeline import category_associations_table


def model(dbt, session):
    dbt.config(materialized="table")
    features = FeatureSet.from_arrow(dbt.ref("int_feature_definitions").to_arrow_table())
    customers = dbt.ref("customer_segments").to_arrow_table()

    return category_associations_table(customers, features)
