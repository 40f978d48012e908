import numpy as np
import pyarrow as pa

from customer_segmentation.actions import DEFAULT_ACTION, recommend_actions
from customer_segmentation.features import FeatureSet
from customer_segmentation.naming import make_unique, measure_levels, segment_names
from customer_segmentation.settings import SegmentationSettings


def test_restart_budget_gives_many_restarts_to_small_inputs_and_few_to_large():
    settings = SegmentationSettings()
    assert settings.restarts(3834) == 2000
    assert settings.restarts(200_000) == 40
    assert settings.restarts(10_000_000) == 10
    assert SegmentationSettings(n_init=7).restarts(3834) == 7


def _definitions(rows):
    """An int_feature_definitions table from (name, kind, source, label, extras) rows."""
    keys = [
        "feature_position",
        "feature_name",
        "feature_kind",
        "source_feature",
        "feature_label",
        "feature_transform",
        "is_summable",
        "feature_role",
        "name_words",
        "name_levels",
        "name_parts",
        "name_separator",
    ]
    records = []
    for position, (name, kind, source, label, extra) in enumerate(rows, start=1):
        record = dict.fromkeys(keys)
        record.update(
            feature_position=position,
            feature_name=name,
            feature_kind=kind,
            source_feature=source,
            feature_label=label,
            feature_transform="none",
            is_summable=False,
            name_parts="customer_lifetime_value|minutes_watched|channel|region",
            name_separator=" ",
        )
        record.update(extra)
        records.append(record)
    return pa.Table.from_pylist(records)


CASE_STUDY = _definitions(
    [
        (
            "minutes_watched",
            "numeric",
            "minutes_watched",
            "minutes watched",
            {
                "feature_role": "engagement",
                "name_words": "heavy viewers|regular viewers|light viewers",
                "name_levels": "1.25|0.75",
            },
        ),
        (
            "customer_lifetime_value",
            "numeric",
            "customer_lifetime_value",
            "CLV",
            {
                "is_summable": True,
                "feature_role": "value",
                "name_words": "High-value|Mid-value|Low-value",
                "name_levels": "1.1|0.9",
            },
        ),
        ("region_code", "code", "region", "region code", {}),
        ("is_channel_x", "one_hot", "channel", "YouTube", {}),
        ("is_region_a", "one_hot", "region", "Europe", {}),
    ]
)


def test_feature_set_reads_fit_order_canonical_row_order_and_segment_order():
    features = FeatureSet.from_arrow(CASE_STUDY.take([4, 2, 0, 3, 1]))  # any row order
    assert features.names == [
        "minutes_watched",
        "customer_lifetime_value",
        "region_code",
        "is_channel_x",
        "is_region_a",
    ]
    assert features.canonical_order == (
        "minutes_watched, customer_lifetime_value, region_code, channel_code, customer_id"
    )
    assert features.segment_sort_columns == [1, 0]
    assert features.categorical_names == ["channel", "region"]


def test_log1p_features_round_trip_between_fit_and_original_units():
    table = _definitions(
        [
            ("monetary", "numeric", "monetary", "spent", {"feature_transform": "log1p"}),
            ("frequency", "numeric", "frequency", "purchases", {}),
        ]
    )
    features = FeatureSet.from_arrow(table)
    original = np.array([[0.0, 3.0], [99.0, 5.0]])
    fit_units = features.to_fit_units(original)
    np.testing.assert_allclose(fit_units[:, 0], np.log1p([0.0, 99.0]))
    np.testing.assert_array_equal(fit_units[:, 1], [3.0, 5.0])
    np.testing.assert_allclose(features.to_original_units(fit_units), original)


def test_names_describe_levels_and_dominant_attributes():
    features = FeatureSet.from_arrow(CASE_STUDY)
    centroids = np.array([[2000.0, 200.0, 1.0, 0.9, 0.2], [100.0, 50.0, 1.0, 0.1, 0.8]])
    overall = np.array([1000.0, 100.0, 1.0, 0.5, 0.5])
    levels = measure_levels(centroids, np.zeros_like(centroids), features, overall)
    assert levels[0] == {"minutes_watched": "high", "customer_lifetime_value": "high"}
    assert segment_names(levels, centroids, features) == [
        "High-value heavy viewers · YouTube · mixed regions",
        "Low-value light viewers · mixed channels · Europe",
    ]


def test_measures_without_name_levels_are_judged_in_z_units():
    table = _definitions([("frequency", "numeric", "frequency", "purchases", {})])
    features = FeatureSet.from_arrow(table)
    z = np.array([[0.7], [0.1], [-0.6]])
    levels = measure_levels(z, z, features, np.array([0.0]))
    assert [row["frequency"] for row in levels] == ["high", "mid", "low"]


def test_actions_follow_the_first_matching_rule_and_say_why():
    rfm = FeatureSet.from_arrow(
        _definitions(
            [
                ("recency_days", "numeric", "recency_days", "days", {"feature_role": "recency"}),
                ("frequency", "numeric", "frequency", "n", {"feature_role": "frequency"}),
                ("monetary", "numeric", "monetary", "spent", {"feature_role": "monetary"}),
            ]
        )
    )
    levels = [
        {"recency_days": "low", "frequency": "high", "monetary": "high"},
        {"recency_days": "high", "frequency": "low", "monetary": "mid"},
        {"recency_days": "low", "frequency": "low", "monetary": "low"},
        {"recency_days": "mid", "frequency": "mid", "monetary": "mid"},
    ]
    actions = recommend_actions(levels, rfm)
    assert actions[0][0].startswith("VIP programme")
    assert actions[0][1] == "recency low, frequency high, monetary high"
    assert actions[1][0].startswith("Reactivation campaign")
    assert actions[2][0].startswith("Onboarding")
    assert actions[3] == (
        DEFAULT_ACTION,
        "no rule matched (recency mid, frequency mid, monetary mid)",
    )


def test_case_study_actions_use_value_and_engagement():
    features = FeatureSet.from_arrow(CASE_STUDY)
    levels = [
        {"minutes_watched": "high", "customer_lifetime_value": "low"},
        {"minutes_watched": "low", "customer_lifetime_value": "high"},
    ]
    actions = recommend_actions(levels, features)
    assert actions[0][0].startswith("Convert")
    assert actions[1][0].startswith("Re-engage")


def test_names_are_unique():
    assert make_unique(["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]
