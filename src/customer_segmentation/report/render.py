"""Render the report: read the marts, draw the charts, build the tables, write the page."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import matplotlib

from customer_segmentation.cli import DEFAULT_DATABASE, database_path
from customer_segmentation.features import FeatureSet
from customer_segmentation.report import categories, charts, lifecycle, page, reading
from customer_segmentation.report.drawing import STYLE, Chart, axis_scale
from customer_segmentation.report.reading import ReportError

#: Every chart the report can hold, in page order; which ones a report has depends on the
#: feature set (:attr:`ReportResult.chart_ids`).
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
Tables = dict[str, page.Table]


class ReportResult(NamedTuple):
    """What :func:`render_report` wrote: the HTML ``path``, its size in ``bytes``, the wall
    ``seconds`` of the whole render and the ``chart_ids`` of its figures in page order."""

    path: Path
    bytes: int
    seconds: float
    chart_ids: list[str]


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


def _categoricals(con: duckdb.DuckDBPyConnection, features: FeatureSet) -> tuple[list, Tables]:
    """The first measure by the first two categoricals (chart and table), the effect-test
    tables and the residual heatmap of the first pair of categoricals. The effect tests are
    left out without marts.category_effect_tests (the page shows a note)."""
    drawn: list[Chart] = []
    tables: Tables = {}
    pair = categories.category_pair(features)
    if pair and features.measures:
        measure = features.report_measures[0]
        grid = categories.category_grid(reading.table(con, "customer_value_summary"), *pair)
        drawn.append(categories.categories_chart(grid, measure))
        tables["table-categories"] = page.categories_table(grid, measure)
    if pair and "category_effect_tests" in reading.marts(con):
        drawn += _effect_tests(con, features, tables)
    return drawn, tables


def _effect_tests(con: duckdb.DuckDBPyConnection, features: FeatureSet, tables: Tables) -> list:
    """The Kruskal-Wallis and chi-square tables (added to ``tables``) and, with the cells
    mart, the residual heatmap of the first tested pair (returned)."""
    effects = reading.table(con, "category_effect_tests")
    if effects:
        tables["table-effects-kw"] = page.effects_kw_table(effects, features)
    present = reading.marts(con)
    if "category_association_tests" not in present:
        return []
    tests = reading.association_tests(con, features)
    if not tests:
        return []
    tables["table-effects-chi"] = page.effects_chi_table(tests)
    if "category_association_cells" not in present:
        return []
    first = tests[0]
    cells = reading.association_cells(con, first["row_feature"], first["col_feature"])
    return [categories.residuals_chart(cells, first, features)] if cells else []


def _lifecycle(
    con: duckdb.DuckDBPyConnection, run: dict[str, Any], profiles: list[dict[str, Any]]
) -> tuple[list[Chart], Tables]:
    """Stability bars (when computed) and, against the previous run (when there is one),
    the migration heatmap, the drift figures and their table."""
    stability = lifecycle.stability_chart(profiles, run)
    drawn = [stability] if stability else []
    transitions = reading.run_transitions(con, run["run_id"])
    drift = reading.run_drift(con, run["run_id"])
    if not transitions or drift is None or not drift.get("count_previous_customers"):
        return drawn, {}
    checks = lifecycle.drift_checks(drift)
    drawn += [lifecycle.migration_chart(transitions), lifecycle.drift_chart(checks)]
    return drawn, {"table-drift": page.drift_table(checks)}


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
    drawn = [
        charts.correlation(*reading.correlation_matrix(con, features), features),
        charts.elbow(reading.table(con, "segment_k_diagnostics", "k"), run),
        charts.dendrogram_chart(reading.dendrogram(con), k),
        *_measure_charts(con, features, profiles, stats, total),
    ]
    tables = {
        "table-profiles": page.profiles_table(profiles, features, stats),
        "table-run": page.run_table(run),
    }
    for more_charts, more_tables in (
        _categoricals(con, features),
        _lifecycle(con, run, profiles),
    ):
        drawn += more_charts
        tables.update(more_tables)
    charts_by_id = {chart.chart_id: chart for chart in drawn}
    return page.Page(
        database, run, features, len(profiles), charts_by_id, tables, reading.marts(con)
    )


def render_report(database: str | Path, out: str | Path = DEFAULT_OUT) -> ReportResult:
    """Render the report of a built database (the ``dbt build`` database or the published
    serving file, opened read-only, only ``marts.*`` read) into the HTML file ``out``.

    Missing parent folders of ``out`` are created; the page is written beside it and renamed
    into place, so a reader never sees half a report. Raises :class:`ReportError` when the
    database is missing, cannot be opened or lacks a mart or column (the message names the
    file and what is missing and says to run ``make demo``/``dbt build``).
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
        out,
        out.stat().st_size,
        time.perf_counter() - started,
        [chart_id for chart_id in CHART_IDS if chart_id in content.charts],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render the report and print one line (path, size, seconds, charts).
    Returns 0, or 2 when the database or its marts are missing."""
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
