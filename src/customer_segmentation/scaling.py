"""Standardisation with the population standard deviation, as fitted state that is data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa

#: Below this std (relative to the mean's magnitude) a column is treated as constant; the same
#: kind of guard scikit-learn's StandardScaler uses, so near-constant columns do not blow up.
_CONSTANT_TOLERANCE = 10 * np.finfo(np.float64).eps

#: A column's values: one (n,) array, or its pieces in any order (e.g. an Arrow column's
#: chunks), which are summed without being joined.
Values = np.ndarray | Sequence[np.ndarray]


@dataclass(frozen=True)
class FittedScaler:
    """z = (x - mean) / scale, with scale = population std (ddof = 0), as scikit-learn does.

    A constant column (std 0) gets scale 1, so its z-scores are 0 rather than NaN; that
    choice is recorded per feature in ``handling``.

    Attributes
    ----------
    feature_names : d feature names, in fit order.
    mean, std : arrays of shape (d,), in the features' original units.
    n_samples : rows the scaler was fitted on.
    """

    feature_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    n_samples: int

    @classmethod
    def fit(cls, features: np.ndarray, feature_names: Sequence[str]) -> FittedScaler:
        """Fit on ``features`` of shape (n, d); n must be at least 1."""
        if features.ndim != 2 or features.shape[1] != len(feature_names):
            raise ValueError(f"features have shape {features.shape}, names {len(feature_names)}")
        return cls.fit_columns([features[:, j] for j in range(features.shape[1])], feature_names)

    @classmethod
    def fit_columns(cls, columns: Sequence[Values], feature_names: Sequence[str]) -> FittedScaler:
        """Fit on d columns of n values each (numeric or boolean, see :data:`Values`), n at
        least 1.

        The moments do not depend on the order of the rows (:func:`moments`), so no sort is
        needed for a result that is the same however the input was ordered."""
        if len(columns) != len(feature_names):
            raise ValueError(f"{len(columns)} columns, names {len(feature_names)}")
        n = sum(int(piece.shape[0]) for piece in _pieces(columns[0])) if columns else 0
        if n == 0:
            raise ValueError("cannot standardise zero rows")
        fitted = np.array([moments(column) for column in columns], dtype=np.float64)
        return cls(
            feature_names=tuple(feature_names),
            mean=fitted[:, 0],
            std=fitted[:, 1],
            n_samples=n,
        )

    @property
    def is_constant(self) -> np.ndarray:
        return self.std <= _CONSTANT_TOLERANCE * np.maximum(np.abs(self.mean), 1.0)

    @property
    def scale(self) -> np.ndarray:
        """Divisor per feature: the std, or 1 for constant columns."""
        return np.where(self.is_constant, 1.0, self.std)

    def transform(self, features: np.ndarray) -> np.ndarray:
        """z-scores, shape (n, d)."""
        return (features - self.mean) / self.scale

    def transform_column(self, position: int, values: np.ndarray) -> np.ndarray:
        """z-scores of one feature (0-based position), shape (n,): no (n, d) copy needed."""
        return (values - self.mean[position]) / self.scale[position]

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """Original units, shape (n, d). For a one-hot feature this is a share in [0, 1]."""
        return z * self.scale + self.mean

    def to_arrow(self) -> pa.Table:
        """One row per feature: the table SQL scoring standardises new customers with."""
        constant = self.is_constant
        return pa.table(
            {
                "feature_name": pa.array(self.feature_names, pa.string()),
                "feature_position": pa.array(range(1, len(self.feature_names) + 1), pa.int32()),
                "mean": pa.array(self.mean, pa.float64()),
                "std": pa.array(self.std, pa.float64()),
                "scale": pa.array(self.scale, pa.float64()),
                "n_samples": pa.array([self.n_samples] * len(self.feature_names), pa.int64()),
                "is_constant": pa.array(constant, pa.bool_()),
                "handling": pa.array(
                    [
                        "constant column: scale set to 1, every z-score is 0"
                        if c
                        else "z = (x - mean) / population std"
                        for c in constant
                    ],
                    pa.string(),
                ),
            }
        )

    @classmethod
    def from_arrow(cls, table: pa.Table) -> FittedScaler:
        ordered = table.sort_by("feature_position")
        return cls(
            feature_names=tuple(ordered.column("feature_name").to_pylist()),
            mean=ordered.column("mean").to_numpy(),
            std=ordered.column("std").to_numpy(),
            n_samples=int(ordered.column("n_samples")[0].as_py()),
        )


def column_z_scores(
    values: np.ndarray, mean: float, std: float, transform: str = "none"
) -> np.ndarray:
    """z-scores of one feature from its fitted moments, as the fit computes them.

    Parameters
    ----------
    values : numpy.ndarray
        (n,) values in original units (NaN stays NaN).
    mean, std : float
        The fit's mean and population std of the feature, in fit units (e.g.
        ``segment_centroids.feature_mean`` / ``feature_std``).
    transform : str
        ``log1p`` (the fit sees ln(1 + x)) or ``none``.

    Returns
    -------
    numpy.ndarray
        (n,) z-scores (dimensionless); a constant feature (std 0) gets scale 1, as in
        :class:`FittedScaler`.
    """
    fitted = np.asarray(values, dtype=np.float64)
    if transform == "log1p":
        fitted = np.log1p(fitted)
    scaler = FittedScaler(("feature",), np.array([mean], float), np.array([std], float), 0)
    return scaler.transform_column(0, fitted)


#: Rows summed at a time: halves of a 53-bit mantissa (below 2^27) over this many rows stay
#: far below 2^53, so float64 adds them without rounding; 1M rows keep the temporaries small
#: enough to be reused (fresh pages cost more than the arithmetic).
_EXACT_CHUNK_ROWS = 1 << 20
_HALF_BITS = 27
#: Integers below this magnitude are summed (and squared) in int64: 2^20 rows of squares
#: below 2^40 stay below 2^60.
_SMALL_INTEGER = 1 << 20


def _pieces(values: Values) -> list[np.ndarray]:
    """``values`` as arrays of at most :data:`_EXACT_CHUNK_ROWS` rows (views, no copies)."""
    arrays = [values] if isinstance(values, np.ndarray) else list(values)
    return [
        array[start : start + _EXACT_CHUNK_ROWS]
        for array in arrays
        for start in range(0, array.shape[0], _EXACT_CHUNK_ROWS)
    ]


def moments(values: Values) -> tuple[float, float]:
    """Mean and population std of n values, the same for any order of the rows.

    The sums are exact and rounded once, so no sum depends on the order it was taken in (a
    floating-point sum does, in its last bits): integers below 2^20 by int64 sums of x and
    x^2, other values by exact sums of x and of (x - mean)^2 (:func:`exact_sum`). NaN or
    infinite values give NaN/inf moments. At 10M rows about 0.05 s per one-hot column and
    0.3 s per float column."""
    pieces = _pieces(values)
    n = sum(piece.shape[0] for piece in pieces)
    if all(piece.dtype.kind in "biu" for piece in pieces) and _small_integers(pieces):
        return _integer_moments(pieces, n)
    pieces = [np.asarray(piece, dtype=np.float64) for piece in pieces]
    if not all(np.all(np.isfinite(piece)) for piece in pieces):
        joined = np.concatenate(pieces)
        return float(joined.mean()), float(joined.std())
    mean = float(sum((_piece_sum(piece) for piece in pieces), Fraction(0)) / n)
    squares = sum((_piece_sum((piece - mean) ** 2) for piece in pieces), Fraction(0))
    return mean, float(np.sqrt(float(squares / n)))


def _small_integers(pieces: list[np.ndarray]) -> bool:
    return all(
        piece.dtype == np.bool_ or piece.size == 0 or int(np.abs(piece).max()) < _SMALL_INTEGER
        for piece in pieces
    )


def _integer_moments(pieces: list[np.ndarray], n: int) -> tuple[float, float]:
    """Exact sums of x and x^2 in int64 per piece, added as Python integers."""
    total = squares = 0
    for piece in pieces:
        wide = piece.astype(np.int64)
        total += int(wide.sum())
        squares += int((wide * wide).sum())
    mean = Fraction(total, n)
    return float(mean), float(np.sqrt(float(Fraction(squares, n) - mean * mean)))


def exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite float64 values (n,), as a fraction (see :func:`_piece_sum`)."""
    return sum((_piece_sum(piece) for piece in _pieces(values)), Fraction(0))


def _piece_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite float64 values (n,) with n at most 2^26, as a fraction.

    Each value is m * 2^(e - 53) with m a 53-bit integer (``frexp``); m is split in two
    halves (below 2^26 and 2^27), and each half is summed per exponent (``bincount``), exact
    in float64 while n * 2^27 stays below 2^53. Python integers add the per-exponent sums."""
    values = values[values != 0]
    if values.size == 0:
        return Fraction(0)
    mantissa, exponent = np.frexp(values)
    whole = (mantissa * float(1 << 53)).astype(np.int64)
    high = whole >> _HALF_BITS
    low = whole - (high << _HALF_BITS)
    lowest = int(exponent.min())
    bins = exponent - lowest
    high_sums = np.bincount(bins, weights=high)
    low_sums = np.bincount(bins, weights=low)
    scaled = 0
    for b in np.flatnonzero((high_sums != 0) | (low_sums != 0)):
        scaled += ((int(high_sums[b]) << _HALF_BITS) + int(low_sums[b])) << int(b)
    return Fraction(scaled) * Fraction(2) ** (lowest - 53)
