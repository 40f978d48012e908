"""Top features of the margin on small hand-made cases (customer_segmentation.explain)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from customer_segmentation.explain import (
    TOP_FEATURES,
    FeatureGroups,
    explanation_columns,
    grouped_contributions,
    margin_terms,
    rank_contributions,
    top_feature_names,
)
from customer_segmentation.kernels import assignment_columns, nearest

MACRO = Path(__file__).resolve().parents[2] / "dbt_project/macros/features/top_feature_count.sql"


def _explain(z, centres, sources) -> dict:
    columns = assignment_columns(
        pa.array([str(i) for i in range(len(z))]),
        np.asarray(z, dtype=float),
        np.asarray(centres, dtype=float),
        groups=FeatureGroups.from_sources(sources),
    )
    return {name: columns[name].to_pylist() for name in top_feature_names()}


def test_two_features_by_hand():
    # z = (1, 3); own centre (0, 0): d1² = 1 + 9 = 10; runner-up (5, 2): d2² = 16 + 1 = 17.
    # spend: (1 - 5)² - (1 - 0)² = 15; visits: (3 - 2)² - (3 - 0)² = -8; 15 - 8 = 17 - 10.
    out = _explain([[1.0, 3.0]], [[0.0, 0.0], [5.0, 2.0]], ["spend", "visits"])
    assert out["top_feature_1"] == ["spend"]
    assert out["top_feature_1_contribution"] == pytest.approx([15.0])
    assert out["top_feature_2"] == ["visits"]
    assert out["top_feature_2_contribution"] == pytest.approx([-8.0])
    # Two features: no third.
    assert out["top_feature_3"] == [None]
    assert out["top_feature_3_contribution"] == [None]


def test_contributions_sum_to_the_squared_margin():
    rng = np.random.default_rng(3)
    z, centres = rng.normal(size=(200, 5)), rng.normal(size=(4, 5))
    found = nearest(z, centres)
    groups = FeatureGroups.from_sources(["a", "b", "a", "c", "b"])
    terms = margin_terms(z, centres[found.segment], centres[found.second_segment])
    total = grouped_contributions(terms, groups).sum(axis=1)
    expected = found.second_squared - found.squared
    np.testing.assert_allclose(total, expected, rtol=1e-9, atol=1e-12)
    assert (expected >= 0).all()


def test_one_hot_columns_are_summed_into_their_feature():
    # spend, is_region_north, is_region_south; own centre (0, .8, .2), runner-up (1, .1, .9).
    # spend: (.5 - 1)² - .5² = 0; north: (1 - .1)² - (1 - .8)² = .77; south: .9² - .2² = .77.
    out = _explain(
        [[0.5, 1.0, 0.0]], [[0.0, 0.8, 0.2], [1.0, 0.1, 0.9]], ["spend", "region", "region"]
    )
    assert out["top_feature_1"] == ["region"]
    assert out["top_feature_1_contribution"] == pytest.approx([1.54])
    assert out["top_feature_2"] == ["spend"]
    assert out["top_feature_2_contribution"] == pytest.approx([0.0], abs=1e-12)


def test_groups_follow_the_first_fit_column_of_each_source():
    groups = FeatureGroups.from_sources(["region", "spend", "region", "channel"])
    assert groups.names == ("region", "spend", "channel")
    assert groups.index.tolist() == [0, 1, 0, 2]
    terms = np.array([[1.0, 10.0, 100.0, 1000.0]])
    assert grouped_contributions(terms, groups).tolist() == [[101.0, 10.0, 1000.0]]


def test_ties_keep_feature_order():
    assert rank_contributions(np.array([[1.0, 2.0, 2.0, 0.0, 2.0]])).tolist() == [[1, 2, 4]]
    # Both features contribute (2 - 0)² - (1 - 0)² ... = 3: the first fit column's source wins,
    # whatever its name sorts as.
    out = _explain([[0.0, 0.0]], [[1.0, 1.0], [2.0, 2.0]], ["zeta", "alpha"])
    assert out["top_feature_1"] == ["zeta"]
    assert out["top_feature_2"] == ["alpha"]
    assert out["top_feature_1_contribution"] == out["top_feature_2_contribution"] == [3.0]


def test_one_segment_gives_null_explanations():
    out = _explain([[1.0, 2.0], [0.0, 0.0]], [[0.5, 0.5]], ["spend", "visits"])
    assert all(values == [None, None] for values in out.values())


def test_the_sql_macro_reports_as_many_top_features():
    count = re.search(r"return\((\d+)\)", MACRO.read_text())
    assert count is not None and int(count.group(1)) == TOP_FEATURES


def test_row_blocks_give_the_same_columns():
    rng = np.random.default_rng(5)
    z, centres = rng.normal(size=(1_000, 4)), rng.normal(size=(3, 4))
    found = nearest(z, centres)
    groups = FeatureGroups.from_sources(["a", "b", "b", "c"])
    args = (z, centres, found.segment, found.second_segment, groups)
    blocks = explanation_columns(*args, chunk_rows=7)
    whole = explanation_columns(*args, chunk_rows=10_000)
    assert {k: v.to_pylist() for k, v in blocks.items()} == {
        k: v.to_pylist() for k, v in whole.items()
    }
