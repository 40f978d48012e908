"""The categorical side of the report: the category grid (a measure's mean by the first two
categoricals), the adjusted-residual matrix of a chi-square test, and their two charts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import matplotlib
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from customer_segmentation.features import Categorical, Feature, FeatureSet
from customer_segmentation.report import drawing as d

#: Adjusted residuals beyond ± this are outlined in the residual heatmap.
RESIDUAL_MARK = 2.0


class CategoryGrid(NamedTuple):
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


def category_pair(features: FeatureSet) -> tuple[Categorical | None, Categorical] | None:
    """The first two categoricals as (rows, columns): the one with fewer categories as rows
    (ties: fit order); (None, it) with a single categorical; None without categoricals."""
    first_two = list(features.categoricals[:2])
    if len(first_two) < 2:
        return (None, first_two[0]) if first_two else None
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


def categories_chart(grid: CategoryGrid, measure: Feature) -> d.Chart:
    """Mean of ``measure`` per column category, one bar per row category, with the overall
    mean as a dashed line."""
    column = f"avg_{measure.name}"
    hues: list[tuple[Any, str]] = grid.rows if grid.rows_feature else [(None, "all customers")]
    figure, ax = d.figure_axes(10, 5.6)
    x = np.arange(len(grid.columns))
    _bars(ax, grid, hues, column, x)
    overall = grid.cells.get((None, None), {}).get(column)
    if overall is not None:
        template = d.number_template(overall)
        label = f"all customers ({template.format(overall)})"
        ax.axhline(overall, color=d.REFERENCE, linestyle="--", linewidth=1, label=label)
    b = grid.columns_feature.label
    ax.set_xticks(x, [d.wrap(name, 16) for _, name in grid.columns])
    ax.set_ylabel(d.mean_of(measure.label))
    ax.yaxis.set_major_formatter(FuncFormatter(d.tick))
    ax.set_xlabel(b)
    mean = d.upper_first(d.mean_of(measure.label))
    by = f" and {grid.rows_feature.label}" if grid.rows_feature else ""
    per = f", one bar per {grid.rows_feature.label}" if grid.rows_feature else ""
    ax.set_title(f"{mean} by {b}{by}")
    handles, labels = ax.get_legend_handles_labels()
    if grid.rows_feature:  # one bar per row category: the legend below the plot
        labels = [d.wrap(label, 40) for label in labels]
        ncol = min(len(hues) + 1, 4)
        figure.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=8.5)
    else:
        ax.legend(handles, labels, loc="upper right", fontsize=8.5)
    caption = (
        f"{mean} per customer for every {b}{per}"
        " (marts.customer_value_summary); the dashed line is the mean over all customers. "
        "Counts are in the table below."
    )
    return d.Chart("chart-categories", f"{mean} by {b}{by}", caption, d.png(figure))


def _bars(
    ax: Any, grid: CategoryGrid, hues: list[tuple[Any, str]], column: str, x: np.ndarray
) -> None:
    """One group of bars per column category, one bar per hue (row category), on ``ax``."""
    cmap = matplotlib.colormaps[d.CATEGORY_COLOURS]
    width = 0.8 / max(len(hues), 1)
    for position, (row_code, row_name) in enumerate(hues):
        values = [grid.cells.get((row_code, code), {}).get(column) for code, _ in grid.columns]
        ax.bar(
            x - 0.4 + width * (position + 0.5),
            [np.nan if value is None else value for value in values],
            width=width * 0.95,
            color=cmap(position % cmap.N) if grid.rows_feature else "#2b6cb0",
            label=row_name if grid.rows_feature else "_nolegend_",
        )


def residual_matrix(
    cells: list[dict[str, Any]], row_order: Sequence[str], col_order: Sequence[str]
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """The category_association_cells rows of one pair as (row names, column names, (r, c)
    adjusted residuals in standard-normal units, NaN for a missing cell, (r, c) booleans: the
    expected count is below 5). Names follow ``row_order`` / ``col_order``, then the rest
    alphabetically."""

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


def _mark_cells(ax: Any, residuals: np.ndarray, low: np.ndarray, limit: float) -> None:
    """Each cell's residual as text; beyond ±RESIDUAL_MARK bold and outlined; low expected
    counts hatched."""
    for (i, j), value in np.ndenumerate(residuals):
        beyond = bool(np.isfinite(value) and abs(value) > RESIDUAL_MARK)
        text = "–" if not np.isfinite(value) else f"{value:+.1f}".replace("-0.0", "0.0")
        colour = "white" if abs(np.nan_to_num(value)) > 0.6 * limit else "#222222"
        weight = "bold" if beyond else "normal"
        ax.text(j, i, text, ha="center", va="center", fontsize=8.5, color=colour, fontweight=weight)
        if beyond:
            ax.add_patch(
                Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, lw=1.8, ec="black")
            )
        if low[i, j]:
            ax.add_patch(
                Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", lw=0, ec="#718096")
            )


def residuals_chart(
    cells: list[dict[str, Any]], test: dict[str, Any], features: FeatureSet
) -> d.Chart:
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
    figure, ax = d.figure_axes(width, height)
    image = ax.imshow(
        np.ma.masked_invalid(residuals), cmap=d.DIVERGING, vmin=-limit, vmax=limit, aspect="auto"
    )
    ax.set_xticks(range(len(columns)), [d.wrap(name, 14) for name in columns], fontsize=8.5)
    ax.set_yticks(range(len(rows)), [d.wrap(name, 22) for name in rows], fontsize=8.5)
    d.heatmap_axes(ax)
    _mark_cells(ax, residuals, low, limit)
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
        f"(outlined, bold). χ² = {d.number(test.get('statistic'), '{:,.1f}')}, "
        f"dof = {d.plain(test.get('dof'))}, p = {d.p_value(test.get('p_value'))}, Cramér's V = "
        f"{d.number(test.get('cramers_v'), '{:.3f}')}."
    )
    if low.any():
        caption += f" Hatched: {int(low.sum())} cells with an expected count below 5."
    return d.Chart("chart-residuals", title, caption, d.png(figure))
