"""The segmentation report: charts and tables from the built marts, as one self-contained HTML file.

    python -m customer_segmentation.report --database customer_segmentation.duckdb \\
        --out reports/segmentation_report.html

The report follows the feature set of the build: it reads ``marts.feature_definitions`` and
names no column of any particular set. Measures (``feature_kind = 'numeric'``) are shown in
*report order*, summable measures (totals and shares make sense, e.g. a lifetime value or the
money spent) first, then the others in declared order; categorical features are the sources of
the one-hot columns, in fit order. Display labels come from ``feature_label``. Charts that need
categorical features (means by the first two categoricals, the effect tests, the residual
heatmap) are left out, with a one-line note, when the feature set has none (e.g. ``rfm``).

Charts (:data:`CHART_IDS`, page order): feature correlations; the first two measures against
each other (the first in report order on y); k diagnostics and the Ward dendrogram; the segment
scatter in original units and in z units, the latter without outliers (a customer with |z| >
:data:`Z_OUTLIER_LIMIT` = 3 on either plotted axis is dropped; the caption says how many);
per-measure bars (segment means, overall-mean line) and box plots (fliers not drawn); the first
measure's mean by the first two categoricals; adjusted residuals of the first chi-square pair.

Only ``marts.*`` is read, through a read-only DuckDB connection, so the report works on the
build database and on the published serving file (views over Parquet) alike. Aggregates are
computed in SQL (the correlation matrix is one pass of ``corr``; box-plot quartiles and
whiskers are exact ``quantile_cont`` per segment) and the scatter charts read at most
:data:`SCATTER_MAX_POINTS` rows (one repeatable reservoir sample, :func:`_scatter_sample`), so
the report stays fast and small on millions of customers.

Charts are drawn headless with matplotlib's Agg canvas on :class:`~matplotlib.figure.Figure`
objects (never registered with pyplot, so there is no global figure to leak), encoded as PNG
and embedded as base64 ``data:`` URIs. The page has inline CSS, no script and no external
asset: it can be mailed or attached as is.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import math
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from customer_segmentation.cli import DEFAULT_DATABASE, database_path

REQUIRED_MARTS = (
    "customer_segments",
    "segment_profiles",
    "segment_k_diagnostics",
    "segment_dendrogram",
    "customer_value_summary",
    "segment_centroids",
    "segmentation_runs",
)
#: Read when present. Without feature_definitions (e.g. a serving file that does not publish
#: it) the feature set is derived from segment_centroids and customer_segments (labels are then
#: column names); without the effect-test marts the effect tests are left out with a note.
OPTIONAL_MARTS = (
    "feature_definitions",
    "category_effect_tests",
    "category_association_tests",
    "category_association_cells",
)
#: Every chart the report can hold, in page order. Which ones a report has depends on the
#: feature set: the scatters need two measures, chart-categories and chart-residuals need
#: categorical features (see :attr:`ReportResult.chart_ids`).
CHART_IDS = (
    "chart-correlation",
    "chart-scatter",
    "chart-elbow",
    "chart-dendrogram",
    "chart-segments",
    "chart-segments-z",
    "chart-profiles",
    "chart-boxplots",
    "chart-categories",
    "chart-residuals",
)
SCATTER_MAX_POINTS = 20_000
SAMPLE_SEED = 42
#: The z-unit scatter drops customers with |z| above this on either plotted axis.
Z_OUTLIER_LIMIT = 3.0
#: A non-negative measure with a sample skewness above this is drawn on a symlog axis.
SYMLOG_SKEWNESS = 2.0
#: Measures drawn in the per-measure panels (bars, box plots): the first ones in report order.
MAX_MEASURE_PANELS = 6
PANELS_PER_ROW = 3
#: Adjusted residuals beyond ± this are outlined in the residual heatmap.
RESIDUAL_MARK = 2.0
DENDROGRAM_LEAVES = 30
DPI = 110
DEFAULT_OUT = Path("reports") / "segmentation_report.html"

_STYLE = {
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.frameon": False,
    "savefig.facecolor": "white",
}
_CATEGORY_COLOURS = "Set2"
_ABOVE_CUT = "#8a8a8a"
_REFERENCE = "#444444"
# Same guard as the fit's scaler: a std this small (relative to the mean) means a constant
# column, whose fit scale is 1.
_CONSTANT_TOLERANCE = 10 * np.finfo(np.float64).eps


class ReportError(RuntimeError):
    """The report cannot be rendered from this database; the message says why."""


@dataclass(frozen=True)
class ReportResult:
    """What :func:`render_report` wrote.

    Attributes
    ----------
    path : Path
        The HTML file.
    bytes : int
        Its size.
    seconds : float
        Wall time of the whole render (queries, charts, writing).
    chart_ids : list of str
        The ``id`` of every ``<figure>`` in the page, in page order (a subset of
        :data:`CHART_IDS` that depends on the feature set).
    """

    path: Path
    bytes: int
    seconds: float
    chart_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Chart:
    chart_id: str
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Measure:
    """A numeric feature (``feature_kind = 'numeric'``): a column of customer_segments.

    Attributes
    ----------
    name : column name in the marts (``avg_<name>``, ``median_<name>`` in the profiles).
    label : display label (``feature_label``).
    position : fit position (``feature_position``, 1-based).
    transform : ``none`` or ``log1p`` (the fit, and so the z-scores, see ln(1 + x)).
    is_summable : totals and shares are reported (``total_<name>``, ``share_of_<name>``).
    """

    name: str
    label: str
    position: int
    transform: str = "none"
    is_summable: bool = False


@dataclass(frozen=True)
class OneHot:
    """A 0/1 fit column: customers whose ``<categorical>_code`` equals ``code``."""

    name: str
    position: int
    categorical: str
    code: int
    label: str


@dataclass(frozen=True)
class Categorical:
    """A categorical feature: ``<name>_code`` and ``<name>_name`` in customer_segments.

    ``categories`` are (code, display name) in code order, from its one-hot rows.
    """

    name: str
    categories: tuple[tuple[int, str], ...]

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class ReportFeatures:
    """The feature set as the report needs it (from ``marts.feature_definitions``).

    Attributes
    ----------
    set_name : ``feature_set`` (e.g. ``feature set 'rfm'``).
    measures : in report order: summable first, then by fit position.
    one_hots : in fit order.
    categoricals : in the fit order of their first one-hot column.
    codes : labels of ``code`` features (a categorical's code used as a number).
    """

    set_name: str
    measures: tuple[Measure, ...]
    one_hots: tuple[OneHot, ...]
    categoricals: tuple[Categorical, ...]
    codes: tuple[str, ...] = ()

    def measure_label(self, name: str) -> str:
        """The display label of a measure (its name when unknown)."""
        return next((m.label for m in self.measures if m.name == name), name)

    def categorical(self, name: str) -> Categorical | None:
        return next((c for c in self.categoricals if c.name == name), None)


@dataclass(frozen=True)
class AxisScale:
    """How a measure's axis is drawn: ``linear``, or ``symlog`` (linear within ±linthresh,
    logarithmic beyond); ``from_zero`` pins the axis just below 0 so zeros stay visible."""

    kind: str = "linear"
    linthresh: float = 0.0
    from_zero: bool = False


@dataclass(frozen=True)
class MeasureStats:
    """Whole-table statistics of one measure (original units), from one SQL pass."""

    mean: float
    minimum: float
    median: float
    maximum: float
    skewness: float | None
    count: int


# --------------------------------------------------------------------------------------------
# Reading the marts


def _ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (feature names come from user configuration)."""
    return '"' + name.replace('"', '""') + '"'


def _connect(database: Path) -> duckdb.DuckDBPyConnection:
    """Open ``database`` read-only after checking it exists and holds every required mart."""
    if not database.exists():
        raise ReportError(
            f"{database}: no such database; run `make demo` (or `dbt build`) first, "
            "or pass --database"
        )
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"{database}: cannot open read-only ({error})") from error
    con.execute("set enable_progress_bar = false")  # long scans would draw one on stderr
    present = _marts(con)
    missing = [f"marts.{mart}" for mart in REQUIRED_MARTS if mart not in present]
    if missing:
        con.close()
        raise ReportError(
            f"{database}: missing table{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            "run `make demo` (or `dbt build`) first"
        )
    return con


def _marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views in schema ``marts``."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    return {row[0] for row in rows}


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dictionaries keyed by column name."""
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _floats(values: Any) -> np.ndarray:
    """A fetched numpy column (masked where NULL) as float64 with NaN for NULL."""
    return np.ma.filled(np.ma.asarray(values).astype(np.float64), np.nan)


def _latest_run(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = _records(
        con, "select * from marts.segmentation_runs order by run_started_at desc limit 1"
    )
    if not rows:
        raise ReportError("marts.segmentation_runs is empty; run `make demo` (or `dbt build`)")
    return rows[0]


def features_from_rows(rows: Sequence[dict[str, Any]]) -> ReportFeatures:
    """The report's view of a feature set from ``feature_definitions`` rows (any order).

    Parameters
    ----------
    rows : sequence of dict
        Rows with at least feature_position, feature_name, feature_kind, source_feature,
        feature_label, feature_transform, is_summable, category_code and feature_set.

    Returns
    -------
    ReportFeatures
        Measures in report order (summable first, then fit position); one-hot columns and
        categoricals in fit order.
    """
    ordered = sorted(rows, key=lambda row: row["feature_position"])
    measures = [
        Measure(
            name=row["feature_name"],
            label=row["feature_label"] or row["feature_name"],
            position=int(row["feature_position"]),
            transform=row["feature_transform"] or "none",
            is_summable=bool(row["is_summable"]),
        )
        for row in ordered
        if row["feature_kind"] == "numeric"
    ]
    measures.sort(key=lambda m: (not m.is_summable, m.position))
    one_hots = [
        OneHot(
            name=row["feature_name"],
            position=int(row["feature_position"]),
            categorical=row["source_feature"],
            code=int(row["category_code"]),
            label=row["feature_label"] or str(row["category_code"]),
        )
        for row in ordered
        if row["feature_kind"] == "one_hot"
    ]
    names = list(dict.fromkeys(one_hot.categorical for one_hot in one_hots))
    categoricals = [
        Categorical(
            name,
            tuple(sorted((h.code, h.label) for h in one_hots if h.categorical == name)),
        )
        for name in names
    ]
    return ReportFeatures(
        set_name=str(ordered[0].get("feature_set") or "") if ordered else "",
        measures=tuple(measures),
        one_hots=tuple(one_hots),
        categoricals=tuple(categoricals),
        codes=tuple(row["feature_label"] for row in ordered if row["feature_kind"] == "code"),
    )


def derived_definitions(
    fit_features: Sequence[dict[str, Any]],
    profile_columns: set[str],
    categories: dict[str, list[tuple[int, str]]],
    set_name: str = "",
) -> list[dict[str, Any]]:
    """feature_definitions-shaped rows rebuilt from other marts, for databases without it.

    Parameters
    ----------
    fit_features : sequence of dict
        One row per fit feature: feature_name, feature_position, feature_kind,
        feature_transform (from segment_centroids).
    profile_columns : set of str
        segment_profiles columns: a measure with ``share_of_<name>`` is summable.
    categories : dict of str to list of (int, str)
        Categorical name -> (code, name) present in customer_segments. The one-hot columns
        ``is_<categorical>_<key>`` of a categorical are replaced by these categories.
    set_name : str
        The feature_set label (segmentation_runs.feature_set).

    Returns
    -------
    list of dict
        Rows for :func:`features_from_rows`; labels are the column names with spaces.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    by_length = sorted(categories, key=len, reverse=True)
    for feature in sorted(fit_features, key=lambda row: row["feature_position"]):
        name, kind = feature["feature_name"], feature["feature_kind"]
        base = {
            "feature_name": name,
            "feature_kind": kind,
            "source_feature": name,
            "feature_label": name.replace("_", " "),
            "feature_transform": feature.get("feature_transform") or "none",
            "is_summable": f"share_of_{name}" in profile_columns,
            "category_code": None,
            "feature_set": set_name,
        }
        if kind != "one_hot":
            rows.append({**base, "feature_position": len(rows) + 1})
            continue
        categorical = next((c for c in by_length if name.startswith(f"is_{c}_")), None)
        if categorical is None or categorical in seen:
            continue
        seen.add(categorical)
        for code, label in categories[categorical]:
            rows.append(
                {
                    **base,
                    "feature_name": f"is_{categorical}_{code}",
                    "feature_position": len(rows) + 1,
                    "source_feature": categorical,
                    "feature_label": label,
                    "is_summable": False,
                    "category_code": code,
                }
            )
    return rows


def _categories_present(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[int, str]]]:
    """Categorical name -> (code, name) of every category present in customer_segments (the
    categoricals are the ``<name>_code`` columns with a ``<name>_name`` beside them)."""
    columns = {row[0] for row in con.execute("describe marts.customer_segments").fetchall()}
    names = [c[: -len("_code")] for c in sorted(columns) if c.endswith("_code")]
    found = {}
    for name in (n for n in names if f"{n}_name" in columns):
        code, label = _ident(f"{name}_code"), _ident(f"{name}_name")
        rows = con.execute(
            f"select {code}, min({label}) from marts.customer_segments "
            f"where {code} is not null group by {code} order by {code}"
        ).fetchall()
        found[name] = [(int(c), str(n)) for c, n in rows]
    return found


def read_features(con: duckdb.DuckDBPyConnection) -> ReportFeatures:
    """The feature set of the build: ``marts.feature_definitions``, or, in a database without
    it, :func:`derived_definitions` from segment_centroids and customer_segments."""
    if "feature_definitions" in _marts(con):
        rows = _records(con, "select * from marts.feature_definitions order by feature_position")
    else:
        fit = _records(
            con,
            "select distinct feature_name, feature_position, feature_kind, feature_transform "
            "from marts.segment_centroids",
        )
        profiles = {row[0] for row in con.execute("describe marts.segment_profiles").fetchall()}
        runs = {row[0] for row in con.execute("describe marts.segmentation_runs").fetchall()}
        set_name = ""
        if "feature_set" in runs:
            set_name = str(_latest_run(con).get("feature_set") or "")
        rows = derived_definitions(fit, profiles, _categories_present(con), set_name)
    if not rows:
        raise ReportError("the feature set is empty (marts.feature_definitions); rebuild")
    return features_from_rows(rows)


def measure_stats(
    con: duckdb.DuckDBPyConnection, measures: Sequence[Measure]
) -> dict[str, MeasureStats]:
    """Mean, min, median, max, skewness and count of every measure over all customers.

    One SQL pass over ``marts.customer_segments``; values are in original units.
    """
    if not measures:
        return {}
    parts = []
    for m in measures:
        column = f"cast({_ident(m.name)} as double)"
        parts += [
            f"avg({column})",
            f"min({column})",
            f"median({column})",
            f"max({column})",
            f"skewness({column})",
            f"count({column})",
        ]
    values = con.execute(f"select {', '.join(parts)} from marts.customer_segments").fetchone()
    stats = {}
    for i, m in enumerate(measures):
        mean, low, median, high, skewness, count = values[6 * i : 6 * i + 6]
        stats[m.name] = MeasureStats(
            mean=float("nan") if mean is None else float(mean),
            minimum=float("nan") if low is None else float(low),
            median=float("nan") if median is None else float(median),
            maximum=float("nan") if high is None else float(high),
            skewness=None if skewness is None else float(skewness),
            count=int(count),
        )
    return stats


def correlation_matrix(
    con: duckdb.DuckDBPyConnection, features: ReportFeatures | None = None
) -> tuple[list[str], np.ndarray]:
    """Pearson correlations of the measures and one-hot columns, computed in one SQL pass.

    The columns are the feature set's measures and its one-hot columns (``<categorical>_code =
    code`` as 0/1), in fit order; ``code`` features (a categorical's code used as a number)
    are left out. DuckDB's ``corr`` aggregates run over the whole of
    ``marts.customer_segments``, so nothing row-level is fetched.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to a database holding ``marts.customer_segments`` and
        ``marts.feature_definitions``.
    features : ReportFeatures, optional
        The feature set (default: read from ``marts.feature_definitions``).

    Returns
    -------
    labels : list of str
        Labels in matrix order: a measure's label, ``<categorical>: <category>`` for one-hots.
    matrix : numpy.ndarray
        Symmetric (p, p) correlations; NaN where a column is constant.
    """
    features = features or read_features(con)
    columns = [
        (m.position, m.label, f"cast({_ident(m.name)} as double)") for m in features.measures
    ]
    for one_hot in features.one_hots:
        label = f"{one_hot.categorical.replace('_', ' ')}: {one_hot.label}"
        code_column = _ident(f"{one_hot.categorical}_code")
        columns.append(
            (one_hot.position, label, f"cast({code_column} = {one_hot.code} as integer)")
        )
    columns.sort(key=lambda column: column[0])
    size = len(columns)
    if size == 0:
        return [], np.empty((0, 0))
    # Each column is computed once in the subquery; corr runs on the off-diagonal pairs only
    # (the diagonal is 1, or undefined for a constant column).
    projected = ", ".join(f"{expression} as f{i}" for i, (_, _, expression) in enumerate(columns))
    pairs = [(i, j) for i in range(size) for j in range(i + 1, size)]
    aggregates = [f"corr(f{i}, f{j})" for i, j in pairs]
    aggregates += [f"max(f{i}) > min(f{i})" for i in range(size)]
    values = con.execute(
        f"select {', '.join(aggregates)} from (select {projected} from marts.customer_segments)"
    ).fetchone()
    matrix = np.full((size, size), np.nan)
    for (i, j), value in zip(pairs, values[: len(pairs)], strict=True):
        matrix[i, j] = matrix[j, i] = np.nan if value is None else float(value)
    for i, varies in enumerate(values[len(pairs) :]):
        matrix[i, i] = 1.0 if varies else np.nan
    return [label for _, label, _ in columns], matrix


def _count_customers(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select count(*) from marts.customer_segments").fetchone()[0])


def _scatter_sample(
    con: duckdb.DuckDBPyConnection, columns: Sequence[str]
) -> tuple[dict[str, np.ndarray], int]:
    """At most SCATTER_MAX_POINTS customers (repeatable reservoir sample) and the total.

    The one place the report samples rows: every scatter draws this sample.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection holding ``marts.customer_segments``.
    columns : sequence of str
        Measure columns to fetch besides customer_id and segment_id.

    Returns
    -------
    sample : dict of str to numpy.ndarray
        customer_id, segment_id and ``columns``, each (n,) float64 (NaN for NULL), ordered by
        customer_id; n = min(total, SCATTER_MAX_POINTS).
    total : int
        Customers in the table.
    """
    total = _count_customers(con)
    selected = ", ".join(["customer_id", "segment_id", *(_ident(c) for c in columns)])
    fetched = con.execute(
        f"""
        select {selected}
        from (
            select {selected}
            from marts.customer_segments
            using sample reservoir({SCATTER_MAX_POINTS} rows) repeatable ({SAMPLE_SEED})
        )
        order by customer_id
        """
    ).fetchnumpy()
    return {name: _floats(values) for name, values in fetched.items()}, total


def fit_scale(mean: float, std: float) -> float:
    """The fit's divisor for a feature: its population std, or 1 when the column is constant
    (the same rule as :class:`customer_segmentation.scaling.FittedScaler`)."""
    return 1.0 if std <= _CONSTANT_TOLERANCE * max(abs(mean), 1.0) else float(std)


def z_scores(values: np.ndarray, mean: float, std: float, transform: str = "none") -> np.ndarray:
    """z-scores as the fit computes them: (t(x) - mean) / scale.

    Parameters
    ----------
    values : numpy.ndarray
        (n,) values in original units.
    mean, std : float
        The fit's mean and population std of the feature, in fit units
        (``marts.segment_centroids.feature_mean`` / ``feature_std``).
    transform : str
        ``log1p`` (t(x) = ln(1 + x)) or ``none`` (t(x) = x).

    Returns
    -------
    numpy.ndarray
        (n,) z-scores (dimensionless).
    """
    fitted = np.log1p(values) if transform == "log1p" else np.asarray(values, dtype=np.float64)
    return (fitted - mean) / fit_scale(mean, std)


def outlier_mask(z: np.ndarray, limit: float = Z_OUTLIER_LIMIT) -> np.ndarray:
    """True for rows with |z| > ``limit`` in any column.

    Parameters
    ----------
    z : numpy.ndarray
        (n, d) z-scores.
    limit : float
        The cut-off in standard deviations (default :data:`Z_OUTLIER_LIMIT`).

    Returns
    -------
    numpy.ndarray
        (n,) booleans; NaN z-scores do not count as outliers.
    """
    return np.any(np.abs(np.nan_to_num(z, nan=0.0)) > limit, axis=1)


def _z_sql(measure: Measure, mean: float, std: float) -> str:
    """SQL for a measure's z-score in customer_segments (the same formula as z_scores)."""
    column = f"cast({_ident(measure.name)} as double)"
    fitted = f"ln(1 + {column})" if measure.transform == "log1p" else column
    return f"(({fitted}) - {mean!r}) / {fit_scale(mean, std)!r}"


def count_outliers(
    con: duckdb.DuckDBPyConnection,
    measures: Sequence[Measure],
    scaler: dict[str, tuple[float, float]],
    limit: float = Z_OUTLIER_LIMIT,
) -> int:
    """Customers (of all, not the sample) with |z| > ``limit`` on any of ``measures``."""
    conditions = " or ".join(
        f"abs({_z_sql(m, *scaler[m.name])}) > {limit!r}" for m in measures if m.name in scaler
    )
    if not conditions:
        return 0
    sql = f"select count(*) filter (where {conditions}) from marts.customer_segments"
    return int(con.execute(sql).fetchone()[0])


def _scaler(centroids: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Feature name -> (mean, std) of the fit, in fit units, from segment_centroids rows."""
    return {
        row["feature_name"]: (float(row["feature_mean"]), float(row["feature_std"]))
        for row in centroids
        if row.get("feature_mean") is not None and row.get("feature_std") is not None
    }


def box_statistics(
    con: duckdb.DuckDBPyConnection, measure: str
) -> dict[int, dict[str, float | int]]:
    """Per segment, Tukey box-plot statistics of one measure, exact, in SQL.

    Quartiles are ``quantile_cont`` (linear interpolation, as numpy's default); the whiskers
    reach the furthest customer within 1.5 IQR of the box, as matplotlib draws them.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection holding ``marts.customer_segments``.
    measure : str
        The measure column.

    Returns
    -------
    dict of int to dict
        segment_id -> q1, med, q3, whislo, whishi (original units), beyond (customers outside
        the whiskers: the fliers, which are not drawn) and count (non-null values).
    """
    column = f"cast({_ident(measure)} as double)"
    rows = _records(
        con,
        f"""
        with quartiles as (
            select segment_id, quantile_cont({column}, [0.25, 0.5, 0.75]) as q
            from marts.customer_segments
            group by segment_id
        ),
        fences as (
            select
                segment_id, q[1] as q1, q[2] as med, q[3] as q3,
                q[1] - 1.5 * (q[3] - q[1]) as low_fence,
                q[3] + 1.5 * (q[3] - q[1]) as high_fence
            from quartiles
        )
        select
            fences.segment_id,
            any_value(fences.q1) as q1,
            any_value(fences.med) as med,
            any_value(fences.q3) as q3,
            min({column}) filter (where {column} >= fences.low_fence) as whislo,
            max({column}) filter (where {column} <= fences.high_fence) as whishi,
            count(*) filter (
                where {column} < fences.low_fence or {column} > fences.high_fence
            ) as beyond,
            count({column}) as count
        from fences
        inner join marts.customer_segments as customers
            on customers.segment_id = fences.segment_id
        group by fences.segment_id
        order by fences.segment_id
        """,
    )
    return {int(row.pop("segment_id")): row for row in rows}


# --------------------------------------------------------------------------------------------
# Drawing helpers


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes (Agg canvas, no pyplot), then its artists are released."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # No "Software" text chunk: it would carry matplotlib's URL into the file.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    figure.clear()
    return buffer.getvalue()


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def _segment_colours(segment_ids: Sequence[int]) -> dict[int, Any]:
    """One stable colour per segment id (tab10 up to ten segments, tab20 beyond)."""
    ordered = sorted(segment_ids)
    cmap = matplotlib.colormaps["tab10" if len(ordered) <= 10 else "tab20"]
    return {sid: cmap(position % cmap.N) for position, sid in enumerate(ordered)}


def _segment_label(row: dict[str, Any], width: int | None = None) -> str:
    """``<id> · <name>``, wrapped to ``width`` characters when given."""
    label = f"{row['segment_id']} · {row['segment_name']}"
    return _wrap(label, width) if width else label


def _tick(value: float, _position: Any = None) -> str:
    """Axis tick text: thousands separators from 100 up, shortest form below."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def number_template(typical: float) -> str:
    """A format for values of a measure whose typical size is ``typical`` (e.g. its mean):
    no decimals from 1,000 up, two from 1, three significant digits below."""
    size = abs(typical) if math.isfinite(typical) else 0.0
    if size >= 1_000:
        return "{:,.0f}"
    if size >= 1 or size == 0:
        return "{:,.2f}"
    return "{:,.3g}"


def axis_scale(stats: MeasureStats) -> AxisScale:
    """How to draw a measure's axis (original units).

    Symlog when the measure is non-negative and its skewness exceeds
    :data:`SYMLOG_SKEWNESS` (e.g. minutes watched); linthresh is 1, or the power of ten below
    the median when the median is under 1. The axis starts just below 0 when the measure
    reaches into the linear part (values ≤ linthresh, e.g. zeros). Otherwise linear.
    """
    skewed = stats.skewness is not None and stats.skewness > SYMLOG_SKEWNESS
    if not skewed or not stats.minimum >= 0:
        return AxisScale()
    linthresh = 1.0
    if 0 < stats.median < 1:
        linthresh = float(10 ** math.floor(math.log10(stats.median)))
    return AxisScale("symlog", linthresh, stats.minimum <= linthresh)


def _scale_axis(ax: Any, which: str, scale: AxisScale, ticks: int | None = None) -> None:
    """Apply an :class:`AxisScale` to the x or y axis of ``ax``; ``ticks`` caps the number of
    major ticks on a linear axis (small panels)."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    if scale.kind == "symlog":
        (ax.set_xscale if which == "x" else ax.set_yscale)(
            "symlog", linthresh=scale.linthresh, linscale=0.4
        )
        if scale.from_zero:
            (ax.set_xlim if which == "x" else ax.set_ylim)(-0.6 * scale.linthresh, None)
    elif ticks:
        axis.set_major_locator(MaxNLocator(ticks))
    axis.set_major_formatter(FuncFormatter(_tick))


def _axis_label(measure: Measure, scale: AxisScale) -> str:
    return f"{measure.label} (symlog scale)" if scale.kind == "symlog" else measure.label


def _mean_of(label: str) -> str:
    """'mean <label>', without doubling a label that already starts with 'mean'."""
    return label if label.lower().startswith("mean ") else f"mean {label}"


def _upper_first(text: str) -> str:
    """``text`` with its first letter upper case (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def _column(rows: list[dict[str, Any]], name: str) -> np.ndarray:
    """``row[name]`` of every row as float64, NaN where missing or NULL."""
    return np.array([np.nan if row.get(name) is None else float(row[name]) for row in rows])


def _sample_note(count: int, total: int) -> str:
    """How many customers a scatter draws, e.g. 'sample of 1,000 of 5,000 customers (…)'."""
    if count < total:
        return (
            f"sample of {count:,} of {total:,} customers "
            f"(repeatable reservoir sample, seed {SAMPLE_SEED})"
        )
    return (
        f"sample of {count:,} of {total:,} customers (all of them; above "
        f"{SCATTER_MAX_POINTS:,} a repeatable reservoir sample is drawn)"
    )


def _and(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _panel_grid(count: int, profiles: list[dict[str, Any]]) -> tuple[Figure, list[Any], list[str]]:
    """A figure of ``count`` panels sharing a segment y axis, PANELS_PER_ROW to a row.

    Returns the figure, the used axes in reading order (unused grid cells are hidden) and the
    wrapped segment labels; y positions are 0..k-1 in profile order, top to bottom.
    """
    names = [_segment_label(row, 34) for row in profiles]
    lines = max((name.count("\n") + 1 for name in names), default=1)
    columns = min(count, PANELS_PER_ROW)
    rows = math.ceil(count / columns)
    row_height = max(2.6, 0.34 * lines * len(profiles) + 1.0)
    width = min(12.5, 4.6 + 3.4 * columns)
    figure = Figure(figsize=(width, row_height * rows + 0.6), layout="constrained")
    grid = np.atleast_2d(figure.subplots(rows, columns, sharey=True, squeeze=False))
    axes = list(grid.ravel())
    for ax in axes[count:]:
        ax.set_axis_off()
    y = np.arange(len(profiles))
    for row in grid:
        row[0].set_yticks(y, names, fontsize=8.5)
    axes[0].set_ylim(len(profiles) - 0.5, -0.5)  # first segment on top (shared by all)
    return figure, axes[:count], names


def _segment_legend(
    figure: Figure, profiles: list[dict[str, Any]], colours: dict[int, Any], centroids: bool
) -> None:
    """Legend below the plot: one dot per segment (id · name · customers), plus the centroid
    marker when ``centroids``."""
    handles: list[Line2D] = [
        Line2D([], [], marker="o", linestyle="none", color=colours[row["segment_id"]], ms=7)
        for row in profiles
    ]
    labels = [f"{_segment_label(row)} ({row['count_customers']:,} customers)" for row in profiles]
    if centroids:
        handles.append(
            Line2D(
                [], [], marker="X", linestyle="none", color="white", markeredgecolor="black", ms=10
            )
        )
        labels.append("segment centroid (k-means)")
    longest = max((len(label) for label in labels), default=0)
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=1 if longest > 62 else 2,
        fontsize=8.5,
        handletextpad=0.3,
    )


# --------------------------------------------------------------------------------------------
# Charts


def _chart_correlation(labels: list[str], matrix: np.ndarray, features: ReportFeatures) -> _Chart:
    size = len(labels)
    side = float(np.clip(2.6 + 0.6 * size, 5.5, 10.0))
    figure = Figure(figsize=(side + 1.2, side * 0.84), layout="constrained")
    ax = figure.add_subplot()
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#e0e0e0")
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, vmin=-1, vmax=1)
    ax.set_xticks(range(size), labels, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(size), labels)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    font = 8 if size <= 16 else 6
    for i in range(size):
        for j in range(size):
            value = matrix[i, j]
            text = "–" if np.isnan(value) else f"{value:.2f}".replace("-0.00", "0.00")
            colour = "white" if abs(np.nan_to_num(value)) > 0.6 else "#222222"
            ax.text(j, i, text, ha="center", va="center", fontsize=font, color=colour)
    figure.colorbar(image, ax=ax, shrink=0.75, label="Pearson correlation")
    ax.set_title("Correlation of the segmentation features")
    in_fit_order = sorted(features.measures, key=lambda m: m.position)
    plural = "s" if len(in_fit_order) > 1 else ""
    parts = [f"the measure{plural} ({_and([m.label for m in in_fit_order])})"]
    if features.categoricals:
        names = _and([c.label for c in features.categoricals])
        parts.append(f"one 0/1 column per category of {names}")
    caption = (
        f"Pearson correlations of {' and '.join(parts)}, in fit order, computed in SQL "
        "(DuckDB corr) over every customer."
    )
    if features.categoricals:
        caption += (
            " One-hot columns of the same variable are negatively correlated by construction."
        )
    if features.codes:
        caption += f" Left out: {_and(features.codes)} (a category's code used as a number)."
    constant = [labels[i] for i in range(size) if np.isnan(matrix[i, i])]
    if constant:
        caption += f" Constant (grey, undefined): {', '.join(constant)}."
    return _Chart("chart-correlation", "Feature correlations", caption, _png(figure))


def _chart_scatter(
    sample: dict[str, np.ndarray],
    total: int,
    x: Measure,
    y: Measure,
    scales: dict[str, AxisScale],
) -> _Chart:
    count = len(sample["customer_id"])
    figure = Figure(figsize=(10, 5.6), layout="constrained")
    ax = figure.add_subplot()
    ax.scatter(
        sample[x.name],
        sample[y.name],
        s=7,
        alpha=0.45 if count <= 5_000 else 0.25,
        color="#2b6cb0",
        linewidths=0,
        rasterized=True,
    )
    for which, measure in (("x", x), ("y", y)):
        _scale_axis(ax, which, scales[measure.name])
    ax.set_xlabel(_axis_label(x, scales[x.name]))
    ax.set_ylabel(_axis_label(y, scales[y.name]))
    ax.set_title(f"{_upper_first(x.label)} vs {y.label}")
    caption = (
        f"Each dot is a customer: {y.label} (y, the first measure in report order) against "
        f"{x.label} (x, the second), in original units"
    )
    symlog = [m.label for m in (x, y) if scales[m.name].kind == "symlog"]
    if symlog:
        caption += (
            f"; {_and(symlog)} {'is' if len(symlog) == 1 else 'are'} strongly skewed "
            f"(skewness > {SYMLOG_SKEWNESS:g}), so drawn on a symlog axis (linear near 0, "
            "logarithmic above)"
        )
    caption += f"; {_sample_note(count, total)}."
    return _Chart("chart-scatter", f"{x.label} vs {y.label}", caption, _png(figure))


def _chart_segments(
    sample: dict[str, np.ndarray],
    total: int,
    profiles: list[dict[str, Any]],
    centroids: list[dict[str, Any]],
    x: Measure,
    y: Measure,
    scales: dict[str, AxisScale],
) -> _Chart:
    """The segment scatter of y (first measure in report order) against x (the second), in
    original units, with the k-means centroids (``centroid_original``)."""
    count = len(sample["customer_id"])
    colours = _segment_colours([row["segment_id"] for row in profiles])
    figure = Figure(figsize=(10, 6.2 + 0.22 * len(profiles)), layout="constrained")
    ax = figure.add_subplot()
    for row in profiles:
        chosen = sample["segment_id"] == row["segment_id"]
        ax.scatter(
            sample[x.name][chosen],
            sample[y.name][chosen],
            s=7,
            alpha=0.55 if count <= 5_000 else 0.35,
            color=colours[row["segment_id"]],
            linewidths=0,
            rasterized=True,
        )
    centre = _centroid_pairs(centroids, x.name, y.name, "centroid_original")
    for sid, (cx, cy) in centre.items():
        if sid in colours:
            # A log1p measure's centroid can sit a hair below 0 after expm1; clamp to the axis.
            if scales[x.name].kind == "symlog":
                cx = max(cx, 0.0)
            if scales[y.name].kind == "symlog":
                cy = max(cy, 0.0)
            _centroid_marker(ax, cx, cy, colours[sid])
    for which, measure in (("x", x), ("y", y)):
        _scale_axis(ax, which, scales[measure.name])
    ax.set_xlabel(_axis_label(x, scales[x.name]))
    ax.set_ylabel(_axis_label(y, scales[y.name]))
    ax.set_title(f"Segments: {x.label} vs {y.label}")
    _segment_legend(figure, profiles, colours, bool(centre))
    caption = (
        f"The scatter above coloured by k-means segment (legend: id · name · customers), in "
        f"original units; crosses are the segment centroids; {_sample_note(count, total)}."
    )
    return _Chart("chart-segments", "Segments (original units)", caption, _png(figure))


def _centroid_pairs(
    centroids: list[dict[str, Any]], x: str, y: str, column: str
) -> dict[int, tuple[float, float]]:
    """segment_id -> (x, y) centroid from segment_centroids rows (``column`` values)."""
    found: dict[int, dict[str, float]] = {}
    for row in centroids:
        if row["feature_name"] in (x, y) and row.get(column) is not None:
            found.setdefault(row["segment_id"], {})[row["feature_name"]] = float(row[column])
    return {sid: (v[x], v[y]) for sid, v in found.items() if x in v and y in v}


def _centroid_marker(ax: Any, x: float, y: float, colour: Any) -> None:
    ax.scatter(x, y, marker="X", s=150, color=colour, edgecolors="black", linewidths=1.2, zorder=5)


def _chart_segments_z(
    sample: dict[str, np.ndarray],
    total: int,
    profiles: list[dict[str, Any]],
    centroids: list[dict[str, Any]],
    x: Measure,
    y: Measure,
    all_outliers: int,
) -> _Chart:
    """The segment scatter in z units (the space k-means works in) without outliers.

    z = (t(value) - mean) / std with the fit's mean and population std (t = ln(1 + x) for a
    log1p feature, else the identity). Outlier rule: a customer with |z| > Z_OUTLIER_LIMIT
    (3) on either plotted axis is dropped; the caption gives how many of the sample were
    dropped and how many of all customers the rule matches (``all_outliers``).
    """
    scaler = _scaler(centroids)
    z = np.column_stack([z_scores(sample[m.name], *scaler[m.name], m.transform) for m in (x, y)])
    dropped = outlier_mask(z)
    count = len(z)
    kept = ~dropped
    colours = _segment_colours([row["segment_id"] for row in profiles])
    figure = Figure(figsize=(10, 6.2 + 0.22 * len(profiles)), layout="constrained")
    ax = figure.add_subplot()
    ax.axhline(0, color="#cbd5e0", linewidth=0.8, zorder=0)
    ax.axvline(0, color="#cbd5e0", linewidth=0.8, zorder=0)
    for row in profiles:
        chosen = kept & (sample["segment_id"] == row["segment_id"])
        ax.scatter(
            z[chosen, 0],
            z[chosen, 1],
            s=7,
            alpha=0.55 if count <= 5_000 else 0.35,
            color=colours[row["segment_id"]],
            linewidths=0,
            rasterized=True,
        )
    centre = _centroid_pairs(centroids, x.name, y.name, "centroid_z")
    for sid, (cx, cy) in centre.items():
        if sid in colours:
            _centroid_marker(ax, cx, cy, colours[sid])
    ax.set_xlabel(f"{x.label} (z)" + (", log1p" if x.transform == "log1p" else ""))
    ax.set_ylabel(f"{y.label} (z)" + (", log1p" if y.transform == "log1p" else ""))
    ax.set_title(f"Segments in z units: {x.label} vs {y.label} (|z| ≤ {Z_OUTLIER_LIMIT:g})")
    _segment_legend(figure, profiles, colours, bool(centre))
    share = dropped.sum() / count if count else 0.0
    caption = (
        "The segment scatter in z units, the standardised space k-means works in: z = (x − "
        "mean) / std with the fit's mean and population std (after ln(1 + x) for log1p "
        f"features); crosses are the centroids (centroid_z). Outlier rule: customers with "
        f"|z| > {Z_OUTLIER_LIMIT:g} on either axis are dropped: {int(dropped.sum()):,} of the "
        f"{count:,} sampled customers ({share:.1%})"
    )
    if count < total:
        caption += f"; {all_outliers:,} of all {total:,} customers match the rule"
    caption += f"; {_sample_note(count, total)}."
    return _Chart("chart-segments-z", "Segments (z units)", caption, _png(figure))


def _chart_profiles(
    profiles: list[dict[str, Any]],
    measures: Sequence[Measure],
    stats: dict[str, MeasureStats],
) -> _Chart:
    """Side-by-side horizontal bars: one panel per measure (mean per segment, black tick at
    the median, dashed line at the mean over all customers) and one of segment sizes."""
    shown = list(measures[:MAX_MEASURE_PANELS])
    colours = _segment_colours([row["segment_id"] for row in profiles])
    figure, axes, _ = _panel_grid(len(shown) + 1, profiles)
    y = np.arange(len(profiles))
    bar_colours = [colours[row["segment_id"]] for row in profiles]
    for ax, measure in zip(axes, shown, strict=False):
        means = _column(profiles, f"avg_{measure.name}")
        medians = _column(profiles, f"median_{measure.name}")
        overall = stats[measure.name].mean
        template = number_template(overall)
        ax.barh(y, np.nan_to_num(means), color=bar_colours, height=0.7)
        ax.scatter(medians, y, marker="|", s=160, color="black", linewidths=1.6, zorder=4)
        ax.axvline(overall, color=_REFERENCE, linestyle="--", linewidth=1, zorder=3)
        right = np.fmax(means, medians)
        for position, value in enumerate(means):
            if np.isfinite(value):
                text = f"  {template.format(value)}"
                ax.text(np.nan_to_num(right[position]), position, text, va="center", fontsize=8)
        _bar_limits(ax, np.concatenate([means, medians, [overall]]))
        _scale_axis(ax, "x", AxisScale(), ticks=5)
        ax.set_title(_wrap(_mean_of(measure.label), 40), fontsize=10)
        ax.tick_params(axis="y", length=0)
    ax = axes[len(shown)]
    counts = np.array([float(row["count_customers"] or 0) for row in profiles])
    ax.barh(y, counts, color=bar_colours, height=0.7)
    for position, row in enumerate(profiles):
        text = f"  {row['count_customers']:,} ({row['share_of_customers']:.1%})"
        ax.text(counts[position], position, text, va="center", fontsize=8)
    _bar_limits(ax, counts)
    _scale_axis(ax, "x", AxisScale(), ticks=5)
    ax.set_title("customers", fontsize=10)
    ax.tick_params(axis="y", length=0)
    figure.suptitle("Segment profiles: mean of each measure", fontweight="bold", fontsize=11)
    figure.legend(
        handles=[
            Line2D([], [], marker="|", linestyle="none", color="black", ms=10, mew=1.6),
            Line2D([], [], color=_REFERENCE, linestyle="--", linewidth=1),
        ],
        labels=["median of the segment", "mean over all customers"],
        loc="outside lower center",
        ncol=2,
        fontsize=8.5,
    )
    caption = (
        "Per segment (marts.segment_profiles), one panel per measure in report order "
        f"({_and([m.label for m in shown])}): the bar is the segment's mean, the black tick "
        "its median and the dashed line the mean over all customers; the last panel is the "
        "number of customers with their share."
    )
    if len(measures) > len(shown):
        caption += f" {len(measures) - len(shown)} further measures are in the table below."
    return _Chart("chart-profiles", "Segment profiles", caption, _png(figure))


def _bar_limits(ax: Any, values: np.ndarray) -> None:
    """x limits from 0 (or the most negative value) to the largest value plus label room."""
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 1.0
    low = float(finite.min()) if finite.size else 0.0
    right = high * 1.35 if high > 0 else 1.0
    left = min(0.0, low * 1.15)
    ax.set_xlim(left, right if right > left else left + 1.0)


def _chart_boxplots(
    boxes: dict[str, dict[int, dict[str, Any]]],
    profiles: list[dict[str, Any]],
    measures: Sequence[Measure],
    scales: dict[str, AxisScale],
) -> _Chart:
    """One small panel per measure: a horizontal Tukey box per segment (segments on the y
    axis), whiskers at the furthest customer within 1.5 IQR; fliers are not drawn, each
    panel's title gives the share of customers beyond the whiskers."""
    shown = list(measures[:MAX_MEASURE_PANELS])
    colours = _segment_colours([row["segment_id"] for row in profiles])
    figure, axes, _ = _panel_grid(len(shown), profiles)
    for ax, measure in zip(axes, shown, strict=True):
        per_segment = boxes[measure.name]
        stats, positions, faces = [], [], []
        for position, row in enumerate(profiles):
            box = per_segment.get(row["segment_id"])
            if box is None or box["med"] is None or box["whislo"] is None:
                continue
            stats.append({key: box[key] for key in ("q1", "med", "q3", "whislo", "whishi")})
            positions.append(position)
            faces.append(colours[row["segment_id"]])
        if stats:
            artists = ax.bxp(
                stats,
                positions=positions,
                orientation="horizontal",
                widths=0.6,
                showfliers=False,
                patch_artist=True,
                manage_ticks=False,
                medianprops={"color": "black", "linewidth": 1.4},
                whiskerprops={"color": "#4a5568"},
                capprops={"color": "#4a5568"},
            )
            for patch, face in zip(artists["boxes"], faces, strict=True):
                patch.set_facecolor(face)
                patch.set_alpha(0.85)
        beyond = sum(int(box["beyond"]) for box in per_segment.values())
        counted = sum(int(box["count"]) for box in per_segment.values())
        share = beyond / counted if counted else 0.0
        _scale_axis(ax, "x", scales[measure.name], ticks=6)
        title = _wrap(measure.label, 40) + f"\n{share:.1%} of customers beyond the whiskers"
        ax.set_title(title, fontsize=9.5)
        if scales[measure.name].kind == "symlog":
            ax.set_xlabel("symlog scale", fontsize=8)
        ax.tick_params(axis="y", length=0)
    figure.suptitle("Distribution of each measure by segment", fontweight="bold", fontsize=11)
    caption = (
        "Box plots per segment over every customer, one panel per measure in report order "
        f"({_and([m.label for m in shown])}), original units: the box spans the quartiles, "
        "the black line is the median and the whiskers reach the furthest customer within "
        "1.5 × IQR of the box. Fliers (customers beyond the whiskers) are not drawn; each "
        "panel title gives their share. Quartiles are exact (DuckDB quantile_cont)."
    )
    symlog = [m.label for m in shown if scales[m.name].kind == "symlog"]
    if symlog:
        caption += f" Symlog axis (skewness > {SYMLOG_SKEWNESS:g}): {_and(symlog)}."
    if len(measures) > len(shown):
        caption += f" {len(measures) - len(shown)} further measures are not drawn."
    return _Chart("chart-boxplots", "Measures by segment (box plots)", caption, _png(figure))


def _cut_height(merges: np.ndarray, k: int) -> float | None:
    """Height between the (n-k)th and (n-k+1)th merges: cutting there leaves k clusters."""
    leaves = merges.shape[0] + 1
    if k < 2 or k > leaves:
        return None
    heights = merges[:, 2]
    below = heights[leaves - k - 1] if leaves - k >= 1 else 0.0
    above = heights[leaves - k]
    return float((below + above) / 2)


def _link_colours(merges: np.ndarray, cut: float | None) -> dict[int, str]:
    """Colour of every merged node: one per cluster below ``cut``, grey above it."""
    leaves = merges.shape[0] + 1
    parents: dict[int, int] = {}
    for step, (left, right) in enumerate(merges[:, :2].astype(np.int64)):
        parents[int(left)] = parents[int(right)] = leaves + step
    palette = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["Dark2"].colors]
    colours: dict[int, str] = {}
    clusters = 0
    for step in range(merges.shape[0] - 1, -1, -1):
        node = leaves + step
        if cut is None or merges[step, 2] > cut:
            colours[node] = _ABOVE_CUT
            continue
        parent = parents.get(node)
        if parent is None or colours[parent] == _ABOVE_CUT:
            colours[node] = palette[clusters % len(palette)]
            clusters += 1
        else:
            colours[node] = colours[parent]
    return colours


def _chart_dendrogram(con: duckdb.DuckDBPyConnection, k: int) -> _Chart:
    from scipy.cluster.hierarchy import dendrogram

    columns = con.execute(
        """
        select left_node_id, right_node_id, height, count_leaves, count_customers, linkage_method
        from marts.segment_dendrogram
        order by merge_step
        """
    ).fetchnumpy()
    method_values = list(columns["linkage_method"])
    method = str(method_values[-1]) if method_values else "unknown"
    figure = Figure(figsize=(10, 5.4), layout="constrained")
    ax = figure.add_subplot()
    title = f"Ward dendrogram (linkage: {method})"
    if not method_values:
        ax.text(0.5, 0.5, "no merges: fewer than two leaves", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title)
        return _Chart("chart-dendrogram", title, "The Ward tree is empty.", _png(figure))
    merges = np.column_stack(
        [
            _floats(columns["left_node_id"]),
            _floats(columns["right_node_id"]),
            _floats(columns["height"]),
            _floats(columns["count_leaves"]),
        ]
    )
    customers = _floats(columns["count_customers"])
    leaves = merges.shape[0] + 1
    exact = int(customers[-1]) == leaves

    def leaf_label(node: int) -> str:
        if node >= leaves:
            return f"({int(customers[node - leaves]):,})"
        return "(1)" if exact else f"leaf {node}"

    cut = _cut_height(merges, k)
    colours = _link_colours(merges, cut)
    dendrogram(
        merges,
        truncate_mode="lastp",
        p=DENDROGRAM_LEAVES,
        link_color_func=lambda node: colours.get(node, _ABOVE_CUT),
        leaf_label_func=leaf_label,
        leaf_rotation=90,
        leaf_font_size=8,
        ax=ax,
    )
    if cut is not None:
        ax.axhline(cut, color="#c53030", linestyle="--", linewidth=1.2)
        ax.text(
            0.995,
            cut,
            f"cut for k = {k} (height {cut:,.2f})",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="bottom",
            color="#c53030",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
            zorder=6,
        )
    ax.set_title(title)
    ax.set_ylabel("Ward merge height (standardised units)")
    ax.set_xlabel(f"last {min(DENDROGRAM_LEAVES, leaves)} branches (customers under each)")
    unit = "customers" if exact else "k-means micro-clusters (two-stage Ward)"
    caption = (
        f"Ward's hierarchical clustering of {int(customers[-1]):,} customers "
        f"({leaves:,} leaves: {unit}), truncated to the last {DENDROGRAM_LEAVES} merges. "
    )
    if cut is not None:
        caption += (
            f"The dashed line cuts the tree into k = {k} clusters (height {cut:,.2f}, between "
            f"merges {leaves - k:,} and {leaves - k + 1:,}); each colour is one Ward cluster (the "
            "ward_cluster column, a cross-check on the k-means segments; colours do not match "
            "the segment colours)."
        )
    return _Chart("chart-dendrogram", "Ward dendrogram", caption, _png(figure))


def _chart_elbow(diagnostics: list[dict[str, Any]], run: dict[str, Any]) -> _Chart:
    ks = np.array([row["k"] for row in diagnostics], dtype=float)
    wcss = np.array([np.nan if row["wcss"] is None else row["wcss"] for row in diagnostics])
    silhouette = np.array(
        [np.nan if row["silhouette"] is None else row["silhouette"] for row in diagnostics]
    )
    chosen = next((row for row in diagnostics if row["is_chosen"]), None)
    chosen_k = int(chosen["k"]) if chosen else int(run["k"])
    reason = (chosen or {}).get("choice_reason") or run.get("choice_reason") or ""

    figure = Figure(figsize=(10, 5.2), layout="constrained")
    ax = figure.add_subplot()
    wcss_colour, silhouette_colour = "#2b6cb0", "#dd6b20"
    ax.plot(ks, wcss, "o-", color=wcss_colour, label="WCSS (within-cluster sum of squares)")
    ax.set_xlabel("number of segments k")
    ax.set_ylabel("WCSS", color=wcss_colour)
    ax.yaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_xticks(ks)
    twin = ax.twinx()
    twin.spines["right"].set_visible(True)
    twin.plot(ks, silhouette, "s--", color=silhouette_colour, label="silhouette")
    twin.set_ylabel("silhouette", color=silhouette_colour)
    handles = [
        Line2D([], [], color=wcss_colour, marker="o", label="WCSS"),
        Line2D([], [], color=silhouette_colour, marker="s", linestyle="--", label="silhouette"),
    ]
    for row_flag, axis, values, marker, label in (
        ("is_elbow", ax, wcss, "o", "elbow"),
        ("is_best_silhouette", twin, silhouette, "*", "best silhouette"),
    ):
        flagged = [i for i, row in enumerate(diagnostics) if row.get(row_flag)]
        if flagged:
            axis.scatter(
                ks[flagged],
                values[flagged],
                s=260 if marker == "*" else 200,
                marker=marker,
                facecolors="none" if marker == "o" else "#f6e05e",
                edgecolors="black",
                zorder=5,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    linestyle="none",
                    markersize=11,
                    markerfacecolor="none" if marker == "o" else "#f6e05e",
                    markeredgecolor="black",
                    label=f"{label} (k = {', '.join(str(int(ks[i])) for i in flagged)})",
                )
            )
    ax.axvline(chosen_k, color="#2f855a", linestyle=":", linewidth=2)
    handles.append(Line2D([], [], color="#2f855a", linestyle=":", linewidth=2, label="chosen k"))
    right_half = len(ks) > 0 and chosen_k > (ks.min() + ks.max()) / 2
    ax.text(
        chosen_k + (-0.12 if right_half else 0.12),
        0.97,
        _wrap(f"chosen k = {chosen_k}: {reason}" if reason else f"chosen k = {chosen_k}", 44),
        transform=ax.get_xaxis_transform(),
        ha="right" if right_half else "left",
        va="top",
        fontsize=9,
        color="#22543d",
        bbox={"facecolor": "white", "edgecolor": "#9ae6b4", "boxstyle": "round,pad=0.4"},
        zorder=6,
    )
    for axis in (ax, twin):
        low, high = axis.get_ylim()
        axis.set_ylim(low, high + 0.28 * (high - low))
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5)
    ax.set_title("Choosing k: WCSS (elbow) and silhouette")
    caption = (
        f"k-means WCSS and silhouette for k = {int(ks.min()) if len(ks) else '?'}.."
        f"{int(ks.max()) if len(ks) else '?'} (marts.segment_k_diagnostics). "
        f"k rule: {run.get('k_rule')}; chosen k = {chosen_k}" + (f" ({reason})." if reason else ".")
    )
    return _Chart("chart-elbow", "Choosing k", caption, _png(figure))


@dataclass(frozen=True)
class CategoryGrid:
    """Cells of customer_value_summary for two categoricals: ``rows`` (the one with fewer
    categories, drawn as bar colours) by ``columns`` (drawn along the x axis).

    ``cells`` maps (row code | None, column code | None) to the summary row, None meaning
    all categories; ``rows_feature`` is None when the feature set has one categorical.
    """

    rows_feature: Categorical | None
    columns_feature: Categorical
    rows: list[tuple[int, str]]
    columns: list[tuple[int, str]]
    cells: dict[tuple[Any, Any], dict[str, Any]]


def category_pair(features: ReportFeatures) -> tuple[Categorical | None, Categorical] | None:
    """The first two categoricals as (rows, columns): the one with fewer categories as rows
    (ties: fit order); (None, it) with a single categorical; None without categoricals."""
    first_two = list(features.categoricals[:2])
    if not first_two:
        return None
    if len(first_two) == 1:
        return None, first_two[0]
    a, b = first_two
    return (a, b) if len(a.categories) <= len(b.categories) else (b, a)


def category_grid(
    summary: list[dict[str, Any]], rows_feature: Categorical | None, columns_feature: Categorical
) -> CategoryGrid:
    """The (rows × columns) cells of marts.customer_value_summary, with the margins.

    Grouping levels used: ``overall``, ``<rows>``, ``<columns>`` and the pair level (named
    ``<a>_<b>`` in declared order, either way round is accepted). Categories are the ones
    present in the summary, in code order.
    """
    b = columns_feature.name
    a = rows_feature.name if rows_feature else None
    pair_levels = {f"{a}_{b}", f"{b}_{a}"} if a else set()
    cells: dict[tuple[Any, Any], dict[str, Any]] = {}
    rows: dict[int, str] = {}
    columns: dict[int, str] = {}
    for row in summary:
        level = row["grouping_level"]
        if level in pair_levels:
            rows[row[f"{a}_code"]] = row[f"{a}_name"]
            columns[row[f"{b}_code"]] = row[f"{b}_name"]
            cells[(row[f"{a}_code"], row[f"{b}_code"])] = row
        elif a and level == a:
            rows[row[f"{a}_code"]] = row[f"{a}_name"]
            cells[(row[f"{a}_code"], None)] = row
        elif level == b:
            columns[row[f"{b}_code"]] = row[f"{b}_name"]
            cells[(None, row[f"{b}_code"])] = row
        elif level == "overall":
            cells[(None, None)] = row
    return CategoryGrid(
        rows_feature, columns_feature, sorted(rows.items()), sorted(columns.items()), cells
    )


def _chart_categories(grid: CategoryGrid, measure: Measure) -> _Chart:
    """Mean of ``measure`` per column category, one bar per row category, with the overall
    mean as a dashed line."""
    column = f"avg_{measure.name}"
    hues: list[tuple[Any, str]] = grid.rows if grid.rows_feature else [(None, "all customers")]
    figure = Figure(figsize=(10, 5.6), layout="constrained")
    ax = figure.add_subplot()
    cmap = matplotlib.colormaps[_CATEGORY_COLOURS]
    width = 0.8 / max(len(hues), 1)
    x = np.arange(len(grid.columns))
    for position, (row_code, row_name) in enumerate(hues):
        values = [grid.cells.get((row_code, code), {}).get(column) for code, _ in grid.columns]
        ax.bar(
            x - 0.4 + width * (position + 0.5),
            [np.nan if value is None else value for value in values],
            width=width * 0.95,
            color=cmap(position % cmap.N) if grid.rows_feature else "#2b6cb0",
            label=row_name if grid.rows_feature else "_nolegend_",
        )
    overall = grid.cells.get((None, None), {}).get(column)
    template = number_template(overall if overall is not None else 0.0)
    if overall is not None:
        ax.axhline(
            overall,
            color=_REFERENCE,
            linestyle="--",
            linewidth=1,
            label=f"all customers ({template.format(overall)})",
        )
    b = grid.columns_feature.label
    ax.set_xticks(x, [_wrap(name, 16) for _, name in grid.columns])
    ax.set_ylabel(_mean_of(measure.label))
    ax.yaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_xlabel(b)
    if grid.rows_feature:
        a = grid.rows_feature.label
        title = f"{_upper_first(_mean_of(measure.label))} by {b} and {a}"
    else:
        title = f"{_upper_first(_mean_of(measure.label))} by {b}"
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if grid.rows_feature:
        labels = [_wrap(label, 40) for label in labels]
        figure.legend(
            handles, labels, loc="outside lower center", ncol=min(len(hues) + 1, 4), fontsize=8.5
        )
    else:
        ax.legend(handles, labels, loc="upper right", fontsize=8.5)
    caption = (
        f"{_upper_first(_mean_of(measure.label))} per customer for every {b}"
        + (f", one bar per {grid.rows_feature.label}" if grid.rows_feature else "")
        + " (marts.customer_value_summary); the dashed line is the mean over all customers. "
        "Counts are in the table below."
    )
    return _Chart("chart-categories", title, caption, _png(figure))


def residual_matrix(
    cells: list[dict[str, Any]], row_order: Sequence[str], col_order: Sequence[str]
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Adjusted residuals of one contingency table as a matrix.

    Parameters
    ----------
    cells : list of dict
        category_association_cells rows of one (row_feature, col_feature) pair.
    row_order, col_order : sequence of str
        Preferred category order (names); names not listed follow, alphabetically.

    Returns
    -------
    rows, columns : list of str
        Category names in matrix order.
    residuals : numpy.ndarray
        (r, c) adjusted residuals (standard-normal units); NaN for a missing cell.
    low_expected : numpy.ndarray
        (r, c) booleans: the cell's expected count is below 5.
    """

    def ordered(names: set[str], preferred: Sequence[str]) -> list[str]:
        first = [name for name in preferred if name in names]
        return first + sorted(names - set(first))

    rows = ordered({str(cell["row_value"]) for cell in cells}, row_order)
    columns = ordered({str(cell["col_value"]) for cell in cells}, col_order)
    residuals = np.full((len(rows), len(columns)), np.nan)
    low = np.zeros((len(rows), len(columns)), dtype=bool)
    for cell in cells:
        i, j = rows.index(str(cell["row_value"])), columns.index(str(cell["col_value"]))
        value = cell["adjusted_residual"]
        residuals[i, j] = np.nan if value is None else float(value)
        low[i, j] = bool(cell["is_low_expected"])
    return rows, columns, residuals, low


def _chart_residuals(
    cells: list[dict[str, Any]], test: dict[str, Any], features: ReportFeatures
) -> _Chart:
    """Heatmap of the adjusted residuals of one chi-square test; cells beyond ±RESIDUAL_MARK
    are outlined, cells with an expected count below 5 hatched."""

    def order(name: str) -> list[str]:
        categorical = features.categorical(name)
        return [label for _, label in categorical.categories] if categorical else []

    row_feature, col_feature = test["row_feature"], test["col_feature"]
    rows, columns, residuals, low = residual_matrix(cells, order(row_feature), order(col_feature))
    if len(rows) > len(columns):  # the longer side along x
        rows, columns = columns, rows
        residuals, low = residuals.T, low.T
        row_feature, col_feature = col_feature, row_feature
    finite = residuals[np.isfinite(residuals)]
    limit = max(3.0, float(np.ceil(np.abs(finite).max()))) if finite.size else 3.0
    width = float(np.clip(3.2 + 1.0 * len(columns), 6.5, 11.5))
    height = float(np.clip(1.8 + 0.62 * len(rows), 3.2, 9.0))
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.add_subplot()
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#e0e0e0")
    image = ax.imshow(
        np.ma.masked_invalid(residuals), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto"
    )
    ax.set_xticks(range(len(columns)), [_wrap(name, 14) for name in columns], fontsize=8.5)
    ax.set_yticks(range(len(rows)), [_wrap(name, 22) for name in rows], fontsize=8.5)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for i in range(len(rows)):
        for j in range(len(columns)):
            value = residuals[i, j]
            beyond = bool(np.isfinite(value) and abs(value) > RESIDUAL_MARK)
            text = "–" if not np.isfinite(value) else f"{value:+.1f}".replace("-0.0", "0.0")
            colour = "white" if abs(np.nan_to_num(value)) > 0.6 * limit else "#222222"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8.5,
                color=colour,
                fontweight="bold" if beyond else "normal",
            )
            if beyond:
                ax.add_patch(
                    Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, lw=1.8, ec="black")
                )
            if low[i, j]:
                ax.add_patch(
                    Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", lw=0, ec="#718096")
                )
    figure.colorbar(image, ax=ax, shrink=0.85, label="adjusted residual")
    row_label, col_label = row_feature.replace("_", " "), col_feature.replace("_", " ")
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    title = f"Adjusted residuals: {row_label} × {col_label}"
    ax.set_title(title)
    marked = int(np.sum(np.abs(np.nan_to_num(residuals)) > RESIDUAL_MARK))
    caption = (
        f"Adjusted (standardised) residuals of the {row_label} × {col_label} contingency table "
        "(marts.category_association_cells): (observed − expected) / standard error, about "
        "standard normal under independence. Red: more customers than independence predicts, "
        f"blue: fewer. {marked} of {residuals.size} cells lie beyond ±{RESIDUAL_MARK:g} "
        f"(outlined, bold). χ² = {_number(test.get('statistic'), '{:,.1f}')}, "
        f"dof = {_e(test.get('dof'))}, p = {_p_value(test.get('p_value'))}, Cramér's V = "
        f"{_number(test.get('cramers_v'), '{:.3f}')}."
    )
    if low.any():
        caption += f" Hatched: {int(low.sum())} cells with an expected count below 5."
    return _Chart("chart-residuals", title, caption, _png(figure))


# --------------------------------------------------------------------------------------------
# HTML


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _number(value: Any, template: str) -> str:
    return "–" if value is None else template.format(value)


def _p_value(value: Any) -> str:
    """A p-value: three decimals, scientific below 0.001, '< 1e-300' when it underflows."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0:
        return "< 1e-300"
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"


def _value(value: Any) -> str:
    """A segmentation_runs value for the key/value table."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1_000 else f"{value:.4f}"
    return str(value)


def _table(table_id: str, head: Sequence[str], body: Sequence[str]) -> str:
    """``<table id=…>`` with one header row (cells given as HTML) and body rows."""
    return (
        f'<table id="{table_id}"><thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _table_profiles(
    profiles: list[dict[str, Any]], features: ReportFeatures, stats: dict[str, MeasureStats]
) -> str:
    """One row per segment: size, each measure's mean (median below; share of the total for
    summable measures), the dominant category of each categorical, the recommended action."""
    colours = _segment_colours([row["segment_id"] for row in profiles])
    head = ["<th>id</th>", "<th>segment</th>", "<th class=num>customers</th>"]
    for m in features.measures:
        head.append(f"<th class=num>{_e(m.label)}<br><small>mean / median</small></th>")
        if m.is_summable:
            head.append(f"<th class=num>share of<br>{_e(m.label)}</th>")
    head += [f"<th>dominant {_e(c.label)}</th>" for c in features.categoricals]
    head.append("<th>recommended action</th>")
    body = []
    for row in profiles:
        swatch = matplotlib.colors.to_hex(colours[row["segment_id"]])
        cells = [
            f"<td class=num>{_e(row['segment_id'])}</td>",
            f'<td><span class=swatch style="background:{swatch}"></span>'
            f"{_e(row['segment_name'])}</td>",
            f"<td class=num>{_number(row['count_customers'], '{:,}')}<br>"
            f"<small>{_number(row['share_of_customers'], '{:.1%}')}</small></td>",
        ]
        for m in features.measures:
            template = number_template(stats[m.name].mean)
            cells.append(
                f"<td class=num>{_number(row.get(f'avg_{m.name}'), template)}<br>"
                f"<small>{_number(row.get(f'median_{m.name}'), template)}</small></td>"
            )
            if m.is_summable:
                cells.append(
                    f"<td class=num>{_number(row.get(f'share_of_{m.name}'), '{:.1%}')}</td>"
                )
        for c in features.categoricals:
            share = _number(row.get(f"share_in_dominant_{c.name}"), "{:.0%}")
            cells.append(
                f"<td>{_e(row.get(f'dominant_{c.name}_name'))} <small>({share})</small></td>"
            )
        action = str(row.get("recommended_action") or "–")
        verb, colon, rest = action.partition(":")
        note = _e(row.get("action_reason") or "")
        if row.get("is_action_overridden"):
            note = "overridden" + (f"; {note}" if note else "")
        action_html = f"<b>{_e(verb)}</b>{_e(colon + rest)}" if colon else _e(action)
        cells.append(f"<td class=action>{action_html}<br><small>{note}</small></td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return _table("table-profiles", head, body)


def _table_categories(grid: CategoryGrid, measure: Measure) -> str:
    """Mean of ``measure`` (n = customers) per (row, column) category, with margins."""
    column = f"avg_{measure.name}"
    overall = grid.cells.get((None, None), {}).get(column)
    template = number_template(overall if overall is not None else 0.0)

    def cell(key: tuple[Any, Any], total: bool = False) -> str:
        row = grid.cells.get(key)
        if row is None:
            return "<td class=num>–</td>"
        mean = _number(row.get(column), template)
        count = _number(row["count_customers"], "{:,}")
        css = "num total" if total else "num"
        return f"<td class='{css}'>{mean}<br><small>n = {count}</small></td>"

    b = grid.columns_feature.label
    a = grid.rows_feature.label if grid.rows_feature else None
    head = [f"<th>{_e(a)} \\ {_e(b)}</th>" if a else f"<th>{_e(b)}</th>"]
    head += [f"<th class=num>{_e(name)}</th>" for _, name in grid.columns]
    head.append(f"<th class=num>all {_e(b)}</th>")
    body = []
    for code, name in grid.rows if a else []:
        cells = "".join(cell((code, column_code)) for column_code, _ in grid.columns)
        body.append(f"<tr><th>{_e(name)}</th>{cells}{cell((code, None), True)}</tr>")
    totals = "".join(cell((None, column_code), True) for column_code, _ in grid.columns)
    label = f"all {_e(a)}" if a else "all customers"
    body.append(f"<tr><th>{label}</th>{totals}{cell((None, None), True)}</tr>")
    return _table("table-categories", head, body)


def _effect_order(features: ReportFeatures) -> tuple[dict[str, int], dict[str, int]]:
    """Sort positions: categoricals in fit order, measures in report order."""
    categoricals = {c.name: i for i, c in enumerate(features.categoricals)}
    measures = {m.name: i for i, m in enumerate(features.measures)}
    return categoricals, measures


def _table_effects_kw(effects: list[dict[str, Any]], features: ReportFeatures) -> str:
    """Kruskal-Wallis per categorical × measure: H, dof, p, epsilon², magnitude, the groups
    with the highest and lowest mean rank."""
    categoricals, measures = _effect_order(features)
    ordered = sorted(
        effects,
        key=lambda row: (
            categoricals.get(row["categorical_feature"], len(categoricals)),
            measures.get(row["numeric_feature"], len(measures)),
            str(row["numeric_feature"]),
        ),
    )
    with_reason = any(row.get("reason") for row in ordered)
    head = [
        "<th>categorical</th>",
        "<th>measure</th>",
        "<th class=num>H</th>",
        "<th class=num>dof</th>",
        "<th class=num>p</th>",
        "<th class=num>ε²</th>",
        "<th>magnitude</th>",
        "<th>highest mean rank</th>",
        "<th>lowest mean rank</th>",
        "<th class=num>customers</th>",
    ] + (["<th>note</th>"] if with_reason else [])
    body = []
    for row in ordered:
        categorical = features.categorical(row["categorical_feature"])
        cells = [
            f"<td>{_e(categorical.label if categorical else row['categorical_feature'])}</td>",
            f"<td>{_e(features.measure_label(row['numeric_feature']))}</td>",
            f"<td class=num>{_number(row.get('statistic'), '{:,.1f}')}</td>",
            f"<td class=num>{_e(row.get('dof'))}</td>",
            f"<td class=num>{_p_value(row.get('p_value'))}</td>",
            f"<td class=num>{_number(row.get('effect_size'), '{:.3f}')}</td>",
            f"<td>{_e(row.get('magnitude'))}</td>",
            f"<td>{_e(row.get('highest_mean_rank_group'))}</td>",
            f"<td>{_e(row.get('lowest_mean_rank_group'))}</td>",
            f"<td class=num>{_number(row.get('count_rows'), '{:,}')}</td>",
        ] + ([f"<td>{_e(row.get('reason'))}</td>"] if with_reason else [])
        body.append(f"<tr>{''.join(cells)}</tr>")
    return _table("table-effects-kw", head, body)


def _table_effects_chi(tests: list[dict[str, Any]]) -> str:
    """Chi-square test of independence per pair of categoricals: χ², dof, p, Cramér's V
    (and its bias-corrected value), magnitude, cells with an expected count below 5."""
    with_reason = any(row.get("reason") for row in tests)
    head = [
        "<th>categorical</th>",
        "<th>categorical</th>",
        "<th class=num>χ²</th>",
        "<th class=num>dof</th>",
        "<th class=num>p</th>",
        "<th class=num>Cramér's V<br><small>corrected</small></th>",
        "<th>magnitude</th>",
        "<th class=num>customers</th>",
        "<th class=num>cells with<br>expected &lt; 5</th>",
    ] + (["<th>note</th>"] if with_reason else [])
    body = []
    for row in tests:
        cells = [
            f"<td>{_e(str(row['row_feature']).replace('_', ' '))}</td>",
            f"<td>{_e(str(row['col_feature']).replace('_', ' '))}</td>",
            f"<td class=num>{_number(row.get('statistic'), '{:,.1f}')}</td>",
            f"<td class=num>{_e(row.get('dof'))}</td>",
            f"<td class=num>{_p_value(row.get('p_value'))}</td>",
            f"<td class=num>{_number(row.get('cramers_v'), '{:.3f}')}<br>"
            f"<small>{_number(row.get('cramers_v_corrected'), '{:.3f}')}</small></td>",
            f"<td>{_e(row.get('magnitude'))}</td>",
            f"<td class=num>{_number(row.get('count_rows'), '{:,}')}</td>",
            f"<td class=num>{_number(row.get('count_low_expected_cells'), '{:,}')}</td>",
        ] + ([f"<td>{_e(row.get('reason'))}</td>"] if with_reason else [])
        body.append(f"<tr>{''.join(cells)}</tr>")
    return _table("table-effects-chi", head, body)


def _table_run(run: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(key)}</th><td>{_e(_value(v))}</td></tr>" for key, v in run.items())
    return f'<table id="table-run" class=keyvalue><tbody>{rows}</tbody></table>'


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1a202c; margin: 0; background: #f7fafc; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: white; }
header { border-bottom: 2px solid #2b6cb0; margin-bottom: 16px; }
h1 { margin: 0 0 6px; font-size: 1.7rem; }
h2 { margin-top: 36px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; font-size: 1.3rem; }
h3 { margin: 20px 0 4px; font-size: 1.05rem; }
.meta { color: #4a5568; margin: 4px 0; font-size: 0.95rem; }
.meta code { background: #edf2f7; padding: 1px 4px; border-radius: 3px; }
.note { color: #4a5568; font-style: italic; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 18px; }
.fact { background: #ebf4ff; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.fact b { display: block; font-size: 1.25rem; }
.fact span { color: #4a5568; font-size: 0.85rem; }
figure { margin: 18px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e8f0; }
figcaption { color: #4a5568; font-size: 0.9rem; margin-top: 6px; max-width: 980px; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 10px 0 24px; width: 100%; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 5px 8px; text-align: left;
         vertical-align: top; }
thead th { background: #edf2f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead th.num { white-space: normal; }
td.total { background: #f7fafc; font-weight: 600; }
td.action { min-width: 220px; }
small { color: #718096; font-weight: normal; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; }
table.keyvalue { width: auto; }
table.keyvalue th { background: #f7fafc; font-weight: 600; white-space: nowrap; }
table.keyvalue td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                    word-break: break-word; }
footer { color: #718096; font-size: 0.8rem; margin-top: 30px; }
"""


def _figure_html(chart: _Chart | None) -> str:
    """The chart as a ``<figure>`` with an embedded PNG; '' for a chart that is left out."""
    if chart is None:
        return ""
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure id="{chart.chart_id}">'
        f'<img src="data:image/png;base64,{data}" alt="{_e(chart.title)}">'
        f"<figcaption>{_e(chart.caption)}</figcaption></figure>"
    )


def _note(text: str) -> str:
    return f"<p class='meta note'>{_e(text)}</p>"


def _effects_section(
    features: ReportFeatures, charts: dict[str, _Chart], tables: dict[str, str], marts: set[str]
) -> list[str]:
    """The effect-test tables and heatmap, or a one-line note saying why they are left out."""
    if not features.categoricals:
        return [
            _note(
                f"No effect tests: {features.set_name or 'the feature set'} has no categorical "
                "features (the category charts are left out for the same reason)."
            )
        ]
    if "category_effect_tests" not in marts:
        return [
            _note(
                "No effect tests: this database has no marts.category_effect_tests (a serving "
                "file may not publish it); render the report from the build database."
            )
        ]
    parts = [
        "<h3>Do the measures differ between categories? (Kruskal-Wallis)</h3>",
        "<p class=meta>One test per categorical feature and measure "
        "(marts.category_effect_tests). ε² is the rank effect size; the groups are those "
        "with the highest and lowest mean rank.</p>",
        tables.get("table-effects-kw") or _note("marts.category_effect_tests is empty."),
        "<h3>Are the categorical features associated? (chi-square)</h3>",
    ]
    if len(features.categoricals) < 2:
        return [*parts, _note("One categorical feature: no pair to test.")]
    return [
        *parts,
        "<p class=meta>One test per pair of categorical features "
        "(marts.category_association_tests); Cramér's V with its bias-corrected value "
        "below.</p>",
        tables.get("table-effects-chi") or _note("marts.category_association_tests is empty."),
        _figure_html(charts.get("chart-residuals")),
    ]


def _sections(
    features: ReportFeatures,
    charts: dict[str, _Chart],
    tables: dict[str, str],
    category_title: str | None,
    marts: set[str],
) -> str:
    """The body sections after the header, each present only when the feature set has what
    it needs (two measures for the scatters, categoricals for the category charts)."""
    chart = charts.get
    scatter_note = (
        ""
        if "chart-scatter" in charts
        else _note("The feature set has fewer than two measures: no scatter charts.")
    )
    parts = [
        "<h2>The data</h2>",
        _figure_html(chart("chart-correlation")),
        _figure_html(chart("chart-scatter")),
        scatter_note,
        "<h2>Choosing the number of segments</h2>",
        _figure_html(chart("chart-elbow")),
        _figure_html(chart("chart-dendrogram")),
        "<h2>The segments</h2>",
        _figure_html(chart("chart-segments")),
        _figure_html(chart("chart-segments-z")),
        _figure_html(chart("chart-profiles")),
        _figure_html(chart("chart-boxplots")),
        "<p class=meta>Per segment: customers (share), each measure's mean (median below), "
        "the dominant category of each categorical feature and the recommended action.</p>",
        tables["table-profiles"],
    ]
    if category_title:
        parts += [
            f"<h2>{_e(category_title)}</h2>",
            _figure_html(chart("chart-categories")),
            tables.get("table-categories", ""),
        ]
    parts += ["<h2>Effect tests</h2>", *_effects_section(features, charts, tables, marts)]
    parts += [
        "<h2>Run</h2>",
        "<p class=meta>The newest row of marts.segmentation_runs.</p>",
        tables["table-run"],
    ]
    return "\n".join(part for part in parts if part)


def _page(
    database: Path,
    run: dict[str, Any],
    features: ReportFeatures,
    sections: str,
    profiles: list[dict[str, Any]],
) -> str:
    started = _value(run.get("run_started_at"))
    transactions = run.get("input_kind") == "transactions"
    customers = run.get("count_segmented_customers") or run.get("count_segmented_rows")
    facts = [
        (
            _number(run.get("count_input_rows"), "{:,}"),
            "input rows (transactions)" if transactions else "input rows",
        ),
        (_number(customers, "{:,}"), "customers segmented"),
        (_number(run.get("count_rejected_rows"), "{:,}"), "rows rejected"),
        (str(len(profiles)), f"segments (k rule: {run.get('k_rule')})"),
        (_number(run.get("silhouette"), "{:.3f}"), "silhouette"),
    ]
    fact_html = "".join(
        f"<div class=fact><b>{_e(v)}</b><span>{_e(t)}</span></div>" for v, t in facts
    )
    measures = _and([m.label for m in features.measures]) or "none"
    categoricals = _and([c.label for c in features.categoricals]) or "none"
    set_name = _upper_first(features.set_name) or "Feature set"
    generated = datetime.now().isoformat(sep=" ", timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer segmentation report</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<h1>Customer segmentation report</h1>
<p class=meta>Input: <code>{_e(run.get("input_source"))}</code></p>
<p class=meta>Run started {_e(started)} · run id <code>{_e(run.get("run_id"))}</code> ·
preset {_e(run.get("preset"))} · k = {_e(run.get("k"))} · Ward linkage
{_e(run.get("ward_linkage_method"))}</p>
<p class=meta>{_e(set_name)}: measures {_e(measures)};
categorical features {_e(categoricals)}.</p>
<div class=facts>{fact_html}</div>
</header>

{sections}

<footer>Generated {_e(generated)} from <code>{_e(database)}</code> (schema marts) by
customer_segmentation.report.</footer>
</main>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Entry points


def _charts_and_tables(
    con: duckdb.DuckDBPyConnection, run: dict[str, Any], features: ReportFeatures, total: int
) -> tuple[dict[str, _Chart], dict[str, str], str | None, list[dict[str, Any]]]:
    """Every query and chart of the report: charts by id, tables by id, the title of the
    category section (None without categoricals or measures) and the segment profiles."""
    profiles = _records(con, "select * from marts.segment_profiles order by segment_id")
    diagnostics = _records(con, "select * from marts.segment_k_diagnostics order by k")
    centroids = _records(
        con,
        "select segment_id, feature_name, centroid_z, centroid_original, feature_mean, "
        "feature_std from marts.segment_centroids",
    )
    measures = features.measures
    stats = measure_stats(con, measures)
    scales = {name: axis_scale(value) for name, value in stats.items()}
    k = int(run["k"]) if run.get("k") is not None else len(profiles)
    labels, matrix = correlation_matrix(con, features)
    charts = [
        _chart_correlation(labels, matrix, features),
        _chart_elbow(diagnostics, run),
        _chart_dendrogram(con, k),
    ]
    if len(measures) >= 2:
        y, x = measures[0], measures[1]  # the first measure in report order goes up the y axis
        sample, _ = _scatter_sample(con, [x.name, y.name])
        outliers = count_outliers(con, [x, y], _scaler(centroids))
        charts += [
            _chart_scatter(sample, total, x, y, scales),
            _chart_segments(sample, total, profiles, centroids, x, y, scales),
            _chart_segments_z(sample, total, profiles, centroids, x, y, outliers),
        ]
    if measures:
        boxes = {m.name: box_statistics(con, m.name) for m in measures[:MAX_MEASURE_PANELS]}
        charts += [
            _chart_profiles(profiles, measures, stats),
            _chart_boxplots(boxes, profiles, measures, scales),
        ]
    tables = {
        "table-profiles": _table_profiles(profiles, features, stats),
        "table-run": _table_run(run),
    }
    category_title = None
    pair = category_pair(features)
    if pair and measures:
        summary = _records(con, "select * from marts.customer_value_summary")
        grid = category_grid(summary, *pair)
        chart = _chart_categories(grid, measures[0])
        charts.append(chart)
        category_title = chart.title
        tables["table-categories"] = _table_categories(grid, measures[0])
    if features.categoricals:
        charts_effects, tables_effects = _effect_tests(con, features)
        charts += charts_effects
        tables.update(tables_effects)
    return {chart.chart_id: chart for chart in charts}, tables, category_title, profiles


def _effect_tests(
    con: duckdb.DuckDBPyConnection, features: ReportFeatures
) -> tuple[list[_Chart], dict[str, str]]:
    """The effect-test tables and the residual heatmap of the first pair of categoricals."""
    present = _marts(con)
    charts: list[_Chart] = []
    tables: dict[str, str] = {}
    if "category_effect_tests" in present:
        effects = _records(con, "select * from marts.category_effect_tests")
        if effects:
            tables["table-effects-kw"] = _table_effects_kw(effects, features)
    if "category_association_tests" not in present:
        return charts, tables
    position = {c.name: i for i, c in enumerate(features.categoricals)}
    tests = sorted(
        _records(con, "select * from marts.category_association_tests"),
        key=lambda row: sorted(
            (position.get(row["row_feature"], 99), position.get(row["col_feature"], 99))
        ),
    )
    if not tests:
        return charts, tables
    tables["table-effects-chi"] = _table_effects_chi(tests)
    first = tests[0]
    if "category_association_cells" in present:
        cells = [
            row
            for row in _records(con, "select * from marts.category_association_cells")
            if row["row_feature"] == first["row_feature"]
            and row["col_feature"] == first["col_feature"]
        ]
        if cells:
            charts.append(_chart_residuals(cells, first, features))
    return charts, tables


def render_report(database: str | Path, out: str | Path = DEFAULT_OUT) -> ReportResult:
    """Render the segmentation report of a built database into one self-contained HTML file.

    The charts and tables follow the feature set in ``marts.feature_definitions`` (see the
    module docstring): with two or more measures, the scatters of the first two (original
    and z units, the latter without customers beyond |z| > 3 on either axis); with any
    measure, per-measure bars and box plots by segment; with categorical features, the mean
    of the first measure by the first two categoricals and the effect tests.

    Parameters
    ----------
    database : str or Path
        A DuckDB file holding the ``marts`` schema: the database ``dbt build`` wrote or the
        published serving file. Opened read-only; only ``marts.*`` is queried.
    out : str or Path
        The HTML file to write; missing parent folders are created. The file is written
        beside its final name and renamed into place, so a reader never sees half a report.

    Returns
    -------
    ReportResult
        The path written, its size in bytes, the render time and the chart ids.

    Raises
    ------
    ReportError
        The database does not exist, cannot be opened, or lacks a required mart (the message
        names the file and the missing tables and says to run ``make demo``/``dbt build``).
    """
    started = time.perf_counter()
    database, out = Path(database), Path(out)
    con = _connect(database)
    try:
        with matplotlib.rc_context(_STYLE):
            marts = _marts(con)
            features = read_features(con)
            run = _latest_run(con)
            total = _count_customers(con)
            if total == 0:
                raise ReportError(f"{database}: marts.customer_segments is empty")
            charts, tables, category_title, profiles = _charts_and_tables(con, run, features, total)
    except (duckdb.CatalogException, duckdb.BinderException) as error:
        raise ReportError(
            f"{database}: the marts do not have the expected columns ({error}); "
            "rebuild with `make demo` (or `dbt build`)"
        ) from error
    finally:
        con.close()
    sections = _sections(features, charts, tables, category_title, marts)
    page = _page(database, run, features, sections, profiles)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out)
    return ReportResult(
        path=out,
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - started,
        chart_ids=[chart_id for chart_id in CHART_IDS if chart_id in charts],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render the report and print one line (path, size, seconds, charts).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 when the database or its marts are missing.
    """
    parser = argparse.ArgumentParser(
        prog="python -m customer_segmentation.report",
        description="Write the segmentation report (one self-contained HTML file).",
    )
    parser.add_argument(
        "--database",
        help=f"DuckDB file with the marts (default ${{CUSTOMER_SEGMENTATION_DB}} or "
        f"{DEFAULT_DATABASE})",
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    try:
        result = render_report(database_path(args.database), args.out)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{result.path}  {result.bytes / 1024:,.0f} KB  {result.seconds:.1f} s  "
        f"{len(result.chart_ids)} charts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
