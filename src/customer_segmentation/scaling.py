"""Standardisation with the population standard deviation, as fitted state that is data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: Below this std (relative to the mean's magnitude) a column is treated as constant; the same
#: kind of guard scikit-learn's StandardScaler uses, so near-constant columns do not blow up.
_CONSTANT_TOLERANCE = 10 * np.finfo(np.float64).eps


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
        if features.shape[0] == 0:
            raise ValueError("cannot standardise zero rows")
        return cls(
            feature_names=tuple(feature_names),
            mean=features.mean(axis=0),
            std=features.std(axis=0, ddof=0),
            n_samples=int(features.shape[0]),
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
