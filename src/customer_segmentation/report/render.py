"""Render the report: read the marts, draw the charts, build the tables, write the page."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import matplotlib

from customer_segmentation.cli import DEFAULT_DATABASE, database_path
from customer_segmentation.features import FeatureSet
from customer_segmentation.report import categories, charts, lifecycle, page, reading
from customer_segmentation.report.drawing import STYLE, Chart, axis_scale
from customer_segmentation.report.reading import ReportError

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
    "chart-stability",
    "chart-migration",
    "chart-drift",
)
#: The charts that compare with the previous run: not on the first run of a database.
PREVIOUS_RUN_CHART_IDS = ("chart-migration", "chart-drift")
DEFAULT_OUT = Path("reports") / "segmentation_report.html"


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


def _measure_charts(
    con: duckdb.DuckDBPyConnection,
    features: FeatureSet,
    profiles: list[dict[str, Any]],
    stats: dict[str, reading.MeasureStats],
    total: int,
) -> list[Chart]:
    """The scatters of the first two measures (y: the first in report order) and the
    per-measure bars and box plots."""
    measures = features.report_measures
    scales = {name: axis_scale(value) for name, value in stats.items()}
    drawn: list[Chart] = []
    if len(measures) >= 2:
        y, x = measures[0], measures[1]
        centroids = reading.table(con, "segment_centroids")
        sample, _ = reading.scatter_sample(con, [x.name, y.name])
        outliers = reading.count_outliers(con, [x, y], reading.fit_moments(centroids))
        drawn += [
            charts.scatter(sample, total, x, y, scales),
            charts.segments(sample, total, profiles, centroids, x, y, scales),
            charts.segments_z(sample, total, profiles, centroids, x, y, outliers),
        ]
    if measures:
        shown = measures[: charts.MAX_MEASURE_PANELS]
        boxes = {m.name: reading.box_statistics(con, m.name) for m in shown}
        drawn += [
            charts.profiles_chart(profiles, measures, stats),
            charts.boxplots(boxes, profiles, measures, scales),
        ]
    return drawn


def _category_charts(
    con: duckdb.DuckDBPyConnection, features: FeatureSet
) -> tuple[list[Chart], dict[str, page.Table], str | None]:
    """The first measure by the first two categoricals (chart, table, section title)."""
    pair = categories.category_pair(features)
    if not pair or not features.measures:
        return [], {}, None
    measure = features.report_measures[0]
    grid = categories.category_grid(reading.table(con, "customer_value_summary"), *pair)
    chart = categories.categories_chart(grid, measure)
    return [chart], {"table-categories": page.categories_table(grid, measure)}, chart.title


def _effect_tests(
    con: duckdb.DuckDBPyConnection, features: FeatureSet
) -> tuple[list[Chart], dict[str, page.Table]]:
    """The effect-test tables and the residual heatmap of the first pair of categoricals.

    None without marts.category_effect_tests: the page then shows a note instead of the whole
    section, so no chart is drawn that the page would not show.
    """
    present = reading.marts(con)
    if "category_effect_tests" not in present:
        return [], {}
    tables: dict[str, page.Table] = {}
    effects = reading.table(con, "category_effect_tests")
    if effects:
        tables["table-effects-kw"] = page.effects_kw_table(effects, features)
    if "category_association_tests" not in present:
        return [], tables
    tests = reading.association_tests(con, features)
    if not tests:
        return [], tables
    tables["table-effects-chi"] = page.effects_chi_table(tests)
    first = tests[0]
    if "category_association_cells" not in present:
        return [], tables
    cells = reading.association_cells(con, first["row_feature"], first["col_feature"])
    return ([categories.residuals_chart(cells, first, features)] if cells else []), tables


def _lifecycle(
    con: duckdb.DuckDBPyConnection, run: dict[str, Any], profiles: list[dict[str, Any]]
) -> tuple[list[Chart], dict[str, page.Table], bool]:
    """Stability bars (when computed), and against the previous run (when there is one) the
    migration heatmap and the drift figures: (charts, tables, has a previous run)."""
    stability = lifecycle.stability_chart(profiles, run)
    drawn = [stability] if stability else []
    transitions = reading.run_transitions(con, run["run_id"])
    drift = reading.run_drift(con, run["run_id"])
    if not transitions or drift is None or not drift.get("count_previous_customers"):
        return drawn, {}, False
    checks = lifecycle.drift_checks(drift)
    drawn += [lifecycle.migration_chart(transitions), lifecycle.drift_chart(checks)]
    return drawn, {"table-drift": page.drift_table(checks)}, True


def _collect(database: Path, con: duckdb.DuckDBPyConnection) -> page.Page:
    """Every query and chart of the report, as the page to render."""
    features = reading.read_features(con)
    run = reading.latest_run(con)
    total = reading.count_customers(con)
    if total == 0:
        raise ReportError(f"{database}: marts.customer_segments is empty")
    profiles = reading.table(con, "segment_profiles", "segment_id")
    stats = reading.measure_stats(con, features.report_measures)
    k = int(run["k"]) if run.get("k") is not None else len(profiles)
    labels, matrix = reading.correlation_matrix(con, features)
    drawn = [
        charts.correlation(labels, matrix, features),
        charts.elbow(reading.table(con, "segment_k_diagnostics", "k"), run),
        charts.dendrogram_chart(reading.dendrogram(con), k),
        *_measure_charts(con, features, profiles, stats, total),
    ]
    tables = {
        "table-profiles": page.profiles_table(profiles, features, stats),
        "table-run": page.run_table(run),
    }
    category_charts, category_tables, category_title = _category_charts(con, features)
    drawn += category_charts
    tables.update(category_tables)
    if features.categoricals:
        effect_charts, effect_tables = _effect_tests(con, features)
        drawn += effect_charts
        tables.update(effect_tables)
    lifecycle_charts, lifecycle_tables, has_previous = _lifecycle(con, run, profiles)
    drawn += lifecycle_charts
    tables.update(lifecycle_tables)
    return page.Page(
        database=database,
        run=run,
        features=features,
        segments=len(profiles),
        charts={chart.chart_id: chart for chart in drawn},
        tables=tables,
        marts=reading.marts(con),
        category_title=category_title,
        has_previous_run=has_previous,
        has_stability="chart-stability" in {chart.chart_id for chart in drawn},
    )


def render_report(database: str | Path, out: str | Path = DEFAULT_OUT) -> ReportResult:
    """Render the segmentation report of a built database into one self-contained HTML file.

    The charts and tables follow the feature set in ``marts.feature_definitions`` (see the
    package docstring): with two or more measures, the scatters of the first two (original
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
    con = reading.connect(database)
    try:
        with matplotlib.rc_context(STYLE):
            content = _collect(database, con)
    except (duckdb.CatalogException, duckdb.BinderException) as error:
        raise ReportError(
            f"{database}: the marts do not have the expected columns ({error}); "
            "rebuild with `make demo` (or `dbt build`)"
        ) from error
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(page.render(content), encoding="utf-8")
    os.replace(partial, out)
    return ReportResult(
        path=out,
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - started,
        chart_ids=[chart_id for chart_id in CHART_IDS if chart_id in content.charts],
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
