import numpy as np
import pyarrow as pa
import pytest

from customer_segmentation.actions import DEFAULT_ACTION, recommend_actions
from customer_segmentation.features import FeatureSet
from customer_segmentation.kernels import cluster_sums, nearest, position_sums, positions_among
from customer_segmentation.naming import make_unique, measure_levels, segment_names
from customer_segmentation.settings import SegmentationSettings
from demo.generate import generate_transactions


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
                "name_levels": "0.75|0.25",
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
    # minutes has name_levels (0.75, 0.25); CLV uses the default (0.8, 0.2).
    positions = np.array([[0.76, 0.85, 0.5, 0.5, 0.5], [0.3, 0.79, 0.5, 0.5, 0.5]])
    levels = measure_levels(positions, features)
    assert levels[0] == {"minutes_watched": "high", "customer_lifetime_value": "high"}
    assert levels[1] == {"minutes_watched": "mid", "customer_lifetime_value": "mid"}
    assert segment_names(levels, centroids, features) == [
        "High-value heavy viewers · YouTube · mixed regions",
        "Mid-value regular viewers · mixed channels · Europe",
    ]


def test_levels_follow_ranks_so_a_few_outliers_do_not_move_them():
    """Three planted groups; a tenth of the top group spends 1000x: the mean triples, but the
    middle group (which spends near the median) stays mid, as its ranks say."""
    table = _definitions([("monetary", "numeric", "monetary", "spent", {})])
    features = FeatureSet.from_arrow(table)
    rng = np.random.default_rng(3)
    low, middle = rng.uniform(10, 50, 300), rng.uniform(200, 400, 500)
    top = rng.uniform(900, 1200, 200)
    top[:20] *= 1000
    values = np.concatenate([low, middle, top])[:, None]
    labels = np.repeat([0, 1, 2], [300, 500, 200])
    centres = np.array([[np.median(values[labels == g])] for g in range(3)])
    assert (nearest(values, centres).segment == labels).all()
    positions = position_sums(values, centres, np.sort(values, axis=0))
    means = positions.means(np.full(centres.shape, np.nan))
    assert [row["monetary"] for row in measure_levels(means, features)] == [
        "low",
        "mid",
        "high",
    ]
    assert centres[1, 0] < 0.67 * values.mean()  # the old rule (ratio to the mean) said low
    assert abs(positions_among(values, np.sort(values, axis=0)).mean() - 0.5) < 1e-12


def test_positions_share_the_middle_rank_of_ties_and_ignore_monotone_transforms():
    values = np.array([[0.0], [0.0], [0.0], [5.0]])
    reference = np.sort(values, axis=0)
    np.testing.assert_allclose(positions_among(values, reference)[:, 0], [0.375] * 3 + [0.875])
    z = (np.log1p(values) - 3.0) / 2.0
    np.testing.assert_array_equal(
        positions_among(z, np.sort(z, axis=0)), positions_among(values, reference)
    )


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
        {"recency_days": "mid", "frequency": "low", "monetary": "low"},
        {"recency_days": "mid", "frequency": "mid", "monetary": "mid"},
        {"recency_days": "high", "frequency": "high", "monetary": "high"},
        {"recency_days": "low", "frequency": "high", "monetary": "low"},
    ]
    actions = recommend_actions(levels, rfm)
    assert actions[0][0].startswith("VIP programme")
    assert actions[0][1] == "recency low, frequency high, monetary high"
    assert actions[1][0].startswith("Reactivation campaign")
    assert actions[2][0].startswith("Onboarding")
    assert actions[3] == (
        "Loyalty programme: points and member rewards to keep regular buyers coming back",
        "recency mid, frequency mid",
    )
    assert actions[4][0].startswith("Win-back")
    assert actions[5][0].startswith("Upsell")
    no_rule = recommend_actions([{"frequency": "mid"}], rfm)
    assert no_rule == [(DEFAULT_ACTION, "no rule matched (frequency mid)")]


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


def _rfm_per_customer(transactions: pa.Table) -> np.ndarray:
    """(n, 3) recency days, purchases and total spent per customer id 1..n, as staging does."""
    ids = transactions["customer_id"].to_numpy()
    day = transactions["purchase_date"].cast(pa.int32()).to_numpy()
    amount = transactions["amount"].to_numpy()
    n = int(ids.max())
    last = np.full(n + 1, np.iinfo(np.int32).min)
    np.maximum.at(last, ids, day)
    recency = day.max() - last[1:]
    return np.column_stack(
        [recency, np.bincount(ids, minlength=n + 1)[1:], np.bincount(ids, amount, n + 1)[1:]]
    ).astype(np.float64)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("vip_spend", [1.0, 20.0])
def test_each_planted_purchase_type_gets_its_own_action(seed, vip_spend):
    """Levels from the planted types of the demo purchase generator: new, regular, lapsed
    and VIP get four different actions, also when the VIPs spend 20x as much (ranks do not
    move; the mean does)."""
    transactions, truth = generate_transactions(customers=1200, seed=seed)
    values = _rfm_per_customer(transactions)
    types = truth["planted_type"].to_pylist()
    names = ["new_one_off", "loyal_bargain_hunter", "lapsed", "vip"]
    labels = np.array([names.index(t) for t in types])
    values[labels == 3, 2] *= vip_spend
    rfm = FeatureSet.from_arrow(
        _definitions(
            [
                ("recency_days", "numeric", "recency_days", "days", {"feature_role": "recency"}),
                ("frequency", "numeric", "frequency", "n", {"feature_role": "frequency"}),
                ("monetary", "numeric", "monetary", "spent", {"feature_role": "monetary"}),
            ]
        )
    )
    positions = cluster_sums(positions_among(values, np.sort(values, axis=0)), labels, 4)
    levels = measure_levels(positions.means(np.full((4, 3), np.nan)), rfm)
    actions = [action.split(":")[0] for action, _ in recommend_actions(levels, rfm)]
    assert actions == ["Onboarding", "Loyalty programme", "Reactivation campaign", "VIP programme"]


def test_exact_position_sums_equal_placing_every_row_in_the_sorted_columns():
    from customer_segmentation.kernels import exact_position_sums

    rng = np.random.default_rng(12)
    values = np.column_stack(
        [
            rng.integers(0, 6, size=2000).astype(float),
            rng.normal(size=2000),
            np.zeros(2000),
            np.where(rng.random(2000) < 0.3, 2.5, -0.7),  # two values: no sort
        ]
    )
    centres = values[rng.choice(2000, 4, replace=False)]
    fast = exact_position_sums(values, centres)
    slow = position_sums(values, centres, np.sort(values, axis=0))
    np.testing.assert_array_equal(fast.counts, slow.counts)
    np.testing.assert_allclose(fast.sums, slow.sums, rtol=1e-12)
    assert np.allclose(fast.sums[:, 2], 0.5 * fast.counts)  # one tie run: the middle
    labels = rng.integers(0, 4, size=2000)  # any given assignment is summed as given
    given = exact_position_sums(values, centres, labels)
    np.testing.assert_array_equal(given.counts, np.bincount(labels, minlength=4))
    for j in range(values.shape[1]):
        reference = np.sort(values[:, j])
        left = np.searchsorted(reference, values[:, j], "left")
        right = np.searchsorted(reference, values[:, j], "right")
        expected = np.bincount(labels, weights=(left + right) / 4000, minlength=4)
        np.testing.assert_allclose(given.sums[:, j], expected, rtol=1e-12)
