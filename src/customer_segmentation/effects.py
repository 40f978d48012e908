"""Effect tests: does a categorical attribute relate to a numeric one, or to another category?

Two tests answer the case study's questions with numbers rather than charts:

- :func:`kruskal_wallis` -- does a numeric measure (minutes watched, CLV) differ between the
  groups of a categorical attribute (acquisition channel)? A rank test, so the heavy skew of
  watch time does not matter. Effect size: epsilon-squared (and eta-squared based on H).
- :func:`contingency_test` -- are two categorical attributes (channel, region) associated?
  Pearson's chi-square with Cramér's V (plain and bias-corrected) and per-cell residuals that
  say *which* combinations are over- or under-represented.

Both take one entry per row, or per distinct combination with its count (``weights``): a
grouped count gives the same statistics as the rows themselves. The tidy tables a dbt mart
stores are built in :mod:`customer_segmentation.effect_tables`.

With thousands of rows almost any difference is "significant"; read the effect size and its
magnitude word first, the p-value second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from customer_segmentation.ranks import average_ranks, factorize

__all__ = [
    "CRAMERS_V_THRESHOLDS",
    "EPSILON_SQUARED_THRESHOLDS",
    "LOW_EXPECTED_COUNT",
    "ContingencyResult",
    "KruskalResult",
    "contingency_test",
    "cramers_v_magnitude",
    "epsilon_squared_magnitude",
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


def kruskal_wallis(
    values: np.ndarray, groups: np.ndarray, weights: np.ndarray | None = None
) -> KruskalResult:
    """Kruskal-Wallis H test of ``values`` across ``groups``, with epsilon-squared.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The numeric measure, in any unit (only ranks matter). Must not contain NaN: drop or
        fill missing values first.
    groups : array-like, shape (n,)
        Group label per row (ints or strings, sortable, no missing values). A group with a
        single row is allowed.
    weights : array-like of int, shape (n,), optional
        Rows that each entry stands for (a grouped count of (value, group)); the result is
        that of the expanded rows. None: one row each.

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
    codes, counts = _group_ranks(values, groups, _checked_weights(weights, values.shape))
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


def _group_ranks(
    values: np.ndarray, groups: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, dict]:
    """Group code per row (n,) and the per-group fields of :class:`KruskalResult`, plus the
    per-group rank sums (k,) and the tie term Σ (t³ - t) that :func:`_h_statistic` needs.
    Ranks are multiples of 1/2, so below 2^52 rows every rank sum is exact in any order."""
    labels, codes = factorize(groups)
    k = int(labels.size)
    sizes = _counts(codes, weights, k)
    n = int(sizes.sum())
    ranks, tie_term = average_ranks(values, weights)
    rank_sums = np.bincount(
        codes, weights=ranks if weights is None else ranks * weights, minlength=k
    )
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


def _checked_weights(weights: np.ndarray | None, shape: tuple) -> np.ndarray | None:
    """``weights`` as int64 of ``shape``, or None; ValueError on another shape or a negative."""
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.int64)
    if weights.shape != shape:
        raise ValueError(f"weights {weights.shape} must have the shape {shape} of the labels")
    if (weights < 0).any():
        raise ValueError("weights must not be negative")
    return weights


def _counts(codes: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """Rows per code 0..size-1 (int64, (size,)), each entry counting ``weights`` rows."""
    return np.bincount(codes, weights=weights, minlength=size).astype(np.int64)


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
    row_labels: np.ndarray,
    col_labels: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    yates: bool = False,
) -> ContingencyResult:
    """Chi-square test of independence of two label arrays, with Cramér's V and residuals.

    Parameters
    ----------
    row_labels, col_labels : array-like, shape (n,)
        Category per row (ints or strings, sortable, not missing); only labels that occur count.
    weights : array-like of int, shape (n,), optional
        Rows that each entry stands for (a grouped count of the label pairs); None: one each.
    yates : bool
        Yates' continuity correction for a 2 x 2 table (scipy never corrects larger ones). Off
        by default: ``statistic`` is Pearson's chi-square, the sum of squared Pearson residuals.

    Returns
    -------
    ContingencyResult
        NaN statistics and a ``reason`` when undefined (no rows, a single row or column label).

    Raises
    ------
    ValueError
        If the shapes differ or are not 1-D, or a weight is negative.
    """
    rows, cols, observed = _crosstab(row_labels, col_labels, weights)
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
    row_labels: np.ndarray, col_labels: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct row labels (r,), column labels (c,) and counts (r, c) int64, each
    entry counting ``weights`` rows when given."""
    row_labels = np.asarray(row_labels)
    col_labels = np.asarray(col_labels)
    if row_labels.ndim != 1 or row_labels.shape != col_labels.shape:
        raise ValueError(
            f"row_labels {row_labels.shape} and col_labels {col_labels.shape} must be equal 1-D"
        )
    weights = _checked_weights(weights, row_labels.shape)
    rows, row_codes = factorize(row_labels)
    cols, col_codes = factorize(col_labels)
    cells = _counts(row_codes * cols.size + col_codes, weights, rows.size * cols.size)
    return rows, cols, cells.reshape(rows.size, cols.size)


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
