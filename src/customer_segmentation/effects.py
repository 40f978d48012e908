"""Effect tests: does a categorical attribute relate to a numeric one, or to another category?

Two tests answer the case study's questions with numbers rather than charts:

- :func:`kruskal_wallis` -- does a numeric measure (minutes watched, CLV) differ between the
  groups of a categorical attribute (acquisition channel)? A rank test, so the heavy skew of
  watch time does not matter. Effect size: epsilon-squared (and eta-squared based on H).
- :func:`contingency_test` -- are two categorical attributes (channel, region) associated?
  Pearson's chi-square with Cramér's V (plain and bias-corrected) and per-cell residuals that
  say *which* combinations are over- or under-represented.

:func:`group_effect_table`, :func:`contingency_summary_table` and
:func:`contingency_cells_table` run them over columns of a ``pyarrow.Table`` and return tidy
tables a dbt mart can store. Column names are always passed in; nothing is hard-coded.

With thousands of rows almost any difference is "significant"; read the effect size and its
magnitude word first, the p-value second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from customer_segmentation.ranks import average_ranks, factorize

__all__ = [
    "CONTINGENCY_CELLS_SCHEMA",
    "CONTINGENCY_SUMMARY_SCHEMA",
    "CRAMERS_V_THRESHOLDS",
    "EPSILON_SQUARED_THRESHOLDS",
    "GROUP_EFFECT_SCHEMA",
    "LOW_EXPECTED_COUNT",
    "ContingencyResult",
    "KruskalResult",
    "contingency_cells_table",
    "contingency_summary_table",
    "contingency_test",
    "cramers_v_magnitude",
    "epsilon_squared_magnitude",
    "group_effect_table",
    "kruskal_wallis",
]

#: Lower bounds of "small", "medium" and "large" for epsilon-squared (and eta-squared): below
#: 0.01 is "negligible". These are Cohen's (1988) benchmarks for eta-squared, the same cut-offs
#: Field (2013, *Discovering Statistics*) gives and the R package ``effectsize`` uses by default
#: for epsilon-squared (``interpret_epsilon_squared(rules = "field2013")``). Intervals are
#: closed on the left: 0.06 is "medium".
EPSILON_SQUARED_THRESHOLDS: tuple[float, float, float] = (0.01, 0.06, 0.14)

#: Cohen's (1988, ch. 7) benchmarks for the effect size w of a chi-square test: small 0.1,
#: medium 0.3, large 0.5. Cramér's V equals w / sqrt(min(r, c) - 1), so for V they are divided
#: by sqrt(min(r, c) - 1); see :func:`cramers_v_magnitude`.
CRAMERS_V_THRESHOLDS: tuple[float, float, float] = (0.1, 0.3, 0.5)

#: Expected cell counts below this make the chi-square approximation doubtful; the usual rule
#: (Cochran 1954) asks for no more than 20 % of cells below 5 and none below 1.
LOW_EXPECTED_COUNT = 5.0

_MAGNITUDES = ("negligible", "small", "medium", "large")


def _magnitude(value: float, thresholds: Sequence[float]) -> str | None:
    """Word for ``value`` given ascending lower bounds of small/medium/large; None for NaN."""
    if not np.isfinite(value):
        return None
    return _MAGNITUDES[int(np.searchsorted(np.asarray(thresholds), value, side="right"))]


def epsilon_squared_magnitude(value: float) -> str | None:
    """'negligible', 'small', 'medium' or 'large' (see :data:`EPSILON_SQUARED_THRESHOLDS`).

    Returns None when ``value`` is NaN. A negative value (possible for eta-squared_H) is
    'negligible'.
    """
    return _magnitude(value, EPSILON_SQUARED_THRESHOLDS)


def cramers_v_magnitude(value: float, min_dimension: int) -> str | None:
    """Magnitude word of Cramér's V for a table whose smaller side has ``min_dimension`` levels.

    The thresholds are :data:`CRAMERS_V_THRESHOLDS` divided by ``sqrt(min_dimension - 1)``: for a
    12 x 3 table (min_dimension 3) "small" starts at 0.1 / sqrt(2) = 0.071. Returns None when
    ``value`` is NaN or ``min_dimension < 2``.
    """
    if min_dimension < 2:
        return None
    scale = np.sqrt(min_dimension - 1)
    return _magnitude(value, [t / scale for t in CRAMERS_V_THRESHOLDS])


# --- Kruskal-Wallis ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KruskalResult:
    """Kruskal-Wallis H test of one numeric measure across the groups of one attribute.

    Attributes
    ----------
    statistic : float
        H, corrected for ties (as :func:`scipy.stats.kruskal`); NaN when ``reason`` is set.
    dof : int
        Degrees of freedom, ``count_groups - 1``.
    p_value : float
        Upper-tail chi-square probability of H with ``dof`` degrees of freedom; NaN when
        ``reason`` is set.
    epsilon_squared : float
        ``H / ((n^2 - 1) / (n + 1))``, which is ``H / (n - 1)``: the share of rank variance
        explained by the groups, in [0, 1] (Tomczak & Tomczak 2014).
    eta_squared_h : float
        ``(H - k + 1) / (n - k)`` (Cohen 2008); can be slightly negative when there is no
        effect; NaN when every group has a single row (n = k).
    magnitude : str or None
        Word for ``epsilon_squared`` (:func:`epsilon_squared_magnitude`); None when undefined.
    count_groups : int
        k, distinct group labels among the rows.
    count_rows : int
        n, rows tested.
    group_labels : ndarray, shape (k,)
        The distinct group labels, sorted.
    group_sizes : ndarray of int64, shape (k,)
        Rows per group, aligned with ``group_labels``.
    mean_ranks : ndarray of float64, shape (k,)
        Mean rank (1 = smallest value, ties averaged) per group: which groups sit high or low.
    reason : str or None
        Why the statistics are NaN ("no rows", "fewer than two groups", "all values are
        identical"); None when the test ran.
    """

    statistic: float
    dof: int
    p_value: float
    epsilon_squared: float
    eta_squared_h: float
    magnitude: str | None
    count_groups: int
    count_rows: int
    group_labels: np.ndarray
    group_sizes: np.ndarray
    mean_ranks: np.ndarray
    reason: str | None = None


def kruskal_wallis(values: np.ndarray, groups: np.ndarray) -> KruskalResult:
    """Kruskal-Wallis H test of ``values`` across ``groups``, with epsilon-squared.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The numeric measure, in any unit (only ranks matter). Must not contain NaN: drop or
        fill missing values first.
    groups : array-like, shape (n,)
        Group label per row (ints or strings, sortable, no missing values). A group with a
        single row is allowed.

    Returns
    -------
    KruskalResult
        With NaN statistics and a ``reason`` instead of an exception when the test is undefined:
        no rows, fewer than two groups, or all values identical.

    Raises
    ------
    ValueError
        If the shapes differ, are not 1-D, or ``values`` contains NaN.
    """
    values, groups = _checked_measure(values, groups)
    codes, counts = _group_ranks(values, groups)
    n, k, sizes = counts["count_rows"], counts["count_groups"], counts["group_sizes"]
    reason = _kruskal_reason(values, k)
    if reason is not None:
        nan = float("nan")
        undefined = {"statistic": nan, "p_value": nan, "epsilon_squared": nan}
        counts.pop("rank_sums"), counts.pop("tie_term")
        return KruskalResult(
            dof=max(k - 1, 0),
            eta_squared_h=nan,
            magnitude=None,
            reason=reason,
            **undefined,
            **counts,
        )
    h = _h_statistic(counts.pop("rank_sums"), sizes, n, counts.pop("tie_term"))
    p = float(stats.chi2.sf(h, k - 1))
    epsilon_squared = h / ((n**2 - 1) / (n + 1))
    return KruskalResult(
        statistic=h,
        dof=k - 1,
        p_value=p,
        epsilon_squared=epsilon_squared,
        eta_squared_h=(h - k + 1) / (n - k) if n > k else float("nan"),
        magnitude=epsilon_squared_magnitude(epsilon_squared),
        **counts,
    )


def _group_ranks(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, dict]:
    """Group code per row (n,) and the per-group fields of :class:`KruskalResult`, plus the
    per-group rank sums (k,) and the tie term Σ (t³ - t) that :func:`_h_statistic` needs."""
    n = int(values.size)
    labels, codes = factorize(groups)
    k = int(labels.size)
    sizes = np.bincount(codes, minlength=k).astype(np.int64)
    ranks, tie_term = average_ranks(values)
    rank_sums = np.bincount(codes, weights=ranks, minlength=k)
    return codes, {
        "count_groups": k,
        "count_rows": n,
        "group_labels": labels,
        "group_sizes": sizes,
        "mean_ranks": rank_sums / np.maximum(sizes, 1),
        "rank_sums": rank_sums,
        "tie_term": tie_term,
    }


def _h_statistic(rank_sums: np.ndarray, sizes: np.ndarray, n: int, tie_term: float) -> float:
    """Tie-corrected Kruskal-Wallis H from per-group rank sums (k,) and sizes (k,):
    (12 / (n (n + 1)) Σ R_i² / n_i - 3 (n + 1)) / (1 - Σ (t³ - t) / (n³ - n))."""
    filled = sizes > 0
    h = 12.0 / (n * (n + 1.0)) * float((rank_sums[filled] ** 2 / sizes[filled]).sum())
    h -= 3.0 * (n + 1.0)
    return h / (1.0 - tie_term / (float(n) ** 3 - n))


def _checked_measure(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as float64 (n,) and ``groups`` (n,); ValueError on shapes or NaN."""
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups)
    if values.ndim != 1 or groups.shape != values.shape:
        raise ValueError(f"values {values.shape} and groups {groups.shape} must be equal 1-D")
    if np.isnan(values).any():
        raise ValueError("values contain NaN; drop or fill missing values first")
    return values, groups


def _kruskal_reason(values: np.ndarray, k: int) -> str | None:
    """Why the H test is undefined for ``values`` (n,) in ``k`` groups, or None."""
    if values.size == 0:
        return "no rows"
    if k < 2:
        return "fewer than two groups"
    if np.all(values == values[0]):
        return "all values are identical"
    return None


# --- chi-square contingency -------------------------------------------------------------------


@dataclass(frozen=True)
class ContingencyResult:
    """Pearson chi-square test of independence of two categorical attributes.

    ``r`` and ``c`` are the numbers of distinct row and column labels that occur in the data.

    Attributes
    ----------
    row_labels : ndarray, shape (r,)
        Distinct row labels, sorted.
    col_labels : ndarray, shape (c,)
        Distinct column labels, sorted.
    observed : ndarray of int64, shape (r, c)
        Counts of rows per (row label, column label).
    expected : ndarray of float64, shape (r, c)
        Counts expected under independence, ``row_total * col_total / n``.
    pearson_residuals : ndarray of float64, shape (r, c)
        ``(O - E) / sqrt(E)``; their squares sum to the Pearson chi-square.
    adjusted_residuals : ndarray of float64, shape (r, c)
        Adjusted standardised residuals (Haberman 1973),
        ``(O - E) / sqrt(E * (1 - row_total / n) * (1 - col_total / n))``: approximately
        standard normal under independence, so |value| > 1.96 marks a cell that departs from
        independence at the 5 % level (before any multiple-testing correction). NaN when a
        margin holds every row.
    statistic : float
        Chi-square statistic (Pearson's, or Yates-corrected if ``is_yates_corrected``).
    dof : int
        ``(r - 1) * (c - 1)``.
    p_value : float
        Upper-tail chi-square probability of ``statistic``.
    is_yates_corrected : bool
        Whether Yates' continuity correction was applied (only ever for a 2 x 2 table, and only
        when asked for).
    cramers_v : float
        ``sqrt(chi2 / (n * (min(r, c) - 1)))`` with the Pearson chi2 (never Yates-corrected),
        in [0, 1].
    cramers_v_corrected : float
        Bergsma's (2013) bias-corrected V, which does not drift upwards for small n or many
        cells; NaN when undefined (a side whose every level occurs once).
    magnitude : str or None
        Word for ``cramers_v`` (:func:`cramers_v_magnitude`); None when undefined.
    count_rows : int
        n, rows tested.
    count_low_expected_cells : int
        Cells with expected count below :data:`LOW_EXPECTED_COUNT`.
    min_expected : float
        Smallest expected count (NaN with no rows).
    reason : str or None
        Why the statistics are NaN ("no rows", "fewer than two row labels", "fewer than two
        column labels"); None when the test ran.
    """

    row_labels: np.ndarray
    col_labels: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    pearson_residuals: np.ndarray
    adjusted_residuals: np.ndarray
    statistic: float
    dof: int
    p_value: float
    is_yates_corrected: bool
    cramers_v: float
    cramers_v_corrected: float
    magnitude: str | None
    count_rows: int
    count_low_expected_cells: int
    min_expected: float
    reason: str | None = None

    @property
    def has_low_expected(self) -> bool:
        """True if any expected count is below :data:`LOW_EXPECTED_COUNT`."""
        return self.count_low_expected_cells > 0


def _bergsma_v(chi2: float, n: int, r: int, c: int) -> float:
    """Bias-corrected Cramér's V of Bergsma (2013, J. Korean Stat. Soc. 42, 323-328)."""
    if n < 2:
        return float("nan")
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    r_tilde = r - (r - 1) ** 2 / (n - 1)
    c_tilde = c - (c - 1) ** 2 / (n - 1)
    denominator = min(r_tilde - 1, c_tilde - 1)
    if denominator <= 0:
        return float("nan")
    return float(np.sqrt(phi2 / denominator))


def contingency_test(
    row_labels: np.ndarray, col_labels: np.ndarray, *, yates: bool = False
) -> ContingencyResult:
    """Chi-square test of independence of two label arrays, with Cramér's V and residuals.

    Parameters
    ----------
    row_labels, col_labels : array-like, shape (n,)
        Category per row (ints or strings, sortable, no missing values). Only labels that occur
        make rows and columns of the table, so no margin is ever zero.
    yates : bool
        Apply Yates' continuity correction to a 2 x 2 table (scipy never applies it to larger
        tables). Off by default, so that for every table size ``statistic`` is Pearson's
        chi-square, equal to the sum of squared Pearson residuals and consistent with V.

    Returns
    -------
    ContingencyResult
        With NaN statistics and a ``reason`` instead of an exception when the test is undefined
        (no rows, or a single row or column label).

    Raises
    ------
    ValueError
        If the shapes differ or are not 1-D.
    """
    rows, cols, observed = _crosstab(row_labels, col_labels)
    r, c = observed.shape
    n = int(observed.sum())
    expected, pearson, adjusted = _residuals(observed)
    shared = {
        "row_labels": rows,
        "col_labels": cols,
        "observed": observed,
        "expected": expected,
        "count_rows": n,
        "count_low_expected_cells": int(np.count_nonzero(expected < LOW_EXPECTED_COUNT)),
        "min_expected": float(expected.min()) if expected.size else float("nan"),
    }
    reason = "no rows" if n == 0 else _single_label_reason(r, c)
    if reason is not None:
        return _undefined_contingency(reason, shared)
    statistic, p_value, dof, _ = stats.chi2_contingency(observed, correction=yates)
    pearson_chi2 = float(np.sum(pearson**2))
    v = float(np.sqrt(pearson_chi2 / (n * (min(r, c) - 1))))
    return ContingencyResult(
        pearson_residuals=pearson,
        adjusted_residuals=adjusted,
        statistic=float(statistic),
        dof=int(dof),
        p_value=float(p_value),
        is_yates_corrected=bool(yates and dof == 1),
        cramers_v=v,
        cramers_v_corrected=_bergsma_v(pearson_chi2, n, r, c),
        magnitude=cramers_v_magnitude(v, min(r, c)),
        **shared,
    )


def _undefined_contingency(reason: str, shared: dict) -> ContingencyResult:
    """The result of a test that cannot run: NaN statistics, ``reason`` set; ``shared`` holds
    the labels, counts and expected-count fields."""
    r, c = shared["observed"].shape
    nan = float("nan")
    return ContingencyResult(
        pearson_residuals=np.full((r, c), nan),
        adjusted_residuals=np.full((r, c), nan),
        statistic=nan,
        dof=max(r - 1, 0) * max(c - 1, 0),
        p_value=nan,
        is_yates_corrected=False,
        cramers_v=nan,
        cramers_v_corrected=nan,
        magnitude=None,
        reason=reason,
        **shared,
    )


def _crosstab(
    row_labels: np.ndarray, col_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct row labels (r,), column labels (c,) and counts (r, c) int64."""
    row_labels = np.asarray(row_labels)
    col_labels = np.asarray(col_labels)
    if row_labels.ndim != 1 or row_labels.shape != col_labels.shape:
        raise ValueError(
            f"row_labels {row_labels.shape} and col_labels {col_labels.shape} must be equal 1-D"
        )
    rows, row_codes = factorize(row_labels)
    cols, col_codes = factorize(col_labels)
    cells = np.bincount(row_codes * cols.size + col_codes, minlength=rows.size * cols.size)
    return rows, cols, cells.reshape(rows.size, cols.size).astype(np.int64)


def _residuals(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected counts, Pearson and adjusted residuals of ``observed`` (r, c), each (r, c)."""
    n = int(observed.sum())
    row_share = observed.sum(axis=1) / max(n, 1)
    col_share = observed.sum(axis=0) / max(n, 1)
    expected = n * np.outer(row_share, col_share)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = (observed - expected) / np.sqrt(expected)
        adjusted = (observed - expected) / np.sqrt(
            expected * np.outer(1 - row_share, 1 - col_share)
        )
    return expected, pearson, adjusted


def _single_label_reason(r: int, c: int) -> str | None:
    if r < 2:
        return "fewer than two row labels"
    if c < 2:
        return "fewer than two column labels"
    return None


# --- tidy tables ------------------------------------------------------------------------------

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


def _nan_to_null(values: Sequence[float]) -> pa.Array:
    array = np.asarray(values, dtype=np.float64)
    return pa.array(array, type=pa.float64(), mask=np.isnan(array))


def group_effect_table(
    table: pa.Table, numeric: Sequence[str], categorical: Sequence[str]
) -> pa.Table:
    """Kruskal-Wallis of every numeric column across the groups of every categorical column.

    Rows where either column of a pair is null (or NaN) are left out of that pair's test and
    counted in ``count_missing_rows``; fill missing values first if they have a meaning (the
    project zero-fills blank minutes).

    Parameters
    ----------
    table : pyarrow.Table
        One row per entity (customer).
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
          (thresholds :data:`EPSILON_SQUARED_THRESHOLDS`)
        - ``count_groups`` : k, distinct groups among the tested rows
        - ``count_rows`` : n, rows tested
        - ``count_missing_rows`` : rows left out because either value was missing
        - ``highest_mean_rank_group``, ``lowest_mean_rank_group`` : the group (as text) whose
          values rank highest / lowest on average: the direction of the effect
        - ``reason`` : why the statistics are null, else null
    """
    measures = {}
    for name in numeric:
        column = _column(table, name)
        measures[name] = (_numeric(column, name), _present(column))
    rows = []
    for group_name in categorical:
        group_column = _column(table, group_name)
        group_present = _present(group_column)
        for value_name in numeric:
            values, value_present = measures[value_name]
            keep = group_present & value_present
            result = kruskal_wallis(values[keep], _labels(group_column, keep))
            missing = int(table.num_rows - keep.sum())
            rows.append(_kruskal_row(group_name, value_name, missing, result))
    floats = ("statistic", "p_value", "effect_size", "eta_squared_h")
    return _tidy_table(rows, GROUP_EFFECT_SCHEMA, floats)


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
    table: pa.Table, pairs: Sequence[tuple[str, str]], yates: bool
) -> list[tuple[str, str, int, ContingencyResult]]:
    """``(row_feature, col_feature, count_missing_rows, result)`` for every pair."""
    out = []
    for row_name, col_name in pairs:
        row_column, col_column = _column(table, row_name), _column(table, col_name)
        keep = _present(row_column) & _present(col_column)
        result = contingency_test(_labels(row_column, keep), _labels(col_column, keep), yates=yates)
        out.append((row_name, col_name, int(table.num_rows - keep.sum()), result))
    return out


def contingency_summary_table(
    table: pa.Table, pairs: Sequence[tuple[str, str]], *, yates: bool = False
) -> pa.Table:
    """Chi-square test of independence for every pair of categorical columns.

    Rows where either column of a pair is null (or NaN) are left out of that pair's test.

    Parameters
    ----------
    table : pyarrow.Table
        One row per entity (customer).
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
          (:func:`cramers_v_magnitude`)
        - ``count_rows`` : n, rows tested
        - ``count_missing_rows`` : rows left out because either value was missing
        - ``count_cells`` : r * c
        - ``count_low_expected_cells`` : cells with expected count < :data:`LOW_EXPECTED_COUNT`
        - ``min_expected`` : smallest expected count
        - ``is_yates_corrected`` : whether Yates' correction was applied
        - ``reason`` : why the statistics are null, else null
    """
    rows = [_chi_square_row(*test) for test in _pair_tests(table, pairs, yates)]
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
    table: pa.Table, pairs: Sequence[tuple[str, str]], *, yates: bool = False
) -> pa.Table:
    """Observed and expected counts and residuals of every cell of every pair's table.

    Parameters
    ----------
    table, pairs, yates
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
    for row_name, col_name, _, result in _pair_tests(table, pairs, yates):
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
