"""Every SQL read of the report: ``marts.*`` of a built database or a serving file, read-only.

Aggregates run in SQL (correlations are one pass of ``corr``, box-plot quartiles exact
``quantile_cont``); the scatters read one repeatable reservoir sample of at most
:data:`SCATTER_MAX_POINTS` customers (:func:`scatter_sample`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np

from customer_segmentation.features import Feature, FeatureSet
from customer_segmentation.scaling import column_z_scores
from customer_segmentation.warehouse import quoted_identifier as ident

REQUIRED_MARTS = (
    "customer_segments",
    "segment_profiles",
    "segment_k_diagnostics",
    "segment_dendrogram",
    "customer_value_summary",
    "segment_centroids",
    "segmentation_runs",
)
# Read when present: feature_definitions (else derived from other marts, labels are column
# names), the category_* effect tests (else a note), segment_transitions and segment_drift.
SCATTER_MAX_POINTS = 20_000
SAMPLE_SEED = 42
#: The z-unit scatter drops customers with |z| above this on either plotted axis.
Z_OUTLIER_LIMIT = 3.0
#: Rows per Arrow batch when a whole column is scanned in Python (bounded memory).
BATCH_ROWS = 1_000_000


class ReportError(RuntimeError):
    """The report cannot be rendered from this database; the message says why."""


class MeasureStats(NamedTuple):
    """Whole-table statistics of one measure (original units), from one SQL pass."""

    mean: float
    minimum: float
    median: float
    maximum: float
    skewness: float | None
    count: int


class Dendrogram(NamedTuple):
    """marts.segment_dendrogram in merge order: ``merges`` (m, 4) left node, right node,
    height, leaves (scipy's linkage layout); ``customers`` (m,) customers under each merge;
    ``method`` the linkage method of the last merge (None for an empty tree)."""

    merges: np.ndarray
    customers: np.ndarray
    method: str | None


def _double(name: str) -> str:
    return f"cast({ident(name)} as double)"


def connect(database: Path) -> duckdb.DuckDBPyConnection:
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
    missing = [f"marts.{mart}" for mart in REQUIRED_MARTS if mart not in marts(con)]
    if missing:
        con.close()
        raise ReportError(
            f"{database}: missing table{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            "run `make demo` (or `dbt build`) first"
        )
    return con


def marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views in schema ``marts``."""
    sql = "select table_name from information_schema.tables where table_schema = 'marts'"
    return {row[0] for row in con.execute(sql).fetchall()}


def records(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Rows of ``sql`` (with ``?`` ``params``) as dictionaries keyed by column name."""
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def table(
    con: duckdb.DuckDBPyConnection, name: str, order: str | None = None
) -> list[dict[str, Any]]:
    """Every row of ``marts.<name>`` (a fixed mart name), optionally ordered."""
    return records(con, f"select * from marts.{name}" + (f" order by {order}" if order else ""))


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    return {row[0] for row in con.execute(f"describe marts.{name}").fetchall()}


def floats(values: Any) -> np.ndarray:
    """A fetched numpy column (masked where NULL) as float64 with NaN for NULL."""
    return np.ma.filled(np.ma.asarray(values).astype(np.float64), np.nan)


def latest_run(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The newest row of marts.segmentation_runs."""
    rows = records(
        con, "select * from marts.segmentation_runs order by run_started_at desc limit 1"
    )
    if not rows:
        raise ReportError("marts.segmentation_runs is empty; run `make demo` (or `dbt build`)")
    return rows[0]


def run_transitions(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """segment_transitions cells of ``run_id`` (from_segment_id, to_segment_id, null = new /
    gone, count_customers); empty on a first run or without the mart."""
    if "segment_transitions" not in marts(con):
        return []
    return records(
        con,
        "select from_segment_id, to_segment_id, count_customers from marts.segment_transitions "
        "where run_id = ? order by from_segment_id nulls first, to_segment_id nulls last",
        [run_id],
    )


def run_drift(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any] | None:
    """The segment_drift row of ``run_id``, None when absent."""
    if "segment_drift" not in marts(con):
        return None
    rows = records(con, "select * from marts.segment_drift where run_id = ?", [run_id])
    return rows[0] if rows else None


def fit_moments(centroid_rows: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Feature name -> (mean, std) of the fit, in fit units, from segment_centroids rows."""
    return {
        row["feature_name"]: (float(row["feature_mean"]), float(row["feature_std"]))
        for row in centroid_rows
        if row.get("feature_mean") is not None and row.get("feature_std") is not None
    }


def derived_definitions(
    fit_features: Sequence[dict[str, Any]],
    profile_columns: set[str],
    categories: dict[str, list[tuple[int, str]]],
    set_name: str = "",
) -> list[dict[str, Any]]:
    """feature_definitions-shaped rows for :meth:`FeatureSet.from_rows`, rebuilt from other
    marts for a database without it: ``fit_features`` (feature_name, feature_position,
    feature_kind, feature_transform of segment_centroids), ``profile_columns`` (a measure with
    ``share_of_<name>`` is summable) and ``categories`` (categorical -> (code, name) present in
    customer_segments, which replace its ``is_<categorical>_<key>`` columns). Labels are the
    column names with spaces."""
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
        rows += [
            {
                **base,
                "feature_name": f"is_{categorical}_{code}",
                "feature_position": len(rows) + i + 1,
                "source_feature": categorical,
                "feature_label": label,
                "is_summable": False,
                "category_code": code,
            }
            for i, (code, label) in enumerate(categories[categorical])
        ]
    return rows


def categories_present(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[int, str]]]:
    """Categorical name -> (code, name) of every category in customer_segments (the
    categoricals are the ``<name>_code`` columns with a ``<name>_name`` beside them)."""
    columns = _columns(con, "customer_segments")
    names = [c[: -len("_code")] for c in sorted(columns) if c.endswith("_code")]
    found = {}
    for name in (n for n in names if f"{n}_name" in columns):
        code, label = ident(f"{name}_code"), ident(f"{name}_name")
        rows = con.execute(
            f"select {code}, min({label}) from marts.customer_segments "
            f"where {code} is not null group by {code} order by {code}"
        ).fetchall()
        found[name] = [(int(c), str(n)) for c, n in rows]
    return found


def read_features(con: duckdb.DuckDBPyConnection) -> FeatureSet:
    """The feature set of the build: ``marts.feature_definitions``, or, in a database without
    it, :func:`derived_definitions` from segment_centroids and customer_segments."""
    if "feature_definitions" in marts(con):
        rows = table(con, "feature_definitions", "feature_position")
    else:
        fit = records(
            con,
            "select distinct feature_name, feature_position, feature_kind, feature_transform "
            "from marts.segment_centroids",
        )
        set_name = ""
        if "feature_set" in _columns(con, "segmentation_runs"):
            set_name = str(latest_run(con).get("feature_set") or "")
        profiles = _columns(con, "segment_profiles")
        rows = derived_definitions(fit, profiles, categories_present(con), set_name)
    if not rows:
        raise ReportError("the feature set is empty (marts.feature_definitions); rebuild")
    return FeatureSet.from_rows(rows)


def measure_stats(
    con: duckdb.DuckDBPyConnection, measures: Sequence[Feature]
) -> dict[str, MeasureStats]:
    """Mean, min, median, max, skewness and count of every measure over all customers, in
    original units, from one SQL pass (NULL: NaN, skewness None)."""
    functions = ("avg", "min", "median", "max", "skewness", "count")
    parts = [f"{function}({_double(m.name)})" for m in measures for function in functions]
    if not parts:
        return {}
    values = con.execute(f"select {', '.join(parts)} from marts.customer_segments").fetchone()
    stats = {}
    for i, m in enumerate(measures):
        *moments, skewness, count = values[6 * i : 6 * i + 6]
        moments = [float("nan") if v is None else float(v) for v in moments]
        stats[m.name] = MeasureStats(
            *moments, None if skewness is None else float(skewness), int(count)
        )
    return stats


def _correlation_columns(features: FeatureSet) -> list[tuple[str, str]]:
    """(label, SQL expression) per measure and one-hot column of ``features``, in fit order."""
    columns = []
    for f in features.features:
        if f.kind == "numeric":
            columns.append((f.label, _double(f.name)))
        elif f.kind == "one_hot":
            expression = f"cast({ident(f.source + '_code')} = {int(f.category_code)} as integer)"
            columns.append((f"{f.source.replace('_', ' ')}: {f.label}", expression))
    return columns


def correlation_matrix(
    con: duckdb.DuckDBPyConnection, features: FeatureSet | None = None
) -> tuple[list[str], np.ndarray]:
    """Pearson correlations over all of ``marts.customer_segments``, in one SQL pass.

    The columns are the measures and the one-hot columns (``<categorical>_code = code`` as 0/1,
    labelled ``<categorical>: <category>``) of ``features`` (default :func:`read_features`), in
    fit order; ``code`` features are left out. Returns the labels and the symmetric (p, p)
    matrix, NaN where a column is constant.
    """
    columns = _correlation_columns(features or read_features(con))
    size = len(columns)
    if size == 0:
        return [], np.empty((0, 0))
    # corr on the off-diagonal pairs only; the diagonal is 1, or undefined for a constant column.
    projected = ", ".join(f"{expression} as f{i}" for i, (_, expression) in enumerate(columns))
    pairs = [(i, j) for i in range(size) for j in range(i + 1, size)]
    aggregates = [f"corr(f{i}, f{j})" for i, j in pairs]
    aggregates += [f"max(f{i}) > min(f{i})" for i in range(size)]
    values = con.execute(
        f"select {', '.join(aggregates)} from (select {projected} from marts.customer_segments)"
    ).fetchone()
    return [label for label, _ in columns], _symmetric(size, pairs, values)


def _symmetric(size: int, pairs: list[tuple[int, int]], values: Sequence[Any]) -> np.ndarray:
    """The (size, size) matrix from the corr of each pair, then one "varies" flag per column
    (diagonal 1, or NaN for a constant column); NULL correlations become NaN."""
    matrix = np.full((size, size), np.nan)
    for (i, j), value in zip(pairs, values[: len(pairs)], strict=True):
        matrix[i, j] = matrix[j, i] = np.nan if value is None else float(value)
    for i, varies in enumerate(values[len(pairs) :]):
        matrix[i, i] = 1.0 if varies else np.nan
    return matrix


def count_customers(con: duckdb.DuckDBPyConnection) -> int:
    # fetchall, not fetchone: the result must be finished before con.sql runs.
    return int(con.execute("select count(*) from marts.customer_segments").fetchall()[0][0])


def scatter_sample(
    con: duckdb.DuckDBPyConnection, columns: Sequence[str]
) -> tuple[dict[str, np.ndarray], int]:
    """The one sample every scatter draws, and the number of customers.

    The sample maps customer_id, segment_id and each of ``columns`` to (n,) float64 (NaN for
    NULL), ordered by customer_id: a repeatable reservoir sample of n = min(total,
    SCATTER_MAX_POINTS) customers.
    """
    selected = ", ".join(["customer_id", "segment_id", *(ident(c) for c in columns)])
    fetched = con.execute(
        f"select {selected} from (select {selected} from marts.customer_segments "
        f"using sample reservoir({int(SCATTER_MAX_POINTS)} rows) repeatable ({int(SAMPLE_SEED)})"
        ") order by customer_id"
    ).fetchnumpy()
    return {name: floats(values) for name, values in fetched.items()}, count_customers(con)


def outlier_mask(z: np.ndarray, limit: float = Z_OUTLIER_LIMIT) -> np.ndarray:
    """(n,) True for the rows of (n, d) z-scores ``z`` with |z| > ``limit`` in any column
    (NaN does not count)."""
    return np.any(np.abs(np.nan_to_num(z, nan=0.0)) > limit, axis=1)


def count_outliers(
    con: duckdb.DuckDBPyConnection,
    measures: Sequence[Feature],
    moments: dict[str, tuple[float, float]],
) -> int:
    """Customers (all, not the sample) with |z| > Z_OUTLIER_LIMIT on any of ``measures``.

    z is :func:`~customer_segmentation.scaling.column_z_scores` of the fit's ``moments``
    (name -> (mean, std)); the table is scanned in Arrow batches of :data:`BATCH_ROWS` rows.
    """
    used = [m for m in measures if m.name in moments]
    if not used:
        return 0
    selected = ", ".join(_double(m.name) for m in used)
    reader = con.sql(f"select {selected} from marts.customer_segments").to_arrow_reader(BATCH_ROWS)
    count = 0
    for batch in reader:
        z = [
            column_z_scores(
                batch.column(j).to_numpy(zero_copy_only=False), *moments[m.name], m.transform
            )
            for j, m in enumerate(used)
        ]
        count += int(outlier_mask(np.column_stack(z)).sum())
    return count


def box_statistics(
    con: duckdb.DuckDBPyConnection, measure: str
) -> dict[int, dict[str, float | int]]:
    """Exact Tukey box-plot statistics of one measure per segment, in SQL.

    Returns segment_id -> q1, med, q3 (``quantile_cont``, numpy's default interpolation),
    whislo, whishi (the furthest customer within 1.5 IQR of the box, as matplotlib draws it;
    original units), beyond (customers outside the whiskers, not drawn) and count (non-null).
    """
    column = _double(measure)
    rows = records(
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


def dendrogram(con: duckdb.DuckDBPyConnection) -> Dendrogram:
    """The Ward tree as a linkage matrix plus customer counts."""
    names = ("left_node_id", "right_node_id", "height", "count_leaves")
    columns = con.execute(
        f"select {', '.join(names)}, count_customers, linkage_method "
        "from marts.segment_dendrogram order by merge_step"
    ).fetchnumpy()
    methods = list(columns["linkage_method"])
    return Dendrogram(
        np.column_stack([floats(columns[name]) for name in names]) if methods else np.empty((0, 4)),
        floats(columns["count_customers"]),
        str(methods[-1]) if methods else None,
    )


def association_tests(con: duckdb.DuckDBPyConnection, features: FeatureSet) -> list[dict[str, Any]]:
    """category_association_tests rows, pairs ordered by the categoricals' fit order."""
    position = {c.name: i for i, c in enumerate(features.categoricals)}
    return sorted(
        table(con, "category_association_tests"),
        key=lambda row: sorted(
            (position.get(row["row_feature"], 99), position.get(row["col_feature"], 99))
        ),
    )


def association_cells(
    con: duckdb.DuckDBPyConnection, row_feature: str, col_feature: str
) -> list[dict[str, Any]]:
    """category_association_cells rows of one (row_feature, col_feature) pair."""
    return records(
        con,
        "select * from marts.category_association_cells where row_feature = ? and col_feature = ?",
        [row_feature, col_feature],
    )
