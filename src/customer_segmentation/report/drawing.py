"""Drawing helpers shared by the charts: PNG encoding, colours, axes, labels and wording.

Charts are drawn on :class:`~matplotlib.figure.Figure` objects with the Agg canvas, never
registered with pyplot (no global figure to leak), and saved as PNG without a "Software"
chunk, so the bytes depend only on the data.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from typing import Any, NamedTuple

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from customer_segmentation.features import Feature
from customer_segmentation.report import reading
from customer_segmentation.report.reading import MeasureStats

#: A non-negative measure with a sample skewness above this is drawn on a symlog axis.
SYMLOG_SKEWNESS = 2.0
PANELS_PER_ROW = 3
DPI = 110
STYLE = {
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.frameon": False,
    "savefig.facecolor": "white",
}
CATEGORY_COLOURS = "Set2"
ABOVE_CUT = "#8a8a8a"
REFERENCE = "#444444"
#: Red-blue colormap with grey for missing cells.
DIVERGING = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#e0e0e0")


class Chart(NamedTuple):
    """One drawn chart: its ``<figure>`` id, title (the image's alt text), caption, PNG."""

    chart_id: str
    title: str
    caption: str
    png: bytes


class AxisScale(NamedTuple):
    """How a measure's axis is drawn: ``linear``, or ``symlog`` (linear within ±linthresh,
    logarithmic beyond); ``from_zero`` pins the axis just below 0 so zeros stay visible."""

    kind: str = "linear"
    linthresh: float = 0.0
    from_zero: bool = False


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes (Agg canvas, no pyplot), then its artists are released."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # No "Software" text chunk: it would carry matplotlib's URL into the file.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    figure.clear()
    return buffer.getvalue()


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def profile_colours(profiles: list[dict[str, Any]]) -> dict[int, Any]:
    """One stable colour per segment id (tab10 up to ten segments, tab20 beyond)."""
    ordered = sorted(row["segment_id"] for row in profiles)
    cmap = matplotlib.colormaps["tab10" if len(ordered) <= 10 else "tab20"]
    return {sid: cmap(position % cmap.N) for position, sid in enumerate(ordered)}


def segment_label(row: dict[str, Any], width: int | None = None) -> str:
    """``<id> · <name>``, wrapped to ``width`` characters when given."""
    label = f"{row['segment_id']} · {row['segment_name']}"
    return wrap(label, width) if width else label


def tick(value: float, _position: Any = None) -> str:
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


def scale_axis(ax: Any, which: str, scale: AxisScale, ticks: int | None = None) -> None:
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
    axis.set_major_formatter(FuncFormatter(tick))


def mean_of(label: str) -> str:
    """'mean <label>', without doubling a label that already starts with 'mean'."""
    return label if label.lower().startswith("mean ") else f"mean {label}"


def upper_first(text: str) -> str:
    """``text`` with its first letter upper case (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def column(rows: list[dict[str, Any]], name: str) -> np.ndarray:
    """``row[name]`` of every row as float64, NaN where missing or NULL."""
    return np.array([np.nan if row.get(name) is None else float(row[name]) for row in rows])


def sample_note(count: int, total: int) -> str:
    """How many customers a scatter draws, e.g. 'sample of 1,000 of 5,000 customers (…)'."""
    if count < total:
        return (
            f"sample of {count:,} of {total:,} customers "
            f"(repeatable reservoir sample, seed {reading.SAMPLE_SEED})"
        )
    return (
        f"sample of {count:,} of {total:,} customers (all of them; above "
        f"{reading.SCATTER_MAX_POINTS:,} a repeatable reservoir sample is drawn)"
    )


def and_list(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def label_list(items: Sequence[Any]) -> str:
    """The ``label`` of each item (features, categoricals) as :func:`and_list`."""
    return and_list([item.label for item in items])


def symlog_labels(measures: Sequence[Feature], scales: dict[str, AxisScale]) -> list[str]:
    """Labels of the measures drawn on a symlog axis."""
    return [m.label for m in measures if scales[m.name].kind == "symlog"]


def panel_grid(count: int, profiles: list[dict[str, Any]]) -> tuple[Figure, list[Any]]:
    """A figure of ``count`` panels sharing a segment y axis, PANELS_PER_ROW to a row.

    Returns the figure and the used axes in reading order (unused grid cells are hidden);
    y positions are 0..k-1 in profile order, top to bottom.
    """
    names = [segment_label(row, 34) for row in profiles]
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
    return figure, axes[:count]


def centroid_pairs(
    centroids: list[dict[str, Any]], x: str, y: str, column_name: str
) -> dict[int, tuple[float, float]]:
    """segment_id -> (x, y) centroid from segment_centroids rows (``column_name`` values)."""
    found: dict[int, dict[str, float]] = {}
    for row in centroids:
        if row["feature_name"] in (x, y) and row.get(column_name) is not None:
            found.setdefault(row["segment_id"], {})[row["feature_name"]] = float(row[column_name])
    return {sid: (v[x], v[y]) for sid, v in found.items() if x in v and y in v}


def segment_bars(
    ax: Any, profiles: list[dict[str, Any]], values: np.ndarray, **kwargs: Any
) -> None:
    """Horizontal bars of ``values``, one per segment at y = 0..k-1, in the segment colours."""
    colours = profile_colours(profiles)
    y = np.arange(len(profiles))
    ax.barh(y, values, color=[colours[row["segment_id"]] for row in profiles], **kwargs)


def figure_axes(width: float, height: float) -> tuple[Figure, Any]:
    """A ``width`` × ``height`` inch figure with constrained layout and its one axes."""
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def segment_scatter(
    profiles: list[dict[str, Any]],
    segment_ids: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
    centre: dict[int, tuple[float, float]],
    keep: np.ndarray | None = None,
) -> tuple[Figure, Any]:
    """A figure (taller for a longer legend) of the points ``xy`` (and ``keep``) in their
    segment's colour, a cross at each segment's ``centre`` (x, y), and the legend below: one
    dot per segment (id · name · customers), plus the centroid marker when there are any."""
    figure, ax = figure_axes(10, 6.2 + 0.22 * len(profiles))
    colours = profile_colours(profiles)
    alpha = 0.55 if len(segment_ids) <= 5_000 else 0.35
    for row in profiles:
        chosen = segment_ids == row["segment_id"]
        if keep is not None:
            chosen = keep & chosen
        colour = colours[row["segment_id"]]
        x, y = xy[0][chosen], xy[1][chosen]
        ax.scatter(x, y, s=7, alpha=alpha, color=colour, linewidths=0, rasterized=True)
    for sid, (x, y) in centre.items():
        if sid in colours:
            ax.scatter(
                x,
                y,
                marker="X",
                s=150,
                color=colours[sid],
                edgecolors="black",
                linewidths=1.2,
                zorder=5,
            )
    _scatter_legend(figure, profiles, colours, bool(centre))
    return figure, ax


def _scatter_legend(
    figure: Figure, profiles: list[dict[str, Any]], colours: dict, centroids: bool
) -> None:
    """The legend below a segment scatter: one dot per segment (id · name · customers), plus
    the centroid marker when ``centroids``."""
    handles = [
        Line2D([], [], marker="o", linestyle="none", color=colours[row["segment_id"]], ms=7)
        for row in profiles
    ]
    labels = [f"{segment_label(row)} ({row['count_customers']:,} customers)" for row in profiles]
    if centroids:
        cross = {"color": "white", "markeredgecolor": "black", "ms": 10}
        handles.append(Line2D([], [], marker="X", linestyle="none", **cross))
        labels.append("segment centroid (k-means)")
    ncol = 1 if max((len(label) for label in labels), default=0) > 62 else 2
    figure.legend(
        handles, labels, loc="outside lower center", ncol=ncol, fontsize=8.5, handletextpad=0.3
    )


def annotate_cells(ax: Any, texts: list[list[str]], colours: list[list[str]], **kwargs) -> None:
    """Write ``texts[i][j]`` centred on heatmap cell (i, j) in ``colours[i][j]``."""
    for i, row in enumerate(texts):
        for j, text in enumerate(row):
            ax.text(j, i, text, ha="center", va="center", color=colours[i][j], **kwargs)


def heatmap_axes(ax: Any) -> None:
    """No ticks marks and no frame: a heatmap's cells are its frame."""
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def plain(value: Any) -> str:
    """A value as text, '' for NULL."""
    return "" if value is None else str(value)


def number(value: Any, template: str) -> str:
    """``value`` formatted with ``template``, '–' for NULL."""
    return "–" if value is None else template.format(value)


def p_value(value: Any) -> str:
    """A p-value: three decimals, scientific below 0.001, '< 1e-300' when it underflows."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0:
        return "< 1e-300"
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"
