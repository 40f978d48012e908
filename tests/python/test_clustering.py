import numpy as np
import pytest

from customer_segmentation.clustering import (
    KDiagnostic,
    NotEnoughRowsError,
    canonical_segment_order,
    choose_k,
    diagnose_k,
    elbow_k,
    fit_kmeans,
    match_to_previous,
    neighbour_starts,
    polish_neighbours,
)
from customer_segmentation.kernels import nearest


def blobs(seed: int = 0, per: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    return np.vstack([c + rng.normal(scale=0.5, size=(per, 2)) for c in centres])


def test_fit_is_deterministic_for_a_seed():
    z = blobs()
    a = fit_kmeans(z, 4, n_init=5, random_state=3)
    b = fit_kmeans(z, 4, n_init=5, random_state=3)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.converged and a.n_iter >= 1


def test_k1_wcss_is_total_sum_of_squares():
    z = blobs()
    fit = fit_kmeans(z, 1, n_init=1, random_state=0)
    assert fit.wcss == pytest.approx(((z - z.mean(axis=0)) ** 2).sum(), rel=1e-12)


def test_too_few_rows_names_the_source():
    with pytest.raises(NotEnoughRowsError, match="3 usable customer rows, fewer than k = 8"):
        fit_kmeans(np.zeros((3, 2)), 8, n_init=1, random_state=0)


def test_warm_start_from_the_fitted_centroids_reproduces_the_fit():
    z = blobs(1)
    fit = fit_kmeans(z, 4, n_init=10, random_state=0)
    warm = fit_kmeans(
        z, 4, n_init=10, random_state=99, initial_centroids=fit.centroids, init_label="file"
    )
    np.testing.assert_allclose(warm.centroids, fit.centroids)
    np.testing.assert_array_equal(warm.labels, fit.labels)
    assert warm.init == "file"


def test_lloyd_from_a_start_matches_kmeans_from_the_same_start():
    from sklearn.cluster import KMeans

    from customer_segmentation.clustering import column_variances, lloyd_from

    rng = np.random.default_rng(8)
    z = rng.normal(size=(30_000, 5))
    z[:, 4] = 0.0  # a constant column: variance 0, as a constant feature's z-scores
    start = z[rng.choice(len(z), 6, replace=False)]
    ours = lloyd_from(z, start, "test")
    theirs = KMeans(6, init=start, n_init=1, max_iter=300, algorithm="lloyd").fit(z)
    np.testing.assert_array_equal(ours.labels, theirs.labels_)
    np.testing.assert_allclose(ours.centroids, theirs.cluster_centers_, atol=1e-12)
    np.testing.assert_allclose(ours.wcss, theirs.inertia_, rtol=1e-12)
    assert ours.n_iter == theirs.n_iter_ and ours.init == "test"
    np.testing.assert_allclose(column_variances(z, chunk_rows=7_000), z.var(axis=0), atol=1e-12)


def test_assignment_nearest_second_and_margin():
    centroids = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 10.0]])
    z = np.array([[1.0, 0.0], [2.9, 0.1], [0.0, 9.0]])
    result = nearest(z, centroids, chunk_rows=2)
    np.testing.assert_array_equal(result.segment, [0, 1, 2])
    np.testing.assert_array_equal(result.second_segment, [1, 0, 0])
    np.testing.assert_allclose(result.distance[0], 1.0)
    np.testing.assert_allclose(result.second_distance[0], 2.0)
    np.testing.assert_allclose(result.margin[0], 1.0)
    assert (result.margin >= 0).all()


def test_assignment_ties_go_to_the_lowest_segment():
    result = nearest(np.array([[1.0]]), np.array([[0.0], [2.0]]))
    assert result.segment[0] == 0 and result.second_segment[0] == 1


def test_assignment_with_one_centroid_has_no_runner_up():
    result = nearest(np.zeros((2, 2)), np.ones((1, 2)))
    assert (result.second_segment == -1).all() and np.isnan(result.second_distance).all()


def test_canonical_order_sorts_by_first_key_then_second_descending():
    original = np.array([[5.0, 1.0], [9.0, 1.0], [5.0, 3.0]])
    order = canonical_segment_order(original, sort_columns=[0, 1])
    np.testing.assert_array_equal(order, [1, 2, 0])


def test_hungarian_match_follows_moved_centroids():
    previous = np.array([[0.0, 0.0], [5.0, 5.0], [10.0, 0.0]])
    current = previous[[2, 0, 1]] + 0.1
    np.testing.assert_array_equal(match_to_previous(current, previous), [2, 0, 1])


def test_hungarian_match_marks_new_segments_when_k_grows():
    previous = np.array([[0.0], [10.0]])
    current = np.array([[10.2], [50.0], [0.1]])
    np.testing.assert_array_equal(match_to_previous(current, previous), [1, -1, 0])


def test_elbow_finds_the_knee():
    ks = list(range(1, 9))
    wcss = [1000, 400, 150, 130, 115, 105, 98, 92]
    assert elbow_k(ks, wcss) == 3


def test_diagnostics_and_rules():
    z = blobs(2)
    diagnostics, sample = diagnose_k(
        z,
        range(1, 7),
        n_init=4,
        random_state=0,
        silhouette_max_rows=1000,
        silhouette_sample_size=50,
    )
    assert sample is None
    assert [d.k for d in diagnostics] == [1, 2, 3, 4, 5, 6]
    assert diagnostics[0].silhouette is None
    wcss = [d.wcss for d in diagnostics]
    assert all(a >= b for a, b in zip(wcss, wcss[1:], strict=False))
    assert choose_k(diagnostics, "silhouette", 8)[0] == 4
    assert choose_k(diagnostics, "elbow", 8)[0] == 4
    k, reason = choose_k(diagnostics, "fixed", 5)
    assert k == 5 and reason.startswith("fixed")


def test_silhouette_uses_a_sample_above_the_threshold():
    z = blobs(3)
    _, sample = diagnose_k(
        z, [2], n_init=1, random_state=0, silhouette_max_rows=100, silhouette_sample_size=60
    )
    assert sample == 60


def test_silhouette_rule_needs_a_scored_k():
    only_k1 = [KDiagnostic(1, 10.0, None, None, None, 1, True, 0.0, np.zeros((1, 2)))]
    with pytest.raises(ValueError, match="silhouette"):
        choose_k(only_k1, "silhouette", 1)


def test_neighbour_starts_have_k_rows_and_come_from_both_sides():
    z = blobs(4)
    smaller = fit_kmeans(z, 2, n_init=2, random_state=0).centroids
    larger = fit_kmeans(z, 4, n_init=2, random_state=0).centroids
    starts = neighbour_starts(z, 3, smaller, larger)
    assert len(starts) == 4 + 1
    assert all(start.shape == (3, 2) for _, start in starts)
    assert starts[-1][0] == "k = 2 solution plus the farthest row"


def test_polish_never_loses_and_says_where_the_best_came_from():
    rng = np.random.default_rng(8)
    z = np.vstack([rng.normal(loc=c, scale=0.6, size=(60, 3)) for c in rng.uniform(-6, 6, (9, 3))])
    ks = list(range(1, 11))
    single = {k: fit_kmeans(z, k, n_init=1, random_state=5) for k in ks}
    best = dict(single)
    source = {k: "one restart" for k in ks}
    seconds = dict.fromkeys(ks, 0.0)
    polish_neighbours(z, ks, best, source, seconds, random_state=5, max_passes=10)
    assert all(best[k].wcss <= single[k].wcss + 1e-9 for k in ks)
    assert any(source[k].startswith("polish") for k in ks)
    improved = [k for k in ks if source[k].startswith("polish")]
    assert all(best[k].wcss < single[k].wcss for k in improved)


def test_diagnostics_record_restarts_and_where_the_best_came_from():
    z = blobs(5)
    diagnostics, _ = diagnose_k(
        z,
        range(1, 6),
        n_init=200,
        random_state=0,
        silhouette_max_rows=1000,
        silhouette_sample_size=50,
        best_repeats=2,
    )
    assert all(d.best_from for d in diagnostics)
    # Easy blobs: the best is found again by the first chunks, far below the cap.
    assert all(1 <= d.restarts < 200 for d in diagnostics)


def test_one_pass_silhouettes_match_scikit_learn():
    from sklearn.metrics import silhouette_score

    from customer_segmentation.silhouette import mean_silhouettes

    rng = np.random.default_rng(11)
    z = rng.normal(size=(2_500, 4))  # more rows than one distance block
    labelings = [rng.integers(0, k, size=z.shape[0]) for k in (2, 5, 9)]
    labelings.append(np.r_[np.zeros(z.shape[0] - 1, dtype=int), 1])  # a singleton cluster
    ours = mean_silhouettes(z, labelings)
    theirs = [silhouette_score(z, labels) for labels in labelings]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)


def test_early_stop_finds_the_best_wcss_of_a_long_run():
    # Planted: 7 groups of unequal size and spread in 5 dimensions, some close together, so
    # single k-means++ restarts end in different local optima at k >= 5.
    rng = np.random.default_rng(21)
    centres = rng.uniform(-4, 4, size=(7, 5))
    z = np.vstack(
        [
            rng.normal(loc=c, scale=s, size=(m, 5))
            for c, s, m in zip(
                centres,
                [0.5, 0.8, 1.2, 0.6, 1.5, 0.7, 1.0],
                [40, 90, 150, 60, 200, 30, 120],
                strict=True,
            )
        ]
    )
    ks = range(1, 9)
    early, _ = diagnose_k(
        z, ks, n_init=300, random_state=3, silhouette_max_rows=10_000, silhouette_sample_size=10
    )
    long_run = [fit_kmeans(z, k, n_init=300, random_state=3).wcss for k in ks]
    assert all(d.wcss <= w * (1 + 1e-9) for d, w in zip(early, long_run, strict=True))
    assert sum(d.restarts for d in early) < 300 * len(ks) / 3


def test_diagnostics_do_not_depend_on_the_number_of_workers():
    z = blobs(6)
    runs = [
        diagnose_k(
            z,
            range(1, 7),
            n_init=60,
            random_state=4,
            silhouette_max_rows=1000,
            silhouette_sample_size=50,
            best_repeats=3,
            workers=workers,
        )[0]
        for workers in (1, 2)
    ]
    for one, two in zip(*runs, strict=True):
        np.testing.assert_array_equal(one.centroids, two.centroids)
        assert (one.wcss, one.restarts, one.best_from) == (two.wcss, two.restarts, two.best_from)


def test_compiled_and_numpy_lloyd_reach_the_same_fixed_point():
    from customer_segmentation.local_search import lloyd, numpy_lloyd

    z = blobs(7)
    row_norms = (z * z).sum(axis=1)
    start = z[[0, 5, 50, 90]]
    fast = lloyd(z, start, row_norms)
    slow = numpy_lloyd(z, start, row_norms)
    np.testing.assert_array_equal(fast.labels, slow.labels)
    np.testing.assert_allclose(fast.centroids, slow.centroids, rtol=1e-12)
    assert fast.wcss == pytest.approx(slow.wcss, rel=1e-12)
    assert fast.converged and slow.converged


def test_sampled_silhouettes_equal_scikit_learns_on_the_same_rows():
    from sklearn.metrics import silhouette_score

    from customer_segmentation.clustering import k_silhouettes

    rng = np.random.default_rng(4)
    z = rng.normal(size=(3000, 3)) + np.repeat(np.eye(3) * 4, 1000, axis=0)
    labels = {k: fit_kmeans(z, k, n_init=2, random_state=0).labels for k in (2, 3, 5)}
    ours = k_silhouettes(z, labels, sample=700, random_state=11)
    for k, lab in labels.items():
        theirs = silhouette_score(z, lab, sample_size=700, random_state=11)
        assert ours[k] == pytest.approx(theirs, rel=1e-10)
    exact = k_silhouettes(z, labels, sample=None, random_state=11)
    assert exact[3] == pytest.approx(silhouette_score(z, labels[3]), rel=1e-10)
