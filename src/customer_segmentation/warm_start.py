"""Starting centroids for a warm start: a centroid file, or the previous run's fit.

Model ml_warm_start checks the file before the k diagnostics run and stores the start as a
table (:func:`warm_start_table`); ml_kmeans_fit reads it back (:func:`warm_start_from_table`).

A centroid file is a CSV in one of two shapes:

- **wide**: one row per segment, one column per feature, and an optional ``segment_id``
  column giving the order. A feature's column may be named by the feature
  (``customer_lifetime_value``, ``is_channel_google``) or as in the input: the input column of
  a measure (``CLV``), or a categorical's input column with the category's key or code
  (``channel_google``, ``region_0``). Case does not matter.
- **long**: a published ``segment_centroids`` table as it is (segment_id, feature_name and
  centroid_original, or centroid_z with ``warm_start_units: z``; other columns ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from customer_segmentation.features import FeatureSet
from customer_segmentation.scaling import FittedScaler

UNITS = ("original", "z")
#: Columns of a wide file that are not features.
_NOT_FEATURES = ("segment_id", "segment_name")


class WarmStartError(ValueError):
    """A warm-start source cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class WarmStart:
    """Where Lloyd starts: ``centroids`` (k, d) in z units, and a label for the record."""

    centroids: np.ndarray
    label: str


def column_aliases(definitions: pa.Table) -> dict[str, str]:
    """Lower-case column name -> feature name, from int_feature_definitions: the feature's
    own name, a measure's input column, and ``<input column>_<key>`` / ``_<code>`` of a
    one-hot feature."""
    aliases: dict[str, str] = {}
    for row in definitions.to_pylist():
        name, column = row["feature_name"], row.get("source_column")
        names = [name]
        if row["feature_kind"] == "one_hot" and column:
            names += [f"{column}_{row.get('category_key')}", f"{column}_{row.get('category_code')}"]
        elif column:
            names.append(column)
        for alias in names:
            aliases.setdefault(str(alias).lower(), name)
    return aliases


def resolve_warm_start(
    setting: str | None,
    units: str,
    scaler: FittedScaler,
    previous: pa.Table | None,
    features: FeatureSet,
    aliases: dict[str, str] | None = None,
) -> WarmStart | None:
    """The warm start the ``warm_start`` setting asks for: None, ``previous`` (the centroids of
    the last run, ml_previous_fit) or the path of a centroid CSV."""
    if setting is None:
        return None
    if setting.strip().lower() == "previous":
        if previous is None or previous.num_rows == 0:
            raise WarmStartError("warm_start 'previous': this database has no previous run")
        centroids, _ = previous_fit_centroids(previous, scaler, features)
        return WarmStart(centroids, "warm start: previous run's centroids")
    label = f"warm_start '{setting}'"
    table = read_centroid_file(setting)
    centroids = centroids_from_table(
        table, scaler, features, units=units, source=label, aliases=aliases
    )
    return WarmStart(centroids, label)


def read_centroid_file(path: str | Path) -> pa.Table:
    """A centroid CSV with every value read as text, so a bad value can be reported by row
    and column."""
    path = Path(path)
    if not path.exists():
        raise WarmStartError(f"warm_start '{path}': file not found")
    table = pv.read_csv(
        path, convert_options=pv.ConvertOptions(column_types={}, strings_can_be_null=True)
    )
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))


def _wide(table: pa.Table, units: str, source: str) -> pa.Table:
    """A long (segment_centroids) table pivoted to one row per segment, one column per
    feature; a wide table as it is."""
    lower = {name.lower(): name for name in table.column_names}
    if "feature_name" not in lower:
        return table
    value = "centroid_z" if units == "z" else "centroid_original"
    if "segment_id" not in lower or value not in lower:
        raise WarmStartError(
            f"{source}: a long centroid file (with feature_name) needs columns segment_id and "
            f"{value}; found {', '.join(table.column_names)}"
        )
    return _pivot(
        table[lower["segment_id"]].to_pylist(),
        table[lower["feature_name"]].to_pylist(),
        table[lower[value]].to_pylist(),
    )


def _pivot(segments: list, features: list, numbers: list) -> pa.Table:
    """One row per segment (first-seen order), one text column per feature (first-seen
    order), from aligned long lists; a missing cell is null."""
    rows: dict[str, dict[str, str]] = {}
    for segment, feature, number in zip(segments, features, numbers, strict=True):
        rows.setdefault(segment, {"segment_id": segment})[feature] = number
    columns = {"segment_id": [row["segment_id"] for row in rows.values()]}
    columns.update(
        {name: [row.get(name) for row in rows.values()] for name in dict.fromkeys(features)}
    )
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def _feature_columns(
    table: pa.Table, wanted: tuple[str, ...], aliases: dict[str, str], source: str
) -> dict[str, str]:
    """Feature name -> the file's column holding it; one error naming every missing and
    unknown column."""
    found: dict[str, str] = {}
    unknown = []
    for column in table.column_names:
        feature = aliases.get(column.lower())
        if feature in wanted and feature not in found:
            found[feature] = column
        elif column.lower() not in _NOT_FEATURES:
            unknown.append(column)
    missing = [name for name in wanted if name not in found]
    if missing:
        extra = f"; unknown columns: {', '.join(unknown)}" if unknown else ""
        raise WarmStartError(
            f"{source}: column '{missing[0]}' is missing (missing: {', '.join(missing)}{extra}); "
            f"a centroid file needs one column per feature: {', '.join(wanted)} "
            "(or the input's column names, e.g. CLV, channel_google)"
        )
    if unknown:
        raise WarmStartError(
            f"{source}: unknown columns {', '.join(unknown)}: not a feature of this run "
            f"({', '.join(wanted)})"
        )
    return found


def centroids_from_table(
    table: pa.Table,
    scaler: FittedScaler,
    features: FeatureSet,
    *,
    units: str,
    source: str,
    aliases: dict[str, str] | None = None,
) -> np.ndarray:
    """(k, d) starting centroids in z units, rows in segment_id order when that column exists.

    ``units`` says what the feature columns hold: ``original`` (the measures in their own
    units and one-hot shares; transformed and standardised here as the fit does) or ``z``
    (already standardised). ``aliases`` (:func:`column_aliases`) adds the input's names.
    """
    if units not in UNITS:
        raise WarmStartError(f"warm_start_units {units!r}: use one of {UNITS}")
    table = _wide(table, units, source)
    known = {name.lower(): name for name in scaler.feature_names}
    known.update(aliases or {})
    columns = _feature_columns(table, scaler.feature_names, known, source)
    if table.num_rows == 0:
        raise WarmStartError(f"{source}: no centroid rows")
    order = _segment_order(table, source)
    values = np.column_stack(
        [_numbers(table, columns[feature], source) for feature in scaler.feature_names]
    )[order]
    return scaler.transform(features.to_fit_units(values)) if units == "original" else values


def _numbers(table: pa.Table, column: str, source: str, label: str | None = None) -> np.ndarray:
    """(n,) float64 values of a text ``column``; WarmStartError naming the first bad cell
    (the column called ``label`` when given)."""
    return np.array(
        [
            _number(value, source, row, label or column)
            for row, value in enumerate(table[column].to_pylist(), start=1)
        ],
        dtype=np.float64,
    )


def _segment_order(table: pa.Table, source: str) -> np.ndarray:
    """Row order by segment_id (stable) when the table has one, else file order."""
    lower = {name.lower(): name for name in table.column_names}
    if "segment_id" not in lower:
        return np.arange(table.num_rows)
    ids = _numbers(table, lower["segment_id"], source, "segment_id")
    return np.argsort(ids, kind="stable")


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


#: Columns of ml_warm_start: one row per starting centroid × feature (no rows: no warm start).
WARM_START_SCHEMA = pa.schema(
    [
        ("centroid_position", pa.int32()),
        ("feature_name", pa.string()),
        ("feature_position", pa.int32()),
        ("centroid_z", pa.float64()),
        ("warm_start_label", pa.string()),
    ]
)


def warm_start_table(start: WarmStart | None, feature_names: list[str]) -> pa.Table:
    """The ml_warm_start table of ``start`` (k × d rows, z units), empty for no warm start."""
    if start is None:
        return WARM_START_SCHEMA.empty_table()
    k, d = start.centroids.shape
    return pa.table(
        {
            "centroid_position": pa.array(np.repeat(np.arange(1, k + 1), d), pa.int32()),
            "feature_name": pa.array(feature_names * k, pa.string()),
            "feature_position": pa.array(np.tile(np.arange(1, d + 1), k), pa.int32()),
            "centroid_z": pa.array(start.centroids.ravel(), pa.float64()),
            "warm_start_label": pa.array([start.label] * (k * d), pa.string()),
        },
        schema=WARM_START_SCHEMA,
    )


def warm_start_from_table(table: pa.Table, feature_names: list[str]) -> WarmStart | None:
    """Back from ml_warm_start: None when it has no rows."""
    if table.num_rows == 0:
        return None
    ordered = table.sort_by([("centroid_position", "ascending"), ("feature_position", "ascending")])
    d = len(feature_names)
    stored = ordered["feature_name"].to_pylist()[:d]
    if stored != list(feature_names):
        raise WarmStartError(f"ml_warm_start has features {stored}, this run {feature_names}")
    centroids = ordered["centroid_z"].to_numpy().reshape(-1, d)
    return WarmStart(centroids, str(ordered["warm_start_label"][0].as_py()))
