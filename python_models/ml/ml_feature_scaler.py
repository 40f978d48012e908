"""Fitted standardisation: one row per feature (mean, population std, scale, handling)."""

from customer_segmentation.features import CANONICAL_FEATURE_ORDER, feature_columns, to_matrix
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    preset = dbt.config.get("preset")
    features = dbt.ref("int_customer_features").order(CANONICAL_FEATURE_ORDER).to_arrow_table()

    settings = SegmentationSettings.from_config({"preset": preset}.get)
    names = feature_columns(features.column_names, include_region_code=settings.include_region_code)
    return FittedScaler.fit(to_matrix(features, names), names).to_arrow()
