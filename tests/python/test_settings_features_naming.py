import numpy as np
import pytest

from customer_segmentation.features import feature_columns
from customer_segmentation.naming import make_unique, segment_names
from customer_segmentation.settings import SegmentationSettings, SettingsError

COLUMNS = [
    "customer_id",
    "minutes_watched",
    "minutes_was_missing",
    "customer_lifetime_value",
    "region_code",
    "channel_code",
    "is_region_a",
    "is_region_b",
    "is_channel_x",
    "is_channel_y",
]


def test_dbt_rendered_strings_become_typed_settings():
    config = {"preset": "None", "k": "5", "n_init": "None", "k_rule": "", "random_state": "7"}
    settings = SegmentationSettings.from_config(config.get)
    assert (settings.preset, settings.k, settings.n_init, settings.random_state) == (
        "default",
        5,
        None,
        7,
    )


def test_restart_budget_gives_many_restarts_to_small_inputs_and_few_to_large():
    settings = SegmentationSettings()
    assert settings.restarts(3834) == 2000
    assert settings.restarts(200_000) == 40
    assert settings.restarts(10_000_000) == 10
    assert SegmentationSettings(n_init=7).restarts(3834) == 7


def test_case_study_preset_defaults():
    settings = SegmentationSettings.from_config({"preset": "case_study"}.get)
    assert (settings.k, settings.random_state, settings.include_region_code) == (8, 42, True)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"k": "eight"}, "var 'k': expected an integer"),
        ({"k": "0"}, "var 'k': must be at least 1"),
        ({"preset": "notebook"}, "unknown preset 'notebook'"),
        ({"k_rule": "gap"}, "unknown rule 'gap'"),
        ({"k": "12"}, "outside the diagnostics range"),
    ],
)
def test_bad_vars_name_the_var(config, message):
    with pytest.raises(SettingsError, match=message):
        SegmentationSettings.from_config(config.get)


def test_default_features_are_clean_and_case_study_follows_the_notebook():
    assert feature_columns(COLUMNS) == [
        "minutes_watched",
        "customer_lifetime_value",
        "is_region_a",
        "is_region_b",
        "is_channel_x",
        "is_channel_y",
    ]
    assert feature_columns(COLUMNS, include_region_code=True) == [
        "minutes_watched",
        "customer_lifetime_value",
        "region_code",
        "is_channel_x",
        "is_channel_y",
        "is_region_a",
        "is_region_b",
    ]


def test_feature_columns_fail_clearly_without_one_hots():
    with pytest.raises(ValueError, match="lacks feature columns"):
        feature_columns(["minutes_watched", "customer_lifetime_value"])


def test_names_describe_levels_and_dominant_attributes():
    names = ["minutes_watched", "customer_lifetime_value", "is_channel_x", "is_region_a"]
    centroids = np.array([[2000.0, 200.0, 0.9, 0.2], [100.0, 50.0, 0.1, 0.8]])
    labels = {"is_channel_x": "YouTube", "is_region_a": "Europe"}
    result = segment_names(centroids, names, np.array([1000.0, 100.0, 0.5, 0.5]), labels)
    assert result == [
        "High-value heavy viewers · YouTube · mixed regions",
        "Low-value light viewers · mixed channels · Europe",
    ]


def test_names_are_unique():
    assert make_unique(["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]
