"""Per cell of every categorical pair: observed, expected counts and standardised residuals."""

from customer_segmentation.features import FeatureSet
from customer_segmentation.pipeline import category_association_cells_table


def model(dbt, session):
    dbt.config(materialized="table")
    features = FeatureSet.from_arrow(dbt.ref("int_feature_definitions").to_arrow_table())
    customers = dbt.ref("customer_segments").to_arrow_table()

    return category_association_cells_table(customers, features)
