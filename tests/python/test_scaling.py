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
