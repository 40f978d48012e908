"""Starting centroids for a warm start: a centroid file, or the previous run's fit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from customer_segmentation.features import FeatureSet
from customer_segmentation.scaling import FittedScaler

UNITS = ("original", "z")


class WarmStartError(ValueError):
    """A warm-start source cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class WarmStart:
    """Where Lloyd starts: ``centroids`` (k, d) in z units, and a label for the record."""

    centroids: np.ndarray
    label: str


def _unset(value: object) -> bool:
    return value is None or str(value).strip().lower() in ("", "none", "null")


def resolve_warm_start(
    setting: str | None,
    units: str | None,
    scaler: FittedScaler,
    previous: pa.Table | None,
    features: FeatureSet,
) -> WarmStart | None:
    """The warm start a ``warm_start`` var asks for: none, ``previous`` (the centroids of the
    last run in this database) or the path of a centroid CSV."""
    if _unset(setting):
        return None
    if str(setting).strip().lower() == "previous":
        if previous is None or previous.num_rows == 0:
            raise WarmStartError("warm_start 'previous': this database has no previous run")
        centroids, _ = previous_fit_centroids(previous, scaler, features)
        return WarmStart(centroids, "warm start: previous run's centroids")
    label = f"warm_start '{setting}'"
    table = read_centroid_file(str(setting))
    unit = "original" if _unset(units) else str(units)
    centroids = centroids_from_table(table, scaler, features, units=unit, source=label)
    return WarmStart(centroids, label)


def read_centroid_file(path: str | Path) -> pa.Table:
    """A centroid CSV: one row per segment, one column per feature (by feature name), and an
    optional ``segment_id`` column giving the order. Every value is read as text first so a
    bad value can be reported by row and column."""
    path = Path(path)
    if not path.exists():
        raise WarmStartError(f"warm_start '{path}': file not found")
    table = pv.read_csv(
        path, convert_options=pv.ConvertOptions(column_types={}, strings_can_be_null=True)
    )
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))


def centroids_from_table(
    table: pa.Table, scaler: FittedScaler, features: FeatureSet, *, units: str, source: str
) -> np.ndarray:
    """(k, d) starting centroids in z units, rows in segment_id order when that column exists.

    ``units`` says what the feature columns hold: ``original`` (the measures in their own
    units and one-hot shares; transformed and standardised here as the fit does) or ``z``
    (already standardised).
    """
    if units not in UNITS:
        raise WarmStartError(f"warm_start_units {units!r}: use one of {UNITS}")
    columns = {name.lower(): name for name in table.column_names}
    missing = [f for f in scaler.feature_names if f.lower() not in columns]
    if missing:
        raise WarmStartError(
            f"{source}: column '{missing[0]}' is missing; a centroid file needs one column per "
            f"feature: {', '.join(scaler.feature_names)}"
        )
    if table.num_rows == 0:
        raise WarmStartError(f"{source}: no centroid rows")
    if "segment_id" in columns:
        ids = [
            _number(value, source, row, "segment_id")
            for row, value in _column(table, columns, "segment_id")
        ]
        order = np.argsort(ids, kind="stable")
    else:
        order = np.arange(table.num_rows)
    values = np.empty((table.num_rows, len(scaler.feature_names)))
    for j, feature in enumerate(scaler.feature_names):
        for row, value in _column(table, columns, feature.lower()):
            values[row - 1, j] = _number(value, source, row, feature)
    values = values[order]
    return scaler.transform(features.to_fit_units(values)) if units == "original" else values


def _column(table: pa.Table, columns: dict[str, str], key: str):
    return enumerate(table.column(columns[key]).to_pylist(), start=1)


def _number(value, source: str, row: int, column: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WarmStartError(
            f"{source}: row {row}, column '{column}': not a number ({value!r})"
        ) from None
    if not np.isfinite(number):
        raise WarmStartError(f"{source}: row {row}, column '{column}': not finite ({value!r})")
    return number


def previous_fit_centroids(
    previous: pa.Table, scaler: FittedScaler, features: FeatureSet
) -> tuple[np.ndarray, list]:
    """The previous run's centroids (k_prev, d) in the *current* z units, and its segment ids.

    Previous centroids are stored in original units too, so a changed scaler (new data) does
    not distort the comparison. Raises WarmStartError when the feature sets differ.
    """
    ordered = previous.sort_by([("segment_id", "ascending"), ("feature_position", "ascending")])
    names = list(dict.fromkeys(ordered["feature_name"].to_pylist()))
    if tuple(names) != scaler.feature_names:
        raise WarmStartError(
            f"the previous run used features {names}, this run {list(scaler.feature_names)}"
        )
    ids = list(dict.fromkeys(ordered["segment_id"].to_pylist()))
    original = ordered["centroid_original"].to_numpy().reshape(len(ids), len(names))
    return scaler.transform(features.to_fit_units(original)), ids
