"""Fitted standardisation: one row per feature (mean, population std, scale, handling)."""

from customer_segmentation.models import feature_scaler


def model(dbt, session):
    dbt.config(materialized="table")
    definitions = dbt.ref("int_feature_definitions")
    rows = dbt.ref("int_customer_features")

    return feature_scaler(session, definitions, rows)
