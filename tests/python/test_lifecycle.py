"""Segment lifecycle rules on small hand-made cases (customer_segmentation.lifecycle)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from customer_segmentation.kernels import assignment_columns
from customer_segmentation.lifecycle import (
    OVERLAP_SCHEMA,
    fresh_lineage,
    lineage,
    overlap_matrix,
)

OLD = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
OLD_IDS = [3, 5, 7]  # ids with gaps, as after earlier k changes


def test_a_fresh_database_is_one_to_k_and_counts_on_from_the_highest_issued_id():
    fresh = fresh_lineage(3)
    assert fresh.ids.tolist() == [1, 2, 3] and fresh.max_issued == 3
    assert fresh_lineage(2, max_issued=9).ids.tolist() == [10, 11]


def test_same_segments_in_another_order_keep_their_ids_on_centroids():
    new = OLD[[2, 0, 1]] + 0.1
    found = lineage(new, OLD, OLD_IDS, max_issued=7)
    assert found.ids.tolist() == [7, 3, 5]
    assert found.events == ["continued"] * 3 and found.basis == "centroids"
    assert found.max_issued == 7 and found.shares == [None] * 3


def test_a_split_keeps_the_id_on_the_larger_half_and_the_other_gets_a_new_one():
    # Old 5 splits into new rows 1 (60 of its customers) and 2 (40).
    new = np.array([[0.0, 0.0], [9.0, 0.0], [11.0, 0.0], [0.0, 10.0]])
    overlap = np.array([[100, 0, 0], [0, 60, 0], [0, 40, 0], [0, 0, 80]])
    found = lineage(new, OLD, OLD_IDS, max_issued=8, overlap=overlap)
    assert found.ids.tolist() == [3, 5, 9, 7]
    assert found.events == ["continued", "continued", "split", "continued"]
    assert found.related_ids == [3, 5, 5, 7] and found.max_issued == 9
    assert found.shares[2] == 1.0 and found.basis == "customers"


def test_a_merge_keeps_the_id_it_shares_most_customers_with():
    # Old 3 (70 customers) and old 5 (30) merge into new row 0; old 7 continues.
    new = np.array([[3.0, 0.0], [0.0, 10.0]])
    overlap = np.array([[70, 30, 0], [0, 0, 50]])
    found = lineage(new, OLD, OLD_IDS, max_issued=7, overlap=overlap)
    assert found.ids.tolist() == [3, 7] and found.events == ["continued", "continued"]
    assert found.shares[0] == 0.7


def test_a_paired_segment_without_a_majority_is_born_with_a_new_id():
    # New row 1 is paired with old 5 (most shared customers in total) but only 40 of its
    # 105 returning customers came from it.
    new = np.array([[0.0, 0.0], [10.0, 0.0]])
    overlap = np.array([[90, 0, 0], [30, 40, 35]])
    found = lineage(new, OLD, OLD_IDS, max_issued=7, overlap=overlap)
    assert found.events[0] == "continued" and found.ids[0] == 3
    # Its main source (old 5) continues in no other segment: born, not split.
    assert found.events[1] == "born" and found.ids[1] == 8 and found.related_ids[1] is None


def test_overlap_matrix_reads_cells_and_ignores_unknown_ids():
    cells = pa.table(
        {
            "segment_position": [0, 1, 1],
            "previous_segment_id": [5, 7, 99],
            "count_customers": [4, 2, 9],
        },
        schema=OVERLAP_SCHEMA,
    )
    matrix = overlap_matrix(cells, 2, OLD_IDS)
    assert matrix.tolist() == [[0, 4, 0], [0, 0, 2]]
    assert overlap_matrix(OVERLAP_SCHEMA.empty_table(), 2, OLD_IDS) is None


def test_assignments_carry_the_fit_ids_not_positions():
    z = np.array([[0.0, 0.0], [10.0, 0.0], [9.0, 0.0]])
    columns = assignment_columns(pa.array(["a", "b", "c"]), z, OLD, np.array(OLD_IDS))
    assert columns["segment_id"].to_pylist() == [3, 5, 5]
    assert columns["second_segment_id"].to_pylist() == [5, 3, 3]
    default = assignment_columns(pa.array(["a"]), z[:1], OLD)
    assert default["segment_id"].to_pylist() == [1]
