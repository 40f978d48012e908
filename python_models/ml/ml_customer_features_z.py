"""Standardised features per customer, in the canonical fit order (column fit_row)."""

from customer_segmentation.models import customer_features_z


def model(dbt, session):
    dbt.config(materialized="table")
    definitions = dbt.ref("int_feature_definitions")
    rows = dbt.ref("int_customer_features")
    scaler = dbt.ref("ml_feature_scaler")

    return customer_features_z(session, definitions, rows, scaler)
