"""Ranks and label codes for the rank-based figures (effect tests, mean positions).

- :func:`tie_runs`: the runs of equal values in a sorted column;
- :func:`average_ranks`: 1-based ranks with ties sharing their mean rank, and the tie term;
- :func:`factorize`: sorted distinct labels and each row's code, by hashing.

One sort per column, O(n log n); no per-row binary search (cache misses make that about
20 times slower at 10M rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def tie_runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index (r,) and length (r,) int64 of each run of equal values in ``ordered``
    (n,), sorted ascending; the lengths add up to n."""
    n = ordered.size
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return starts, np.diff(np.r_[starts, n])


def average_ranks(
    values: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """1-based ranks (n,) of ``values`` (n,), ties sharing their mean rank (as
    ``scipy.stats.rankdata``), and the tie term Σ (t³ - t) over the tied runs (t rows each).

    With ``weights`` (n,) of non-negative integers, row i stands for ``weights[i]`` rows of
    the same value (a grouped count): its rank is the mean rank of every row of its value, and
    t counts rows, not entries, so the result equals that of the expanded column.
    """
    order = np.argsort(values, kind="stable")
    starts, lengths = tie_runs(values[order])
    if weights is None:
        first, rows = starts, lengths
    else:
        rows = np.add.reduceat(weights[order], starts) if starts.size else starts
        first = np.cumsum(rows) - rows
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(first + (rows + 1.0) / 2.0, lengths)
    t = rows.astype(np.float64)
    return ranks, float((t**3 - t).sum())


def factorize(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels (k,) and each row's 0-based code (n,) into them: the result of
    ``np.unique(labels, return_inverse=True)``, by hashing (np.unique sorts every row, which
    on a million strings takes about a second)."""
    codes, uniques = pd.factorize(np.asarray(labels), sort=True)
    return np.asarray(uniques), codes.astype(np.int64)
