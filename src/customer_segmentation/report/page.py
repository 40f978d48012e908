"""The HTML page: tables as data (:class:`Table` of :class:`Cell`), laid out by the autoescaped
Jinja2 template ``templates/report.html.j2``: inline CSS, no script, no external asset (charts
are base64 PNG ``data:`` URIs), so the file can be mailed as is.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
import matplotlib

from customer_segmentation.features import Feature, FeatureSet
from customer_segmentation.report import drawing as d
from customer_segmentation.report.categories import CategoryGrid
from customer_segmentation.report.drawing import number, p_value, plain
from customer_segmentation.report.lifecycle import DriftCheck
from customer_segmentation.report.reading import MeasureStats

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("customer_segmentation.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_TEMPLATES.filters["base64"] = lambda data: base64.b64encode(data).decode("ascii")


class Cell(NamedTuple):
    """One table cell: ``lines`` of text joined by line breaks, then ``aside`` (small, on the
    same line) and ``small`` (a second, smaller line) when given; ``bold`` is written first,
    in bold; ``swatch`` a colour square in front; ``header`` makes it a ``<th>``; ``css`` its
    class."""

    lines: tuple[str, ...] = ()
    small: str | None = None
    aside: str | None = None
    css: str | None = None
    header: bool = False
    bold: str | None = None
    swatch: str | None = None


class Table(NamedTuple):
    """A table: ``head`` is the header row (none for a key/value table), ``rows`` the body."""

    table_id: str
    head: list[Cell]
    rows: list[list[Cell]]
    css: str | None = None


def _th(*lines: str, small: str | None = None, css: str | None = None) -> Cell:
    return Cell(tuple(lines), small=small, css=css, header=True)


def _num(value: str, small: str | None = None, css: str = "num") -> Cell:
    return Cell((value,), small=small, css=css)


def run_value(value: Any) -> str:
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


def _measure_cells(row: dict[str, Any], m: Feature, stats: MeasureStats) -> list[Cell]:
    template = d.number_template(stats.mean)
    cells = [
        _num(
            number(row.get(f"avg_{m.name}"), template),
            number(row.get(f"median_{m.name}"), template),
        )
    ]
    if m.is_summable:
        cells.append(_num(number(row.get(f"share_of_{m.name}"), "{:.1%}")))
    return cells


def _action_cell(row: dict[str, Any]) -> Cell:
    """``<verb>: rest`` with the verb in bold; the reason (or 'overridden') below."""
    action = str(row.get("recommended_action") or "–")
    verb, colon, rest = action.partition(":")
    note = plain(row.get("action_reason") or "")
    if row.get("is_action_overridden"):
        note = "overridden" + (f"; {note}" if note else "")
    if colon:
        return Cell((colon + rest,), small=note, css="action", bold=verb)
    return Cell((action,), small=note, css="action")


def profiles_table(
    profiles: list[dict[str, Any]], features: FeatureSet, stats: dict[str, MeasureStats]
) -> Table:
    """One row per segment: size, each measure's mean (median below; share of the total for
    summable measures), the dominant category of each categorical, the recommended action."""
    colours = d.profile_colours(profiles)
    measures = features.report_measures
    head = [_th("id"), _th("segment"), _th("customers", css="num")]
    for m in measures:
        head.append(_th(m.label, small="mean / median", css="num"))
        if m.is_summable:
            head.append(_th("share of", m.label, css="num"))
    head += [_th(f"dominant {c.label}") for c in features.categoricals]
    head.append(_th("recommended action"))
    rows = []
    for row in profiles:
        swatch = matplotlib.colors.to_hex(colours[row["segment_id"]])
        cells = [
            _num(plain(row["segment_id"])),
            Cell((plain(row["segment_name"]),), swatch=swatch),
            _num(
                number(row["count_customers"], "{:,}"),
                number(row["share_of_customers"], "{:.1%}"),
            ),
        ]
        for m in measures:
            cells += _measure_cells(row, m, stats[m.name])
        for c in features.categoricals:
            share = number(row.get(f"share_in_dominant_{c.name}"), "{:.0%}")
            name = plain(row.get(f"dominant_{c.name}_name"))
            cells.append(Cell((name,), aside=f"({share})"))
        cells.append(_action_cell(row))
        rows.append(cells)
    return Table("table-profiles", head, rows)


def categories_table(grid: CategoryGrid, measure: Feature) -> Table:
    """Mean of ``measure`` (n = customers) per (row, column) category, with margins."""
    column = f"avg_{measure.name}"
    overall = grid.cells.get((None, None), {}).get(column)
    template = d.number_template(overall if overall is not None else 0.0)

    def cell(key: tuple[Any, Any], total: bool = False) -> Cell:
        row = grid.cells.get(key)
        if row is None:
            return _num("–")
        count = number(row["count_customers"], "{:,}")
        css = "num total" if total else "num"
        return _num(number(row.get(column), template), f"n = {count}", css)

    b = grid.columns_feature.label
    a = grid.rows_feature.label if grid.rows_feature else None
    head = [_th(f"{a} \\ {b}" if a else b)]
    head += [_th(name, css="num") for _, name in grid.columns]
    head.append(_th(f"all {b}", css="num"))
    rows = [
        [_th(name), *(cell((code, c)) for c, _ in grid.columns), cell((code, None), True)]
        for code, name in (grid.rows if a else [])
    ]
    totals = [cell((None, c), True) for c, _ in grid.columns]
    rows.append([_th(f"all {a}" if a else "all customers"), *totals, cell((None, None), True)])
    return Table("table-categories", head, rows)


def _td(value: Any) -> Cell:
    return Cell((plain(value),))


def _formatted(row: dict[str, Any], key: str, template: str) -> Cell:
    return _num(number(row.get(key), template))


def _with_notes(table_id: str, head: list[Cell], rows: list[list[Cell]], tests: list) -> Table:
    """The table of ``tests`` (one row each), with a note column when any has a reason."""
    if any(test.get("reason") for test in tests):
        head = [*head, _th("note")]
        rows = [[*cells, _td(test.get("reason"))] for cells, test in zip(rows, tests, strict=True)]
    return Table(table_id, head, rows)


def effects_kw_table(effects: list[dict[str, Any]], features: FeatureSet) -> Table:
    """Kruskal-Wallis per categorical × measure: H, dof, p, epsilon², magnitude, the groups
    with the highest and lowest mean rank; categoricals in fit order, measures in report
    order."""
    categoricals = {c.name: i for i, c in enumerate(features.categoricals)}
    measures = {m.name: i for i, m in enumerate(features.report_measures)}
    ordered = sorted(
        effects,
        key=lambda row: (
            categoricals.get(row["categorical_feature"], len(categoricals)),
            measures.get(row["numeric_feature"], len(measures)),
            str(row["numeric_feature"]),
        ),
    )
    head = [_th("categorical"), _th("measure")]
    head += [_th(name, css="num") for name in ("H", "dof", "p", "ε²")]
    head += [_th("magnitude"), _th("highest mean rank"), _th("lowest mean rank")]
    head.append(_th("customers", css="num"))
    rows = []
    for row in ordered:
        categorical = features.categorical(row["categorical_feature"])
        groups = ("magnitude", "highest_mean_rank_group", "lowest_mean_rank_group")
        rows.append(
            [
                _td(categorical.label if categorical else row["categorical_feature"]),
                _td(features.label_of(row["numeric_feature"])),
                _formatted(row, "statistic", "{:,.1f}"),
                _num(plain(row.get("dof"))),
                _num(p_value(row.get("p_value"))),
                _formatted(row, "effect_size", "{:.3f}"),
                *(_td(row.get(key)) for key in groups),
                _formatted(row, "count_rows", "{:,}"),
            ]
        )
    return _with_notes("table-effects-kw", head, rows, ordered)


def effects_chi_table(tests: list[dict[str, Any]]) -> Table:
    """Chi-square test of independence per pair of categoricals: χ², dof, p, Cramér's V
    (and its bias-corrected value), magnitude, cells with an expected count below 5."""
    head = [_th("categorical"), _th("categorical")]
    head += [_th(name, css="num") for name in ("χ²", "dof", "p")]
    head += [_th("Cramér's V", small="corrected", css="num"), _th("magnitude")]
    head += [_th("customers", css="num"), _th("cells with", "expected < 5", css="num")]
    rows = [
        [
            _td(plain(row["row_feature"]).replace("_", " ")),
            _td(plain(row["col_feature"]).replace("_", " ")),
            _formatted(row, "statistic", "{:,.1f}"),
            _num(plain(row.get("dof"))),
            _num(p_value(row.get("p_value"))),
            _num(
                number(row.get("cramers_v"), "{:.3f}"),
                number(row.get("cramers_v_corrected"), "{:.3f}"),
            ),
            _td(row.get("magnitude")),
            _formatted(row, "count_rows", "{:,}"),
            _formatted(row, "count_low_expected_cells", "{:,}"),
        ]
        for row in tests
    ]
    return _with_notes("table-effects-chi", head, rows, tests)


def run_table(run: dict[str, Any]) -> Table:
    """The newest segmentation_runs row as a key/value table."""
    rows = [[_th(key), _td(run_value(value))] for key, value in run.items()]
    return Table("table-run", [], rows, css="keyvalue")


def drift_table(checks: list[DriftCheck]) -> Table:
    """The drift figures: value, threshold (at least / at most) and pass or warn."""
    head = [_th("figure"), _th("this run", css="num"), _th("threshold", css="num"), _th("")]
    rows = [
        [
            _td(check.label),
            _num(number(check.value, "{:.3f}")),
            _num(
                number(check.threshold, "{:g}"),
                small="at least" if check.bound == "min" else "at most",
            ),
            Cell((check.status,), css=f"status {check.status.replace('/', '')}"),
        ]
        for check in checks
    ]
    return Table("table-drift", head, rows)


@dataclass(frozen=True)
class Page:
    """Everything the template shows; ``charts`` and ``tables`` are keyed by id and hold only
    what the feature set and the marts allow (the template leaves out, or notes, the rest)."""

    database: Path
    run: dict[str, Any]
    features: FeatureSet
    segments: int
    charts: dict[str, d.Chart]
    tables: dict[str, Table]
    marts: set[str]
    generated: str = field(
        default_factory=lambda: datetime.now().isoformat(sep=" ", timespec="seconds")
    )


def _facts(run: dict[str, Any], segments: int) -> list[tuple[str, str]]:
    """The header's key figures as (value, what it counts)."""
    transactions = run.get("input_kind") == "transactions"
    customers = run.get("count_segmented_customers") or run.get("count_segmented_rows")
    return [
        (
            number(run.get("count_input_rows"), "{:,}"),
            "input rows (transactions)" if transactions else "input rows",
        ),
        (number(customers, "{:,}"), "customers segmented"),
        (number(run.get("count_rejected_rows"), "{:,}"), "rows rejected"),
        (str(segments), f"segments (k rule: {run.get('k_rule')})"),
        (number(run.get("silhouette"), "{:.3f}"), "silhouette"),
    ]


#: segmentation_runs columns the page header shows (missing or NULL: empty).
_HEADER_KEYS = ("input_source", "run_id", "preset", "k", "ward_linkage_method")


def render(page: Page) -> str:
    """The whole HTML document."""
    features = page.features
    return _TEMPLATES.get_template("report.html.j2").render(
        run={key: plain(page.run.get(key)) for key in _HEADER_KEYS},
        started=run_value(page.run.get("run_started_at")),
        facts=_facts(page.run, page.segments),
        set_name=d.upper_first(features.set_name) or "Feature set",
        set_label=features.set_name or "the feature set",
        measures=d.label_list(features.report_measures) or "none",
        categoricals=d.label_list(features.categoricals) or "none",
        count_categoricals=len(features.categoricals),
        figures=page.charts,
        tables=page.tables,
        has_effect_tests="category_effect_tests" in page.marts,
        generated=page.generated,
        database=str(page.database),
    )
