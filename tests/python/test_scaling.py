import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from customer_segmentation.scaling import FittedScaler


def test_matches_scikit_learn_population_std():
    rng = np.random.default_rng(0)
    x = rng.lognormal(3, 2, size=(500, 4))
    ours = FittedScaler.fit(x, list("abcd"))
    theirs = StandardScaler().fit(x)
    np.testing.assert_allclose(ours.mean, theirs.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.std, theirs.scale_, rtol=1e-10)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-9, atol=1e-12)


def test_z_scores_have_mean_zero_and_population_std_one():
    x = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 50.0], [6.0, 10.0]])
    z = FittedScaler.fit(x, ["a", "b"]).transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(z.std(axis=0, ddof=0), 1, rtol=1e-12)


def test_constant_column_gives_zeros_not_nan_and_is_recorded():
    x = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    scaler = FittedScaler.fit(x, ["varies", "constant"])
    z = scaler.transform(x)
    assert not np.isnan(z).any()
    np.testing.assert_array_equal(z[:, 1], 0.0)
    table = scaler.to_arrow().to_pylist()
    assert [row["is_constant"] for row in table] == [False, True]
    assert table[1]["scale"] == 1.0
    assert "constant" in table[1]["handling"]


def test_arrow_round_trip_keeps_every_parameter():
    x = np.random.default_rng(1).normal(size=(50, 3))
    scaler = FittedScaler.fit(x, ["x", "y", "z"])
    back = FittedScaler.from_arrow(scaler.to_arrow())
    assert back.feature_names == ("x", "y", "z")
    np.testing.assert_array_equal(back.mean, scaler.mean)
    np.testing.assert_array_equal(back.std, scaler.std)
    assert back.n_samples == 50
    np.testing.assert_allclose(back.inverse_transform(back.transform(x)), x, rtol=1e-12)


def test_rejects_empty_input():
    with pytest.raises(ValueError, match="zero rows"):
        FittedScaler.fit(np.empty((0, 2)), ["a", "b"])


def test_moments_are_exact_and_do_not_depend_on_row_order():
    from fractions import Fraction

    from customer_segmentation.scaling import exact_sum, moments

    rng = np.random.default_rng(3)
    # values over many magnitudes and both signs, where float sums differ by order
    x = rng.lognormal(0, 6, 20_000) * rng.choice([-1.0, 1.0], 20_000)
    assert exact_sum(x) == sum(Fraction(v) for v in x)
    shuffled = x[rng.permutation(x.size)]
    assert moments(x) == moments(shuffled)
    exact_mean = sum(Fraction(v) for v in x) / x.size
    assert moments(x)[0] == float(exact_mean)
    np.testing.assert_allclose(moments(x), (x.mean(), x.std()), rtol=1e-9)
    # more rows than one exact piece (2^20): still exact
    tenths = np.full(3_000_001, 0.1)
    assert exact_sum(tenths) == 3_000_001 * Fraction(0.1)


def test_moments_of_integers_and_booleans_are_exact():
    from fractions import Fraction

    from customer_segmentation.scaling import moments

    rng = np.random.default_rng(5)
    codes = rng.integers(-3, 1000, 50_001).astype(np.int32)
    mean = Fraction(int(codes.sum()), codes.size)
    var = Fraction(int((codes.astype(np.int64) ** 2).sum()), codes.size) - mean**2
    assert moments(codes) == (float(mean), float(np.sqrt(float(var))))
    flags = codes % 2 == 0
    assert moments(flags) == moments(flags.astype(np.int64))
    # large integers take the float path, constant columns have std exactly 0
    assert moments(np.full(7, 3_000_000_000, dtype=np.int64)) == (3e9, 0.0)
    assert moments(np.full(5, 0.1)) == (0.1, 0.0)
    assert all(np.isnan(moments(np.array([1.0, np.nan]))))


def test_fit_columns_matches_fit_on_the_matrix():
    x = np.random.default_rng(2).normal(size=(300, 3))
    by_matrix = FittedScaler.fit(x, ["a", "b", "c"])
    by_columns = FittedScaler.fit_columns([x[:, j].copy() for j in range(3)], ["a", "b", "c"])
    assert by_matrix.mean.tobytes() == by_columns.mean.tobytes()
    assert by_matrix.std.tobytes() == by_columns.std.tobytes()
    with pytest.raises(ValueError, match="2 columns, names 3"):
        FittedScaler.fit_columns([x[:, 0], x[:, 1]], ["a", "b", "c"])
