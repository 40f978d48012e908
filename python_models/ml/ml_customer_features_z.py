"""Standardised features per customer, in the canonical fit order (column fit_row)."""

from customer_segmentation.features import FeatureSet
from customer_segmentation.pipeline import standardise_customers


def model(dbt, session):
    dbt.config(materialized="table")
    features = FeatureSet.from_arrow(dbt.ref("int_feature_definitions").to_arrow_table())
    rows = dbt.ref("int_customer_features").order(features.canonical_order).to_arrow_table()
    scaler = dbt.ref("ml_feature_scaler").to_arrow_table()

    return standardise_customers(rows, scaler)
