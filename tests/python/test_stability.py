"""Bootstrap segment stability (customer_segmentation.stability) on planted data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.clustering import fit_kmeans
from customer_segmentation.stability import (
    adjusted_rand,
    best_jaccard,
    bootstrap_stability,
    contingency,
    stability_table,
)


def _planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three tight groups far apart, plus two heavily overlapping groups (one wide blob that
    k-means must cut somewhere): (n, 2) rows and their planted group 0..4."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-12.0, 0.0], [0.0, 12.0], [12.0, 0.0], [0.0, -8.0], [0.0, -7.4]])
    groups = np.repeat(np.arange(5), 150)
    z = centres[groups] + rng.normal(scale=0.6, size=(groups.size, 2))
    return z, groups


@pytest.fixture(scope="module")
def planted():
    z, groups = _planted()
    fit = fit_kmeans(z, 5, n_init=20, random_state=0)
    return z, groups, fit


def test_the_overlapping_segments_are_the_least_stable(planted):
    z, groups, fit = planted
    result = bootstrap_stability(z, fit.centroids, n_resamples=20, n_init=5, random_state=0)
    # Which fitted segment holds most of each planted group.
    main = [np.bincount(fit.labels[groups == g], minlength=5).argmax() for g in range(5)]
    assert len(set(main[:3])) == 3
    stable = result.jaccard[main[:3]]
    assert (stable >= 0.9).all(), stable
    overlapping = sorted(set(range(5)) - set(main[:3]))
    assert result.jaccard.argmin() in overlapping
    assert result.jaccard[overlapping].max() < stable.min()
    assert ((result.jaccard >= 0) & (result.jaccard <= 1)).all()
    assert result.n_resamples == 20 and result.sample_size == z.shape[0]


def test_two_calls_give_identical_results_and_another_seed_does_not(planted):
    z, _, fit = planted
    first = bootstrap_stability(z, fit.centroids, n_resamples=8, n_init=3, random_state=4)
    second = bootstrap_stability(z, fit.centroids, n_resamples=8, n_init=3, random_state=4)
    other = bootstrap_stability(z, fit.centroids, n_resamples=8, n_init=3, random_state=5)
    np.testing.assert_array_equal(first.jaccard, second.jaccard)
    np.testing.assert_array_equal(first.ari, second.ari)
    assert not np.array_equal(first.ari, other.ari)


def test_adjusted_rand_equals_scikit_learn():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, size=500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 5, size=500))
    ours = adjusted_rand(contingency(a, b, 4, 5))
    assert ours == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert adjusted_rand(contingency(a, a, 4, 4)) == pytest.approx(1.0)


def test_best_jaccard_by_hand():
    # Segment 0: rows {0,1,2}; segment 1: {3,4}. Refit: {0,1}, {2,3,4}.
    table = contingency(np.array([0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 1]), 2, 2)
    np.testing.assert_allclose(best_jaccard(table), [2 / 3, 2 / 3])
    empty = contingency(np.array([0, 0]), np.array([0, 1]), 2, 2)
    assert np.isnan(best_jaccard(empty)[1])


def test_the_table_is_null_when_the_step_is_off():
    table = stability_table(np.array([1, 2, 5]), None, "off")
    assert table["segment_id"].to_pylist() == [1, 2, 5]
    assert table["bootstrap_jaccard"].null_count == 3
    assert table["bootstrap_resamples"].to_pylist() == [0, 0, 0]
    assert table["bootstrap_note"].to_pylist() == ["off"] * 3


def _model_inputs(z: np.ndarray, centroids: np.ndarray, **settings) -> tuple:
    """Arrow tables as ml_segment_stability reads them: the z relation, a segment x feature
    fit table (segment ids 1..k) and the one settings row."""
    import dataclasses

    import pyarrow as pa

    from customer_segmentation.settings import SegmentationSettings

    z_table = pa.table(
        {
            "fit_row": np.arange(z.shape[0]),
            "customer_id": [f"c{i}" for i in range(z.shape[0])],
            **{f"f{j}_z": z[:, j] for j in range(z.shape[1])},
        }
    )
    k, d = centroids.shape
    fit = pa.table(
        {
            "segment_id": np.repeat(np.arange(1, k + 1), d).astype(np.int32),
            "feature_position": np.tile(np.arange(d), k).astype(np.int32),
            "centroid_z": centroids.ravel(),
        }
    )
    row = dataclasses.asdict(SegmentationSettings(**settings))
    return z_table, fit, pa.Table.from_pylist([row])


def test_the_model_resamples_a_seeded_sample_above_the_sample_size(planted):
    from customer_segmentation.clustering import seeded_sample
    from customer_segmentation.models import segment_stability

    z, _, fit = planted
    inputs = _model_inputs(
        z, fit.centroids, stability_resamples=4, stability_n_init=2, stability_sample_size=300
    )
    table = segment_stability(None, *inputs).to_pylist()
    rows = seeded_sample(z.shape[0], 300, 0)
    expected = bootstrap_stability(z[rows], fit.centroids, n_resamples=4, n_init=2, random_state=0)
    assert [r["segment_id"] for r in table] == [1, 2, 3, 4, 5]
    assert [r["bootstrap_jaccard"] for r in table] == expected.jaccard.tolist()
    assert {r["bootstrap_mean_ari"] for r in table} == {expected.mean_ari}
    assert {(r["bootstrap_sample_size"], r["bootstrap_resamples"]) for r in table} == {(300, 4)}
    assert {r["bootstrap_note"] for r in table} == {"seeded sample of 300 customers"}


def test_the_model_is_off_with_zero_resamples(planted):
    from customer_segmentation.models import segment_stability

    z, _, fit = planted
    table = segment_stability(None, *_model_inputs(z, fit.centroids, stability_resamples=0))
    assert table["bootstrap_jaccard"].null_count == 5
    assert set(table["bootstrap_note"].to_pylist()) == {"off: var stability_resamples is 0"}


def _grid(seed: int = 0) -> np.ndarray:
    """25 well-separated tight groups on a 5 x 5 grid: (1500, 2) rows, one true solution at
    k = 25 that single k-means++ restarts often miss."""
    rng = np.random.default_rng(seed)
    centres = np.array([[3.0 * x, 3.0 * y] for x in range(5) for y in range(5)])
    return np.repeat(centres, 60, axis=0) + rng.normal(scale=0.5, size=(1500, 2))


def test_a_refit_is_never_worse_than_its_start_or_its_restarts():
    from customer_segmentation.stability import refit

    z = _grid()
    fit = fit_kmeans(z, 25, n_init=50, random_state=0)
    rng = np.random.default_rng(1)
    for seed in range(5):
        drawn = z[rng.integers(0, z.shape[0], size=z.shape[0])]
        got = refit(drawn, fit.centroids, 2, seed)
        start = fit_kmeans(drawn, 25, n_init=1, random_state=0, initial_centroids=fit.centroids)
        restarts = fit_kmeans(drawn, 25, n_init=2, random_state=seed)
        assert got.wcss == min(start.wcss, restarts.wcss)


def test_restart_failures_do_not_read_as_instability():
    # 25 clean groups: with one k-means++ restart per refit, some refits alone merge two
    # groups and split another; starting from the run's centroids every group comes back.
    z = _grid()
    fit = fit_kmeans(z, 25, n_init=50, random_state=0)
    cold = [
        fit_kmeans(z, 25, n_init=1, random_state=seed).wcss > fit.wcss * 1.01 for seed in range(20)
    ]
    assert any(cold), "the planted data should trip single k-means++ restarts"
    result = bootstrap_stability(z, fit.centroids, n_resamples=10, n_init=1, random_state=0)
    assert (result.jaccard >= 0.99).all(), result.jaccard
    assert result.mean_ari >= 0.99
