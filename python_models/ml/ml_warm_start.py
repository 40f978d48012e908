"""The warm start's centroids (z units), checked before the k diagnostics; empty when unset."""

from customer_segmentation.models import warm_start


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_segmentation_settings")
    scaler = dbt.ref("ml_feature_scaler")
    definitions = dbt.ref("int_feature_definitions")
    previous = dbt.ref("ml_previous_fit")

    return warm_start(session, settings, scaler, definitions, previous)
