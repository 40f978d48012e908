import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage

from customer_segmentation.ward import (
    cut_tree,
    leaf_centroids,
    linkage_from_arrow,
    linkage_to_arrow,
    micro_clusters,
    ward_linkage,
    weighted_ward_linkage,
)


def test_ward_on_a_hand_checked_matrix():
    # Points on a line at 0, 1, 5 and 6: first {0,1} and {5,6} merge at height 1, then the two
    # pairs merge at sqrt(2 * 2 * 2 / 4) * |0.5 - 5.5| = sqrt(2) * 5.
    z = np.array([[0.0], [1.0], [5.0], [6.0]])
    merges = ward_linkage(z)
    np.testing.assert_allclose(merges[:, 2], [1.0, 1.0, 5 * np.sqrt(2)])
    assert {tuple(merges[0, :2]), tuple(merges[1, :2])} == {(0.0, 1.0), (2.0, 3.0)}
    assert merges[2, 3] == 4


def test_weighted_ward_with_unit_weights_equals_scipy():
    z = np.random.default_rng(4).normal(size=(60, 3))
    ours = weighted_ward_linkage(z, np.ones(60))
    np.testing.assert_allclose(ours[:, 2], linkage(z, "ward")[:, 2], rtol=1e-10)


def test_weighted_point_behaves_like_its_copies():
    # A point of weight 3 must merge like three identical points would.
    points = np.array([[0.0], [1.0], [4.0]])
    weighted = weighted_ward_linkage(points, np.array([3.0, 1.0, 1.0]))
    copies = linkage(np.array([[0.0], [0.0], [0.0], [1.0], [4.0]]), "ward")
    np.testing.assert_allclose(weighted[:, 2], copies[2:, 2], rtol=1e-12)


def test_cut_tree_numbers_clusters_by_first_appearance():
    z = np.array([[5.0], [5.1], [0.0], [0.1], [9.0]])
    labels = cut_tree(ward_linkage(z), 3)
    np.testing.assert_array_equal(labels, [1, 1, 2, 2, 3])


def test_linkage_table_round_trip():
    merges = ward_linkage(np.random.default_rng(5).normal(size=(10, 2)))
    table = linkage_to_arrow(merges, "exact")
    assert table.num_rows == 9
    assert table["merged_node_id"].to_pylist() == list(range(10, 19))
    np.testing.assert_array_equal(linkage_from_arrow(table), merges)


def test_micro_clusters_cover_every_row_and_are_deterministic():
    z = np.random.default_rng(6).normal(size=(3000, 4))
    a = micro_clusters(z, 50, random_state=1, sample_rows=1000)
    b = micro_clusters(z, 50, random_state=1, sample_rows=1000)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3000,) and a.min() == 0 and a.max() < 50
    centres, counts = leaf_centroids(z, a)
    assert counts.sum() == 3000
    np.testing.assert_allclose(centres[0], z[a == 0].mean(axis=0))


def test_ward_needs_two_rows():
    with pytest.raises(ValueError, match="at least 2"):
        ward_linkage(np.zeros((1, 2)))
