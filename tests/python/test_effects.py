"""Tests for the effect tests: Kruskal-Wallis with epsilon-squared, chi-square with Cramér's V."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pytest
from scipy import stats
from scipy.stats.contingency import association

from customer_segmentation.effect_tables import (
    CONTINGENCY_CELLS_SCHEMA,
    CONTINGENCY_SUMMARY_SCHEMA,
    GROUP_EFFECT_SCHEMA,
    contingency_cells_table,
    contingency_summary_table,
    group_effect_table,
)
from customer_segmentation.effects import (
    contingency_test,
    cramers_v_magnitude,
    epsilon_squared_magnitude,
    kruskal_wallis,
)

MAGNITUDES = {"negligible", "small", "medium", "large"}


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- Kruskal-Wallis ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_kruskal_matches_scipy_on_random_data(seed: int) -> None:
    rng = _rng(seed)
    n = int(rng.integers(30, 400))
    groups = rng.integers(0, 5, size=n)
    values = np.round(rng.lognormal(3, 1, size=n))  # rounded: ties, like watch minutes
    result = kruskal_wallis(values, groups)
    labels = np.unique(groups)
    h, p = stats.kruskal(*[values[groups == g] for g in labels])
    assert result.reason is None
    assert result.statistic == pytest.approx(h, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    k = len(labels)
    assert (result.count_groups, result.count_rows, result.dof) == (k, n, k - 1)
    assert result.epsilon_squared == pytest.approx(h / ((n**2 - 1) / (n + 1)))
    assert result.epsilon_squared == pytest.approx(h / (n - 1))
    assert result.eta_squared_h == pytest.approx((h - k + 1) / (n - k))
    assert result.group_sizes.tolist() == [int(np.sum(groups == g)) for g in labels]
    ranks = stats.rankdata(values)
    assert result.mean_ranks == pytest.approx([ranks[groups == g].mean() for g in labels])


def test_planted_strong_effect_is_large_with_tiny_p() -> None:
    rng = _rng(1)
    groups = np.repeat(["a", "b", "c", "d"], 300)
    shift = np.repeat([0.0, 1.5, 3.0, 4.5], 300)
    result = kruskal_wallis(rng.normal(size=1200) + shift, groups)
    assert result.p_value < 1e-100
    assert result.epsilon_squared > 0.5
    assert result.magnitude == "large"
    assert result.group_labels[np.argmax(result.mean_ranks)] == "d"
    assert result.group_labels[np.argmin(result.mean_ranks)] == "a"


def test_no_effect_gives_negligible_effect_size() -> None:
    rng = _rng(2)
    result = kruskal_wallis(rng.lognormal(size=5000), rng.integers(1, 9, size=5000))
    assert result.epsilon_squared < 0.01
    assert result.magnitude == "negligible"
    assert result.p_value > 0.001
    assert result.eta_squared_h < 0.01  # may be slightly negative


def test_kruskal_single_group_is_nan_with_reason() -> None:
    result = kruskal_wallis(np.arange(10.0), np.full(10, 3))
    assert math.isnan(result.statistic) and math.isnan(result.p_value)
    assert math.isnan(result.epsilon_squared) and result.magnitude is None
    assert result.reason == "fewer than two groups"
    assert (result.count_groups, result.count_rows, result.dof) == (1, 10, 0)


def test_kruskal_identical_values_is_nan_with_reason() -> None:
    result = kruskal_wallis(np.full(12, 7.0), np.arange(12) % 3)
    assert math.isnan(result.statistic)
    assert result.reason == "all values are identical"
    assert (result.count_groups, result.dof) == (3, 2)


def test_kruskal_empty_input() -> None:
    result = kruskal_wallis(np.array([]), np.array([], dtype=np.int64))
    assert result.reason == "no rows"
    assert (result.count_groups, result.count_rows, result.dof) == (0, 0, 0)


def test_kruskal_groups_with_one_row() -> None:
    values = np.array([1.0, 2.0, 3.0, 10.0, 11.0])
    groups = np.array(["x", "x", "x", "y", "z"])
    result = kruskal_wallis(values, groups)
    h, p = stats.kruskal(values[:3], values[3:4], values[4:])
    assert result.statistic == pytest.approx(h)
    assert result.p_value == pytest.approx(p)
    assert result.group_sizes.tolist() == [3, 1, 1]
    # Every group a single row: H is defined, eta-squared_H (division by n - k = 0) is not.
    only_singletons = kruskal_wallis(np.array([1.0, 2.0, 3.0]), np.array([1, 2, 3]))
    assert only_singletons.reason is None
    assert math.isnan(only_singletons.eta_squared_h)
    assert np.isfinite(only_singletons.epsilon_squared)


def test_kruskal_rejects_nan_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="NaN"):
        kruskal_wallis(np.array([1.0, np.nan]), np.array([1, 2]))
    with pytest.raises(ValueError, match="1-D"):
        kruskal_wallis(np.arange(3.0), np.arange(4))


def test_epsilon_squared_magnitude_thresholds() -> None:
    assert epsilon_squared_magnitude(0.0) == "negligible"
    assert epsilon_squared_magnitude(-0.002) == "negligible"
    assert epsilon_squared_magnitude(0.0099) == "negligible"
    assert epsilon_squared_magnitude(0.01) == "small"
    assert epsilon_squared_magnitude(0.06) == "medium"
    assert epsilon_squared_magnitude(0.1399) == "medium"
    assert epsilon_squared_magnitude(0.14) == "large"
    assert epsilon_squared_magnitude(float("nan")) is None


def test_cramers_v_magnitude_scales_with_table_size() -> None:
    assert cramers_v_magnitude(0.09, 2) == "negligible"
    assert cramers_v_magnitude(0.09, 3) == "small"  # small starts at 0.1 / sqrt(2)
    assert cramers_v_magnitude(0.3, 2) == "medium"
    assert cramers_v_magnitude(0.36, 3) == "large"  # large starts at 0.5 / sqrt(2)
    assert cramers_v_magnitude(0.5, 1) is None
    assert cramers_v_magnitude(float("nan"), 3) is None


# --- chi-square -------------------------------------------------------------------------------


def _labels_from_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column label arrays (n,) that tabulate to ``counts`` (r, c)."""
    r_idx, c_idx = np.indices(counts.shape)
    return np.repeat(r_idx.ravel(), counts.ravel()), np.repeat(c_idx.ravel(), counts.ravel())


@pytest.mark.parametrize("seed", range(5))
def test_contingency_matches_scipy_on_random_data(seed: int) -> None:
    rng = _rng(seed)
    n = int(rng.integers(100, 2000))
    rows = rng.integers(0, int(rng.integers(2, 6)), size=n)
    cols = (rows + rng.integers(0, int(rng.integers(3, 9)), size=n)) % 7
    result = contingency_test(rows, cols)
    observed = np.array([[np.sum((rows == a) & (cols == b)) for b in np.unique(cols)]
                         for a in np.unique(rows)])  # fmt: skip
    chi2, p, dof, expected = stats.chi2_contingency(observed, correction=False)
    assert np.array_equal(result.observed, observed)
    assert result.statistic == pytest.approx(chi2, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert result.dof == dof
    assert result.expected == pytest.approx(expected)
    assert result.cramers_v == pytest.approx(association(observed, method="cramer"))
    assert 0 <= result.cramers_v_corrected <= result.cramers_v
    assert result.count_rows == n
    assert result.count_low_expected_cells == int(np.sum(expected < 5))
    assert result.min_expected == pytest.approx(expected.min())


@pytest.mark.parametrize("seed", range(3))
def test_squared_pearson_residuals_sum_to_chi2(seed: int) -> None:
    rng = _rng(seed)
    result = contingency_test(rng.integers(0, 4, 800), rng.integers(0, 6, 800))
    assert np.sum(result.pearson_residuals**2) == pytest.approx(result.statistic, rel=1e-12)


def test_adjusted_residuals_by_hand_on_2x3() -> None:
    # Row totals 60, 40; column totals 30, 30, 40; n = 100.
    # Expected: [[18, 18, 24], [12, 12, 16]].
    # Denominators: 18 * 0.4 * 0.7 = 12 * 0.6 * 0.7 = 5.04; 24 * 0.4 * 0.6 = 16 * 0.6 * 0.6 = 5.76.
    counts = np.array([[10, 20, 30], [20, 10, 10]])
    result = contingency_test(*_labels_from_counts(counts))
    assert result.expected == pytest.approx(np.array([[18, 18, 24], [12, 12, 16]]))
    s504, s576 = math.sqrt(5.04), math.sqrt(5.76)
    hand = np.array([[-8 / s504, 2 / s504, 6 / s576], [8 / s504, -2 / s504, -6 / s576]])
    assert result.adjusted_residuals == pytest.approx(hand, rel=1e-12)
    assert result.adjusted_residuals[0, 2] == pytest.approx(2.5)
    pearson = np.array([[-8 / math.sqrt(18), 2 / math.sqrt(18), 6 / math.sqrt(24)],
                        [8 / math.sqrt(12), -2 / math.sqrt(12), -6 / math.sqrt(16)]])  # fmt: skip
    assert result.pearson_residuals == pytest.approx(pearson, rel=1e-12)
    chi2 = float(np.sum(pearson**2))
    assert result.statistic == pytest.approx(chi2)
    assert result.dof == 2
    assert result.cramers_v == pytest.approx(math.sqrt(chi2 / 100))
    # Bergsma: phi2 = max(0, chi2/n - 2/99); r~ = 2 - 1/99; c~ = 3 - 4/99; min(r~, c~) - 1.
    phi2 = chi2 / 100 - 2 / 99
    assert result.cramers_v_corrected == pytest.approx(math.sqrt(phi2 / (1 - 1 / 99)))
    assert result.count_low_expected_cells == 0


def test_two_by_two_yates_is_opt_in() -> None:
    counts = np.array([[12, 5], [3, 9]])
    rows, cols = _labels_from_counts(counts)
    plain = contingency_test(rows, cols)
    corrected = contingency_test(rows, cols, yates=True)
    assert plain.statistic == pytest.approx(stats.chi2_contingency(counts, correction=False)[0])
    assert corrected.statistic == pytest.approx(stats.chi2_contingency(counts)[0])
    assert corrected.statistic < plain.statistic
    assert (plain.is_yates_corrected, corrected.is_yates_corrected) == (False, True)
    assert corrected.cramers_v == pytest.approx(plain.cramers_v)  # V always from Pearson chi2
    assert np.sum(plain.pearson_residuals**2) == pytest.approx(plain.statistic)
    # Yates is never applied to larger tables.
    larger = contingency_test(*_labels_from_counts(np.array([[12, 5, 4], [3, 9, 8]])), yates=True)
    assert not larger.is_yates_corrected


def test_low_expected_cells_are_counted() -> None:
    counts = np.array([[50, 2], [40, 1], [30, 3]])  # second column expected ~2 per row
    result = contingency_test(*_labels_from_counts(counts))
    assert result.count_low_expected_cells == 3
    assert result.has_low_expected
    assert result.min_expected < 5


def test_independent_table_has_near_zero_corrected_v() -> None:
    rng = _rng(4)
    result = contingency_test(rng.integers(0, 8, 4000), rng.integers(0, 3, 4000))
    assert result.magnitude == "negligible"
    assert result.cramers_v_corrected < 0.03
    assert result.cramers_v_corrected <= result.cramers_v


def test_strong_association_is_large() -> None:
    rng = _rng(5)
    rows = rng.integers(0, 3, 3000)
    cols = np.where(rng.random(3000) < 0.8, rows, rng.integers(0, 3, 3000))
    result = contingency_test(rows, cols)
    assert result.magnitude == "large"
    assert result.p_value < 1e-100
    assert np.all(np.diag(result.adjusted_residuals) > 10)


def test_contingency_degenerate_inputs() -> None:
    single = contingency_test(np.zeros(20, dtype=int), np.arange(20) % 4)
    assert single.reason == "fewer than two row labels"
    assert math.isnan(single.statistic) and math.isnan(single.cramers_v)
    assert single.observed.shape == (1, 4) and single.observed.sum() == 20
    assert np.all(np.isnan(single.adjusted_residuals))
    single_col = contingency_test(np.arange(20) % 4, np.zeros(20, dtype=int))
    assert single_col.reason == "fewer than two column labels"
    empty = contingency_test(np.array([], dtype=int), np.array([], dtype=int))
    assert empty.reason == "no rows"
    assert empty.observed.shape == (0, 0) and math.isnan(empty.min_expected)
    with pytest.raises(ValueError, match="1-D"):
        contingency_test(np.arange(3), np.arange(4))


# --- tidy tables ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def customers() -> pa.Table:
    rng = _rng(9)
    n = 900
    channel = rng.integers(1, 11, n)  # codes 1..10: text sort would put 10 before 2
    region = np.where(rng.random(n) < 0.5, channel % 3, rng.integers(0, 3, n))
    minutes = np.round(rng.lognormal(6, 1.2, n) * (1 + 2 * (channel == 4)))
    minutes_missing = rng.random(n) < 0.05
    clv = np.round(rng.gamma(4, 30, n), 2)
    return pa.table(
        {
            "minutes_watched": pa.array(minutes, mask=minutes_missing),
            "CLV": clv,
            "region": pa.array(
                [["anglo", "europe", "rest"][r] for r in region]
            ).dictionary_encode(),
            "channel": channel,
        }
    )


def test_group_effect_table_rows_match_direct_tests(customers: pa.Table) -> None:
    out = group_effect_table(customers, ["minutes_watched", "CLV"], ["channel", "region"])
    assert out.schema.equals(GROUP_EFFECT_SCHEMA)
    rows = out.to_pylist()
    assert [(r["categorical_feature"], r["numeric_feature"]) for r in rows] == [
        ("channel", "minutes_watched"),
        ("channel", "CLV"),
        ("region", "minutes_watched"),
        ("region", "CLV"),
    ]
    missing = customers.column("minutes_watched").null_count
    for row in rows:
        values = customers.column(row["numeric_feature"]).to_numpy(zero_copy_only=False)
        groups = customers.column(row["categorical_feature"]).to_numpy(zero_copy_only=False)
        keep = ~np.isnan(values)
        direct = kruskal_wallis(values[keep], groups[keep])
        assert row["test_name"] == "kruskal_wallis"
        assert row["effect_size_name"] == "epsilon_squared"
        assert row["statistic"] == pytest.approx(direct.statistic)
        assert row["p_value"] == pytest.approx(direct.p_value)
        assert row["effect_size"] == pytest.approx(direct.epsilon_squared)
        assert row["eta_squared_h"] == pytest.approx(direct.eta_squared_h)
        assert row["dof"] == direct.dof == row["count_groups"] - 1
        assert row["magnitude"] in MAGNITUDES
        assert row["count_rows"] + row["count_missing_rows"] == customers.num_rows
        expect_missing = missing if row["numeric_feature"] == "minutes_watched" else 0
        assert row["count_missing_rows"] == expect_missing
        assert row["reason"] is None
    channel_minutes = rows[0]
    assert channel_minutes["count_groups"] == 10
    assert channel_minutes["highest_mean_rank_group"] == "4"  # planted: channel 4 watches 3x
    assert channel_minutes["p_value"] < 1e-6


def test_group_effect_table_degenerate_pair_gives_nulls() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, None], "g": ["a", "a", "a", None], "h": [1, 2, 1, 2]})
    out = group_effect_table(table, ["x"], ["g", "h"]).to_pylist()
    assert out[0]["reason"] == "fewer than two groups"
    assert out[0]["statistic"] is None and out[0]["effect_size"] is None
    assert out[0]["magnitude"] is None and out[0]["highest_mean_rank_group"] is None
    assert (out[0]["count_rows"], out[0]["count_missing_rows"]) == (3, 1)
    assert out[1]["reason"] is None and out[1]["count_groups"] == 2


def test_group_effect_table_bad_columns(customers: pa.Table) -> None:
    with pytest.raises(KeyError, match="nope"):
        group_effect_table(customers, ["nope"], ["channel"])
    with pytest.raises(TypeError, match="region"):
        group_effect_table(customers, ["region"], ["channel"])
    empty = group_effect_table(customers, [], ["channel"])
    assert empty.num_rows == 0 and empty.schema.equals(GROUP_EFFECT_SCHEMA)


def test_contingency_tables(customers: pa.Table) -> None:
    pairs = [("channel", "region"), ("region", "channel")]
    summary = contingency_summary_table(customers, pairs)
    cells = contingency_cells_table(customers, pairs)
    assert summary.schema.equals(CONTINGENCY_SUMMARY_SCHEMA)
    assert cells.schema.equals(CONTINGENCY_CELLS_SCHEMA)
    first, second = summary.to_pylist()
    direct = contingency_test(
        customers.column("channel").to_numpy(),
        customers.column("region").to_numpy(zero_copy_only=False),
    )
    assert first["statistic"] == pytest.approx(direct.statistic)
    assert first["cramers_v"] == pytest.approx(direct.cramers_v)
    assert first["cramers_v_corrected"] == pytest.approx(direct.cramers_v_corrected)
    assert first["test_name"] == "chi_square" and first["magnitude"] in MAGNITUDES
    assert (first["dof"], first["count_cells"], first["count_rows"]) == (18, 30, 900)
    assert first["count_low_expected_cells"] == direct.count_low_expected_cells
    assert second["statistic"] == pytest.approx(first["statistic"])  # symmetric in the pair

    assert cells.num_rows == 60
    frame = cells.to_pandas()
    one = frame[frame["row_feature"] == "channel"]
    # Integer codes are ordered as numbers, then written as text.
    assert list(dict.fromkeys(one["row_value"])) == [str(c) for c in range(1, 11)]
    assert list(dict.fromkeys(one["col_value"])) == ["anglo", "europe", "rest"]
    assert one["observed"].sum() == 900
    assert one["expected"].sum() == pytest.approx(900)
    assert (one["pearson_residual"] ** 2).sum() == pytest.approx(first["statistic"])
    assert one["adjusted_residual"].to_numpy() == pytest.approx(direct.adjusted_residuals.ravel())
    assert (one["is_low_expected"] == (one["expected"] < 5)).all()


def test_contingency_tables_drop_missing_and_flag_degenerate() -> None:
    table = pa.table({"a": ["x", "x", None, "x"], "b": [1, 2, 1, None]})
    summary = contingency_summary_table(table, [("a", "b")]).to_pylist()[0]
    assert summary["reason"] == "fewer than two row labels"
    assert (summary["count_rows"], summary["count_missing_rows"]) == (2, 2)
    assert summary["statistic"] is None and summary["cramers_v"] is None
    cells = contingency_cells_table(table, [("a", "b")]).to_pylist()
    assert [(c["row_value"], c["col_value"], c["observed"]) for c in cells] == [
        ("x", "1", 1),
        ("x", "2", 1),
    ]
    assert all(c["adjusted_residual"] is None for c in cells)


# --- real case-study data ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_customers(real_data_path: Path) -> pa.Table:
    """The case-study table with blank minutes zero-filled, as the project's staging does."""
    table = pv.read_csv(real_data_path)
    i = table.schema.get_field_index("minutes_watched")
    return table.set_column(i, "minutes_watched", pc.fill_null(table.column(i), 0))


def test_real_data_channel_effects_are_well_formed(real_customers: pa.Table) -> None:
    out = group_effect_table(real_customers, ["minutes_watched", "CLV"], ["channel"]).to_pylist()
    channel = real_customers.column("channel").to_numpy()
    for row in out:
        assert row["reason"] is None
        assert (row["count_rows"], row["count_missing_rows"]) == (real_customers.num_rows, 0)
        assert row["count_groups"] == len(np.unique(channel))
        assert 0 <= row["effect_size"] <= 1 and 0 <= row["p_value"] <= 1
        assert row["magnitude"] == epsilon_squared_magnitude(row["effect_size"])
        values = real_customers.column(row["numeric_feature"]).to_numpy()
        h, p = stats.kruskal(*[values[channel == c] for c in np.unique(channel)])
        assert row["statistic"] == pytest.approx(h) and row["p_value"] == pytest.approx(p)


def test_real_data_channel_by_region_is_consistent(real_customers: pa.Table) -> None:
    pairs = [("channel", "region")]
    summary = contingency_summary_table(real_customers, pairs).to_pylist()[0]
    cells = contingency_cells_table(real_customers, pairs).to_pandas()
    assert summary["reason"] is None
    assert summary["count_rows"] == real_customers.num_rows == cells["observed"].sum()
    assert summary["dof"] == (cells["row_value"].nunique() - 1) * (cells["col_value"].nunique() - 1)
    assert (cells["pearson_residual"] ** 2).sum() == pytest.approx(summary["statistic"])
    assert 0 <= summary["cramers_v_corrected"] <= summary["cramers_v"] <= 1
    assert summary["count_low_expected_cells"] == int((cells["expected"] < 5).sum())
    # In every channel the observed-minus-expected counts balance out across regions.
    balance = (cells["observed"] - cells["expected"]).groupby(cells["row_value"]).sum()
    assert np.allclose(balance, 0, atol=1e-9)


@pytest.mark.parametrize("kind", ["int", "str"])
def test_factorize_equals_numpy_unique(kind: str) -> None:
    from customer_segmentation.ranks import factorize

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 7, size=2000)
    if kind == "str":
        labels = np.array([f"channel {v}" for v in labels], dtype=object)
    uniques, codes = factorize(labels)
    expected, inverse = np.unique(labels, return_inverse=True)
    assert uniques.tolist() == expected.tolist()
    assert codes.tolist() == inverse.reshape(-1).tolist()


def test_average_ranks_and_tie_term_equal_scipy() -> None:
    from customer_segmentation.ranks import average_ranks

    rng = np.random.default_rng(8)
    values = rng.integers(0, 50, size=3000).astype(float)  # many ties
    ranks, tie_term = average_ranks(values)
    np.testing.assert_array_equal(ranks, stats.rankdata(values))
    n = values.size
    assert 1 - tie_term / (n**3 - n) == pytest.approx(stats.tiecorrect(ranks), rel=1e-12)
    assert average_ranks(np.array([]))[1] == 0.0


# --- grouped counts ---------------------------------------------------------------------------


def _expanded(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.repeat(labels, weights)


def _same_fields(left, right) -> None:
    """Every field of two results equal: numbers bit for bit, arrays element for element."""
    for name, value in vars(left).items():
        other = getattr(right, name)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, other, err_msg=name)
        elif isinstance(value, float) and math.isnan(value):
            assert math.isnan(other), name
        else:
            assert value == other, name


def test_weighted_ranks_equal_the_ranks_of_the_expanded_rows() -> None:
    from customer_segmentation.ranks import average_ranks

    rng = np.random.default_rng(12)
    values = rng.integers(0, 30, size=400).astype(float)  # repeated values across entries
    weights = rng.integers(1, 9, size=400)
    ranks, tie_term = average_ranks(values, weights)
    expanded_ranks, expanded_tie_term = average_ranks(_expanded(values, weights))
    np.testing.assert_array_equal(_expanded(ranks, weights), expanded_ranks)
    assert tie_term == expanded_tie_term
    ones, ones_tie = average_ranks(values, np.ones(400, dtype=np.int64))
    assert (
        ones.tobytes() == average_ranks(values)[0].tobytes()
        and ones_tie == average_ranks(values)[1]
    )


def test_weighted_tests_equal_the_tests_of_the_expanded_rows() -> None:
    rng = np.random.default_rng(13)
    values = np.round(rng.gamma(2.0, 50.0, 600), 0)
    groups = np.array([f"channel {g}" for g in rng.integers(1, 9, 600)], dtype=object)
    cols = rng.integers(0, 3, 600)
    weights = rng.integers(1, 40, 600)
    weighted = kruskal_wallis(values, groups, weights)
    _same_fields(weighted, kruskal_wallis(_expanded(values, weights), _expanded(groups, weights)))
    assert weighted.count_rows == weights.sum()
    table = contingency_test(groups, cols, weights=weights)
    _same_fields(table, contingency_test(_expanded(groups, weights), _expanded(cols, weights)))
    with pytest.raises(ValueError, match="negative"):
        kruskal_wallis(values[:2], groups[:2], np.array([1, -1]))
    with pytest.raises(ValueError, match="shape"):
        contingency_test(groups[:3], cols[:3], weights=np.ones(2))


def test_tidy_tables_from_grouped_counts_equal_those_from_the_rows(customers: pa.Table) -> None:
    """The models pass the engine's group-by (DuckDB here, in any row order); the tables equal
    those of the per-customer rows, missing values and NaN included."""
    import duckdb

    from customer_segmentation.effect_tables import COUNT_COLUMN, table_counts
    from customer_segmentation.engines.local import LocalEngine

    minutes = customers.column("minutes_watched").to_numpy(zero_copy_only=False).copy()
    minutes[:7] = np.nan  # NaN as well as nulls: both are missing
    rows = customers.set_column(0, "minutes_watched", pa.array(minutes, mask=np.isnan(minutes)))
    rows = rows.append_column("spend", pa.array(np.where(np.arange(900) % 50 == 0, np.nan, 1.5)))
    rows = rows.set_column(2, "region", rows.column("region").cast(pa.string()))
    con = duckdb.connect()
    con.register("customers_arrow", rows)
    relation = con.sql("select * from customers_arrow order by random()")
    engine = LocalEngine(con)

    def counts(columns):
        return engine.counts(relation, columns)

    assert counts(["region"]).column_names == ["region", COUNT_COLUMN]
    assert sum(counts(["channel", "spend"])[COUNT_COLUMN].to_pylist()) == 900
    numeric, categorical = ["minutes_watched", "CLV", "spend"], ["channel", "region"]
    pairs = [("channel", "region"), ("region", "channel")]
    for source in (counts, table_counts(rows)):
        assert group_effect_table(source, numeric, categorical).equals(
            group_effect_table(rows, numeric, categorical)
        )
        assert contingency_summary_table(source, pairs).equals(
            contingency_summary_table(rows, pairs)
        )
        assert contingency_cells_table(source, pairs).equals(contingency_cells_table(rows, pairs))
    spend = group_effect_table(counts, ["spend"], ["channel"]).to_pylist()[0]
    assert (spend["count_rows"], spend["count_missing_rows"]) == (882, 18)  # every 50th is NaN
    assert spend["reason"] == "all values are identical"
