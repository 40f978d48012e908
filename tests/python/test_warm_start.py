"""Centroid files for a warm start: feature names or the input's names, wide or long."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from customer_segmentation.features import FeatureSet
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.warm_start import (
    WarmStart,
    WarmStartError,
    centroids_from_table,
    column_aliases,
    warm_start_from_table,
    warm_start_table,
)

DEFINITIONS = pa.Table.from_pylist(
    [
        {"feature_position": 1, "feature_name": "minutes_watched", "feature_kind": "numeric",
         "source_feature": "minutes_watched", "source_column": "minutes_watched",
         "category_code": None, "category_key": None},
        {"feature_position": 2, "feature_name": "customer_lifetime_value",
         "feature_kind": "numeric", "source_feature": "customer_lifetime_value",
         "source_column": "CLV", "category_code": None, "category_key": None},
        {"feature_position": 3, "feature_name": "is_region_anglosphere", "feature_kind": "one_hot",
         "source_feature": "region", "source_column": "region", "category_code": 0,
         "category_key": "anglosphere"},
        {"feature_position": 4, "feature_name": "is_channel_google", "feature_kind": "one_hot",
         "source_feature": "channel", "source_column": "channel", "category_code": 1,
         "category_key": "google"},
    ]
)  # fmt: skip
NAMES = DEFINITIONS["feature_name"].to_pylist()
SCALER = FittedScaler(tuple(NAMES), np.array([100.0, 50.0, 0.5, 0.2]), np.ones(4) * 2, 10)
FEATURES = FeatureSet(())  # no log1p features: to_fit_units leaves values as they are


def _text(columns: dict) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def _read(table: pa.Table) -> np.ndarray:
    return centroids_from_table(
        table, SCALER, FEATURES, units="original", source="warm_start 'f.csv'",
        aliases=column_aliases(DEFINITIONS),
    )  # fmt: skip


def test_input_names_and_feature_names_give_the_same_centroids():
    by_feature = _text(
        {"segment_id": ["2", "1"], "minutes_watched": ["120", "70"],
         "customer_lifetime_value": ["1", "0"], "is_region_anglosphere": ["0", "1"],
         "is_channel_google": ["1", "0"]}
    )  # fmt: skip
    by_input = _text(
        {"segment_id": ["2", "1"], "minutes_watched": ["120", "70"], "clv": ["1", "0"],
         "region_0": ["0", "1"], "CHANNEL_GOOGLE": ["1", "0"]}
    )  # fmt: skip
    expected = SCALER.transform(np.array([[70.0, 0, 1, 0], [120.0, 1, 0, 1]]))
    np.testing.assert_array_equal(_read(by_feature), expected)  # rows in segment_id order
    np.testing.assert_array_equal(_read(by_input), expected)


def test_a_long_segment_centroids_table_works_as_it_is():
    rows = [(1, name, float(j)) for j, name in enumerate(NAMES)]
    rows += [(2, name, float(10 * j)) for j, name in enumerate(NAMES)]
    long = _text(
        {
            "segment_id": [str(r[0]) for r in rows],
            "segment_name": ["x"] * len(rows),
            "feature_name": [r[1] for r in rows],
            "centroid_original": [repr(r[2]) for r in rows],
            "centroid_z": ["0"] * len(rows),
        }
    )
    expected = SCALER.transform(np.array([[0.0, 1, 2, 3], [0.0, 10, 20, 30]]))
    np.testing.assert_array_equal(_read(long), expected)


def test_a_bad_file_names_the_file_the_missing_and_the_unknown_columns():
    table = _text({"minutes_watched": ["1"], "clv": ["2"], "colour": ["red"]})
    with pytest.raises(WarmStartError) as raised:
        _read(table)
    message = str(raised.value)
    assert message.startswith("warm_start 'f.csv': column 'is_region_anglosphere' is missing")
    assert "is_channel_google" in message and "unknown columns: colour" in message


def test_the_stored_warm_start_round_trips():
    start = WarmStart(np.arange(8.0).reshape(2, 4) / 3, "warm_start 'f.csv'")
    back = warm_start_from_table(warm_start_table(start, NAMES), NAMES)
    np.testing.assert_array_equal(back.centroids, start.centroids)
    assert back.label == start.label
    assert warm_start_from_table(warm_start_table(None, NAMES), NAMES) is None
