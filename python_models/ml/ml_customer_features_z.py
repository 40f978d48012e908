"""Standardised features per customer, in the canonical fit order (column fit_row)."""

from customer_segmentation.features import CANONICAL_FEATURE_ORDER
from customer_segmentation.pipeline import standardise_customers


def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("int_customer_features").order(CANONICAL_FEATURE_ORDER).to_arrow_table()
    scaler = dbt.ref("ml_feature_scaler").to_arrow_table()

    return standardise_customers(features, scaler)
