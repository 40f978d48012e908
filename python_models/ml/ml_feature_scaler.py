"""Fitted standardisation: one row per feature (mean, population std, scale, handling)."""

from customer_segmentation.features import FeatureSet, to_matrix
from customer_segmentation.scaling import FittedScaler


def model(dbt, session):
    dbt.config(materialized="table")
    features = FeatureSet.from_arrow(dbt.ref("int_feature_definitions").to_arrow_table())
    rows = dbt.ref("int_customer_features").order(features.canonical_order).to_arrow_table()

    return FittedScaler.fit(to_matrix(rows, features.names), features.names).to_arrow()
