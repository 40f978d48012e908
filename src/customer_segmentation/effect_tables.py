"""Tidy tables of the effect tests, for the dbt marts: one row per test or per cell.

:func:`group_effect_table`, :func:`contingency_summary_table` and
:func:`contingency_cells_table` run :func:`~customer_segmentation.effects.kruskal_wallis` and
:func:`~customer_segmentation.effects.contingency_test` over columns of a ``pyarrow.Table``,
or over grouped counts an engine computes where the rows live (:data:`Counts`). Both tests
need only how many rows hold each combination of values, so the counts give the tables of the
rows themselves (the rank sums are exact). Column names are always passed in; nothing is
hard-coded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from customer_segmentation.effects import (
    LOW_EXPECTED_COUNT,
    ContingencyResult,
    KruskalResult,
    contingency_test,
    kruskal_wallis,
)

__all__ = [
    "CONTINGENCY_CELLS_SCHEMA",
    "CONTINGENCY_SUMMARY_SCHEMA",
    "COUNT_COLUMN",
    "GROUP_EFFECT_SCHEMA",
    "Counts",
    "contingency_cells_table",
    "contingency_summary_table",
    "group_effect_table",
    "table_counts",
]

#: The column of a grouped count (:data:`Counts`) that holds the rows per combination.
COUNT_COLUMN = "count_rows"

#: columns -> a table of each combination of their values that occurs (nulls and NaN are
#: values of their own) and :data:`COUNT_COLUMN`, its rows (int64); any row order.
Counts = Callable[[Sequence[str]], pa.Table]

#: Schema of :func:`group_effect_table`; see its docstring for the meaning of each column.
GROUP_EFFECT_SCHEMA = pa.schema(
    [
        pa.field("categorical_feature", pa.string(), nullable=False),
        pa.field("numeric_feature", pa.string(), nullable=False),
        pa.field("test_name", pa.string(), nullable=False),
        pa.field("statistic", pa.float64()),
        pa.field("dof", pa.int64(), nullable=False),
        pa.field("p_value", pa.float64()),
        pa.field("effect_size", pa.float64()),
        pa.field("effect_size_name", pa.string(), nullable=False),
        pa.field("eta_squared_h", pa.float64()),
        pa.field("magnitude", pa.string()),
        pa.field("count_groups", pa.int64(), nullable=False),
        pa.field("count_rows", pa.int64(), nullable=False),
        pa.field("count_missing_rows", pa.int64(), nullable=False),
        pa.field("highest_mean_rank_group", pa.string()),
        pa.field("lowest_mean_rank_group", pa.string()),
        pa.field("reason", pa.string()),
    ]
)

#: Schema of :func:`contingency_summary_table`; see its docstring.
CONTINGENCY_SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("row_feature", pa.string(), nullable=False),
        pa.field("col_feature", pa.string(), nullable=False),
        pa.field("test_name", pa.string(), nullable=False),
        pa.field("statistic", pa.float64()),
        pa.field("dof", pa.int64(), nullable=False),
        pa.field("p_value", pa.float64()),
        pa.field("cramers_v", pa.float64()),
        pa.field("cramers_v_corrected", pa.float64()),
        pa.field("magnitude", pa.string()),
        pa.field("count_rows", pa.int64(), nullable=False),
        pa.field("count_missing_rows", pa.int64(), nullable=False),
        pa.field("count_cells", pa.int64(), nullable=False),
        pa.field("count_low_expected_cells", pa.int64(), nullable=False),
        pa.field("min_expected", pa.float64()),
        pa.field("is_yates_corrected", pa.bool_(), nullable=False),
        pa.field("reason", pa.string()),
    ]
)

#: Schema of :func:`contingency_cells_table`; see its docstring.
CONTINGENCY_CELLS_SCHEMA = pa.schema(
    [
        pa.field("row_feature", pa.string(), nullable=False),
        pa.field("row_value", pa.string(), nullable=False),
        pa.field("col_feature", pa.string(), nullable=False),
        pa.field("col_value", pa.string(), nullable=False),
        pa.field("observed", pa.int64(), nullable=False),
        pa.field("expected", pa.float64(), nullable=False),
        pa.field("pearson_residual", pa.float64()),
        pa.field("adjusted_residual", pa.float64()),
        pa.field("is_low_expected", pa.bool_(), nullable=False),
    ]
)


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Column ``name`` with dictionary encoding removed; KeyError naming the columns found."""
    if name not in table.column_names:
        raise KeyError(f"column {name!r} not found (columns: {', '.join(table.column_names)})")
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column


def _present(column: pa.ChunkedArray) -> np.ndarray:
    """Boolean mask (n,): not null and, for floating columns, not NaN."""
    mask = pc.is_valid(column)
    if pa.types.is_floating(column.type):
        mask = pc.and_(mask, pc.invert(pc.is_nan(column)))
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _numeric(column: pa.ChunkedArray, name: str) -> np.ndarray:
    """float64 values (n,); nulls become NaN. TypeError if the column is not numeric."""
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise TypeError(f"column {name!r} has type {kind}, not a number")
    return column.cast(pa.float64()).to_numpy(zero_copy_only=False)


def _labels(column: pa.ChunkedArray, keep: np.ndarray) -> np.ndarray:
    """Label values of the rows where ``keep`` (n,) is True, shape (keep.sum(),).

    Filtered in Arrow first, so an integer column with nulls keeps integer labels.
    """
    return column.filter(pa.array(keep)).to_numpy(zero_copy_only=False)


def _text(label: object) -> str:
    """A label as text: ``1`` for an integer code, the string itself for a string."""
    return str(label.item()) if isinstance(label, np.generic) else str(label)


def table_counts(table: pa.Table) -> Counts:
    """The :data:`Counts` of an in-memory table (one row per entity): a pyarrow group-by.
    KeyError naming the columns found when a column is missing."""

    def counts(columns: Sequence[str]) -> pa.Table:
        selected = pa.table({name: _column(table, name) for name in columns})
        grouped = selected.group_by(list(columns), use_threads=False).aggregate([([], "count_all")])
        return grouped.select([*columns, "count_all"]).rename_columns([*columns, COUNT_COLUMN])

    return counts


def _counted(source: pa.Table | Counts, columns: Sequence[str]) -> tuple[pa.Table, np.ndarray]:
    """The grouped count of ``columns``, sorted by them (so every engine's row order gives
    the same arrays), and its rows per entry (int64, (m,))."""
    counts = table_counts(source) if isinstance(source, pa.Table) else source
    counted = counts(columns).sort_by([(name, "ascending") for name in columns])
    weights = counted.column(COUNT_COLUMN).to_numpy(zero_copy_only=False).astype(np.int64)
    return counted, weights


def _nan_to_null(values: Sequence[float]) -> pa.Array:
    array = np.asarray(values, dtype=np.float64)
    return pa.array(array, type=pa.float64(), mask=np.isnan(array))


def group_effect_table(
    source: pa.Table | Counts, numeric: Sequence[str], categorical: Sequence[str]
) -> pa.Table:
    """Kruskal-Wallis of every numeric column across the groups of every categorical column.

    Rows where either column of a pair is null (or NaN) are left out of that pair's test and
    counted in ``count_missing_rows``; fill missing values first if they have a meaning (the
    project zero-fills blank minutes).

    Parameters
    ----------
    source : pyarrow.Table or Counts
        One row per entity (customer), or the grouped counts of such a table
        (:data:`Counts`), asked once per (numeric, categorical) pair.
    numeric : sequence of str
        Names of numeric columns (integer, floating or decimal).
    categorical : sequence of str
        Names of grouping columns (integer codes, strings, booleans; dictionary-encoded is fine).

    Returns
    -------
    pyarrow.Table
        Schema :data:`GROUP_EFFECT_SCHEMA`, one row per (categorical, numeric) pair, in the
        order categorical-major then numeric, as given:

        - ``categorical_feature`` : the grouping column's name
        - ``numeric_feature`` : the tested column's name
        - ``test_name`` : always ``'kruskal_wallis'``
        - ``statistic`` : tie-corrected H (null when ``reason`` is set)
        - ``dof`` : degrees of freedom, ``count_groups - 1``
        - ``p_value`` : chi-square upper-tail probability of H
        - ``effect_size`` : epsilon-squared, ``H / (n - 1)``, in [0, 1]
        - ``effect_size_name`` : always ``'epsilon_squared'``
        - ``eta_squared_h`` : ``(H - k + 1) / (n - k)``, an alternative effect size
        - ``magnitude`` : negligible / small / medium / large for ``effect_size``
          (thresholds :data:`~customer_segmentation.effects.EPSILON_SQUARED_THRESHOLDS`)
        - ``count_groups`` : k, distinct groups among the tested rows
        - ``count_rows`` : n, rows tested
        - ``count_missing_rows`` : rows left out because either value was missing
        - ``highest_mean_rank_group``, ``lowest_mean_rank_group`` : the group (as text) whose
          values rank highest / lowest on average: the direction of the effect
        - ``reason`` : why the statistics are null, else null
    """
    rows = [
        _kruskal_row(group_name, value_name, *_kruskal_pair(source, value_name, group_name))
        for group_name in categorical
        for value_name in numeric
    ]
    floats = ("statistic", "p_value", "effect_size", "eta_squared_h")
    return _tidy_table(rows, GROUP_EFFECT_SCHEMA, floats)


def _kruskal_pair(
    source: pa.Table | Counts, value_name: str, group_name: str
) -> tuple[int, KruskalResult]:
    """Rows left out (a missing value or group) and the test of one pair, from its counts."""
    counted, weights = _counted(source, [value_name, group_name])
    value_column, group_column = _column(counted, value_name), _column(counted, group_name)
    values = _numeric(value_column, value_name)
    keep = _present(value_column) & _present(group_column)
    result = kruskal_wallis(values[keep], _labels(group_column, keep), weights[keep])
    return int(weights.sum() - weights[keep].sum()), result


def _kruskal_row(group_name: str, value_name: str, missing: int, result: KruskalResult) -> dict:
    """One row of :func:`group_effect_table`."""
    has_ranks = result.reason is None
    return {
        "categorical_feature": group_name,
        "numeric_feature": value_name,
        "test_name": "kruskal_wallis",
        "statistic": result.statistic,
        "dof": result.dof,
        "p_value": result.p_value,
        "effect_size": result.epsilon_squared,
        "effect_size_name": "epsilon_squared",
        "eta_squared_h": result.eta_squared_h,
        "magnitude": result.magnitude,
        "count_groups": result.count_groups,
        "count_rows": result.count_rows,
        "count_missing_rows": missing,
        "highest_mean_rank_group": (
            _text(result.group_labels[np.argmax(result.mean_ranks)]) if has_ranks else None
        ),
        "lowest_mean_rank_group": (
            _text(result.group_labels[np.argmin(result.mean_ranks)]) if has_ranks else None
        ),
        "reason": result.reason,
    }


def _tidy_table(rows: list[dict], schema: pa.Schema, floats: Sequence[str]) -> pa.Table:
    """``rows`` (dicts keyed by the schema's names) as a table; NaN in ``floats`` is null."""
    return _columns_table(
        {name: [row[name] for row in rows] for name in schema.names}, schema, floats
    )


def _columns_table(records: dict[str, list], schema: pa.Schema, floats: Sequence[str]) -> pa.Table:
    """``records`` (name -> values) as a table of ``schema``; NaN in ``floats`` is null."""
    for name in floats:
        records[name] = _nan_to_null(records[name])
    return pa.table(records, schema=schema)


def _pair_tests(
    source: pa.Table | Counts, pairs: Sequence[tuple[str, str]], yates: bool
) -> list[tuple[str, str, int, ContingencyResult]]:
    """``(row_feature, col_feature, count_missing_rows, result)`` for every pair."""
    out = []
    for row_name, col_name in pairs:
        counted, weights = _counted(source, [row_name, col_name])
        row_column, col_column = _column(counted, row_name), _column(counted, col_name)
        keep = _present(row_column) & _present(col_column)
        rows, cols = _labels(row_column, keep), _labels(col_column, keep)
        result = contingency_test(rows, cols, weights=weights[keep], yates=yates)
        out.append((row_name, col_name, int(weights.sum() - weights[keep].sum()), result))
    return out


def contingency_summary_table(
    source: pa.Table | Counts, pairs: Sequence[tuple[str, str]], *, yates: bool = False
) -> pa.Table:
    """Chi-square test of independence for every pair of categorical columns.

    Rows where either column of a pair is null (or NaN) are left out of that pair's test.

    Parameters
    ----------
    source : pyarrow.Table or Counts
        One row per entity (customer), or its grouped counts (:data:`Counts`), asked once
        per pair.
    pairs : sequence of (str, str)
        ``(row_feature, col_feature)`` column-name pairs.
    yates : bool
        Passed to :func:`contingency_test` (affects 2 x 2 tables only).

    Returns
    -------
    pyarrow.Table
        Schema :data:`CONTINGENCY_SUMMARY_SCHEMA`, one row per pair, in the given order:

        - ``row_feature``, ``col_feature`` : the two column names
        - ``test_name`` : always ``'chi_square'``
        - ``statistic`` : chi-square (null when ``reason`` is set)
        - ``dof`` : ``(r - 1) * (c - 1)``
        - ``p_value`` : upper-tail probability of the statistic
        - ``cramers_v`` : Cramér's V in [0, 1]
        - ``cramers_v_corrected`` : Bergsma's (2013) bias-corrected V
        - ``magnitude`` : negligible / small / medium / large for ``cramers_v``
          (:func:`~customer_segmentation.effects.cramers_v_magnitude`)
        - ``count_rows`` : n, rows tested
        - ``count_missing_rows`` : rows left out because either value was missing
        - ``count_cells`` : r * c
        - ``count_low_expected_cells`` : cells with expected count < :data:`LOW_EXPECTED_COUNT`
        - ``min_expected`` : smallest expected count
        - ``is_yates_corrected`` : whether Yates' correction was applied
        - ``reason`` : why the statistics are null, else null
    """
    rows = [_chi_square_row(*test) for test in _pair_tests(source, pairs, yates)]
    floats = ("statistic", "p_value", "cramers_v", "cramers_v_corrected", "min_expected")
    return _tidy_table(rows, CONTINGENCY_SUMMARY_SCHEMA, floats)


def _chi_square_row(row_name: str, col_name: str, missing: int, result: ContingencyResult) -> dict:
    """One row of :func:`contingency_summary_table`."""
    return {
        "row_feature": row_name,
        "col_feature": col_name,
        "test_name": "chi_square",
        "statistic": result.statistic,
        "dof": result.dof,
        "p_value": result.p_value,
        "cramers_v": result.cramers_v,
        "cramers_v_corrected": result.cramers_v_corrected,
        "magnitude": result.magnitude,
        "count_rows": result.count_rows,
        "count_missing_rows": missing,
        "count_cells": int(result.observed.size),
        "count_low_expected_cells": result.count_low_expected_cells,
        "min_expected": result.min_expected,
        "is_yates_corrected": result.is_yates_corrected,
        "reason": result.reason,
    }


def contingency_cells_table(
    source: pa.Table | Counts, pairs: Sequence[tuple[str, str]], *, yates: bool = False
) -> pa.Table:
    """Observed and expected counts and residuals of every cell of every pair's table.

    Parameters
    ----------
    source, pairs, yates
        As for :func:`contingency_summary_table`; residuals are never continuity-corrected.

    Returns
    -------
    pyarrow.Table
        Schema :data:`CONTINGENCY_CELLS_SCHEMA`, one row per (pair, row value, column value)
        that has a non-zero row and column margin (zero counts inside the table are included),
        pairs in the given order, then row values and column values sorted by their original
        type (so code 10 comes after code 9):

        - ``row_feature``, ``col_feature`` : the two column names
        - ``row_value``, ``col_value`` : the category values as text (``'1'`` for code 1)
        - ``observed`` : rows with this combination
        - ``expected`` : count expected under independence, ``row_total * col_total / n``
        - ``pearson_residual`` : ``(observed - expected) / sqrt(expected)``
        - ``adjusted_residual`` : adjusted standardised residual, approximately N(0, 1) under
          independence; |value| > 1.96 marks an over- (positive) or under-represented
          (negative) combination (null when the test is undefined)
        - ``is_low_expected`` : expected count below :data:`LOW_EXPECTED_COUNT`
    """
    records: dict[str, list] = {name: [] for name in CONTINGENCY_CELLS_SCHEMA.names}
    for row_name, col_name, _, result in _pair_tests(source, pairs, yates):
        r, c = result.observed.shape
        row_text = [_text(v) for v in result.row_labels]
        col_text = [_text(v) for v in result.col_labels]
        records["row_feature"] += [row_name] * (r * c)
        records["row_value"] += [row_text[i] for i in range(r) for _ in range(c)]
        records["col_feature"] += [col_name] * (r * c)
        records["col_value"] += col_text * r
        records["observed"] += result.observed.ravel().tolist()
        records["expected"] += result.expected.ravel().tolist()
        records["pearson_residual"] += result.pearson_residuals.ravel().tolist()
        records["adjusted_residual"] += result.adjusted_residuals.ravel().tolist()
        records["is_low_expected"] += (result.expected < LOW_EXPECTED_COUNT).ravel().tolist()
    floats = ("pearson_residual", "adjusted_residual")
    return _columns_table(records, CONTINGENCY_CELLS_SCHEMA, floats)
