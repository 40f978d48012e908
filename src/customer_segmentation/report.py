"""The case study's charts and tables, from the built marts, as one self-contained HTML file.

    python -m customer_segmentation.report --database customer_segmentation.duckdb \\
        --out reports/segmentation_report.html

Only ``marts.*`` is read, through a read-only DuckDB connection, so the report works on the
build database and on the published serving file (views over Parquet) alike. Aggregates are
computed in SQL (the correlation matrix is one pass of ``corr`` over ``customer_segments``) and
the scatter charts read at most :data:`SCATTER_MAX_POINTS` rows (a repeatable reservoir
sample), so the report stays fast and small on millions of customers.

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
from matplotlib.ticker import FuncFormatter

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
CHART_IDS = (
    "chart-correlation",
    "chart-scatter",
    "chart-dendrogram",
    "chart-elbow",
    "chart-segments",
    "chart-profiles",
    "chart-channels",
)
SCATTER_MAX_POINTS = 20_000
SAMPLE_SEED = 42
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
_REGION_COLOURS = "Set2"
_ABOVE_CUT = "#8a8a8a"


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
        The ``id`` of every ``<figure>`` in the page, in page order.
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


# --------------------------------------------------------------------------------------------
# Reading the marts


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
    present = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    missing = [f"marts.{mart}" for mart in REQUIRED_MARTS if mart not in present]
    if missing:
        con.close()
        raise ReportError(
            f"{database}: missing table{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            "run `make demo` (or `dbt build`) first"
        )
    return con


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


def _categories(con: duckdb.DuckDBPyConnection, kind: str) -> list[tuple[int, str]]:
    """(code, name) of every region or channel present in ``customer_segments``."""
    rows = con.execute(
        f"""
        select {kind}_code, min({kind}_name)
        from marts.customer_segments
        where {kind}_code is not null
        group by {kind}_code
        order by {kind}_code
        """
    ).fetchall()
    return [(int(code), str(name)) for code, name in rows]


def correlation_matrix(con: duckdb.DuckDBPyConnection) -> tuple[list[str], np.ndarray]:
    """Pearson correlations of the segmentation features, computed in one SQL pass.

    The features are minutes watched, customer lifetime value and one 0/1 column per region
    and per channel present in ``marts.customer_segments``; DuckDB's ``corr`` aggregates run
    over the whole table, so nothing row-level is fetched.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to a database holding ``marts.customer_segments``.

    Returns
    -------
    labels : list of str
        Feature labels, in matrix order.
    matrix : numpy.ndarray
        Symmetric (p, p) correlations; NaN where a feature is constant.
    """
    features = [
        ("minutes watched", "cast(minutes_watched as double)"),
        ("customer lifetime value", "cast(customer_lifetime_value as double)"),
    ]
    for kind in ("region", "channel"):
        features += [
            (f"{kind}: {name}", f"cast({kind}_code = {code} as integer)")
            for code, name in _categories(con, kind)
        ]
    size = len(features)
    # Each feature is computed once in the subquery; corr runs on the off-diagonal pairs only
    # (the diagonal is 1, or undefined for a constant feature).
    projected = ", ".join(f"{expression} as f{i}" for i, (_, expression) in enumerate(features))
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
    return [label for label, _ in features], matrix


def _scatter_sample(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, np.ndarray], int]:
    """At most SCATTER_MAX_POINTS customers (repeatable reservoir sample) and the total."""
    total = con.execute("select count(*) from marts.customer_segments").fetchone()[0]
    columns = con.execute(
        f"""
        select customer_id, segment_id, minutes_watched, customer_lifetime_value
        from (
            select customer_id, segment_id, minutes_watched, customer_lifetime_value
            from marts.customer_segments
            using sample reservoir({SCATTER_MAX_POINTS} rows) repeatable ({SAMPLE_SEED})
        )
        order by customer_id
        """
    ).fetchnumpy()
    return {name: _floats(values) for name, values in columns.items()}, int(total)


# --------------------------------------------------------------------------------------------
# Drawing


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


def _thousands(value: float, _position: Any = None) -> str:
    return f"{value:,.0f}"


def _minutes_axis(ax: Any) -> None:
    """Symlog x axis for minutes watched: linear within [0, 1], logarithmic above."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    ax.set_xlim(left=-0.6)
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("minutes watched (symlog scale)")
    ax.set_ylabel("customer lifetime value")


def _sample_note(count: int, total: int) -> str:
    if count < total:
        return (
            f"sample of {count:,} of {total:,} customers "
            f"(repeatable reservoir sample, seed {SAMPLE_SEED})"
        )
    return (
        f"sample of {count:,} of {total:,} customers (all of them; above "
        f"{SCATTER_MAX_POINTS:,} a repeatable reservoir sample is drawn)"
    )


def _chart_correlation(con: duckdb.DuckDBPyConnection) -> _Chart:
    labels, matrix = correlation_matrix(con)
    size = len(labels)
    figure = Figure(figsize=(10, 8.4), layout="constrained")
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
    constant = [labels[i] for i in range(size) if np.isnan(matrix[i, i])]
    caption = (
        "Pearson correlations of minutes watched, customer lifetime value and one 0/1 column "
        "per region and per channel, computed in SQL (DuckDB corr) over every customer. "
        "One-hot columns of the same variable are negatively correlated by construction."
    )
    if constant:
        caption += f" Constant (grey, undefined): {', '.join(constant)}."
    return _Chart("chart-correlation", "Feature correlations", caption, _png(figure))


def _chart_scatter(sample: dict[str, np.ndarray], total: int) -> _Chart:
    count = len(sample["customer_id"])
    figure = Figure(figsize=(10, 5.6), layout="constrained")
    ax = figure.add_subplot()
    ax.scatter(
        sample["minutes_watched"],
        sample["customer_lifetime_value"],
        s=7,
        alpha=0.45 if count <= 5_000 else 0.25,
        color="#2b6cb0",
        linewidths=0,
        rasterized=True,
    )
    _minutes_axis(ax)
    ax.set_title("Minutes watched vs customer lifetime value")
    caption = (
        "Each dot is a customer. Minutes watched are extremely skewed, so the x axis is "
        f"symlog (linear from 0 to 1, logarithmic above); {_sample_note(count, total)}."
    )
    return _Chart("chart-scatter", "Minutes watched vs CLV", caption, _png(figure))


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
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
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


def _chart_segments(
    sample: dict[str, np.ndarray],
    total: int,
    profiles: list[dict[str, Any]],
    centroids: list[dict[str, Any]],
) -> _Chart:
    count = len(sample["customer_id"])
    colours = _segment_colours([row["segment_id"] for row in profiles])
    figure = Figure(figsize=(10, 6.2 + 0.22 * len(profiles)), layout="constrained")
    ax = figure.add_subplot()
    handles, labels = [], []
    for row in profiles:
        sid = row["segment_id"]
        chosen = sample["segment_id"] == sid
        ax.scatter(
            sample["minutes_watched"][chosen],
            sample["customer_lifetime_value"][chosen],
            s=7,
            alpha=0.55 if count <= 5_000 else 0.35,
            color=colours[sid],
            linewidths=0,
            rasterized=True,
        )
        handles.append(
            Line2D([], [], marker="o", linestyle="none", color=colours[sid], markersize=7)
        )
        labels.append(f"{sid} · {row['segment_name']} ({row['count_customers']:,} customers)")
    centre = {}
    for row in centroids:
        if row["feature_name"] in ("minutes_watched", "customer_lifetime_value"):
            centre.setdefault(row["segment_id"], {})[row["feature_name"]] = row["centroid_original"]
    for sid, values in centre.items():
        if len(values) == 2 and sid in colours:
            ax.scatter(
                max(values["minutes_watched"], 0.0),
                values["customer_lifetime_value"],
                marker="X",
                s=150,
                color=colours[sid],
                edgecolors="black",
                linewidths=1.2,
                zorder=5,
            )
    if centre:
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                linestyle="none",
                color="white",
                markeredgecolor="black",
                markersize=10,
            )
        )
        labels.append("segment centroid (k-means, original units)")
    _minutes_axis(ax)
    ax.set_title("Segments: minutes watched vs customer lifetime value")
    longest = max((len(label) for label in labels), default=0)
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=1 if longest > 62 else 2,
        fontsize=8.5,
        handletextpad=0.3,
    )
    caption = (
        "The scatter above coloured by k-means segment (legend: id · name · customers); "
        f"{_sample_note(count, total)}."
    )
    return _Chart("chart-segments", "Segments", caption, _png(figure))


def _chart_profiles(profiles: list[dict[str, Any]]) -> _Chart:
    colours = _segment_colours([row["segment_id"] for row in profiles])
    names = [_wrap(f"{row['segment_id']} · {row['segment_name']}", 34) for row in profiles]
    lines = max((name.count("\n") + 1 for name in names), default=1)
    height = max(3.5, 0.34 * lines * len(profiles) + 1.6)
    figure = Figure(figsize=(12.5, height), layout="constrained")
    axes = figure.subplots(1, 3, sharey=True)
    y = np.arange(len(profiles))
    bar_colours = [colours[row["segment_id"]] for row in profiles]
    clv = "customer_lifetime_value"
    panels = (
        ("mean customer lifetime value  (| median)", f"avg_{clv}", f"median_{clv}", "{:,.2f}"),
        (
            "mean minutes watched  (| median)",
            "avg_minutes_watched",
            "median_minutes_watched",
            "{:,.0f}",
        ),
        ("customers", "count_customers", None, "{:,.0f}"),
    )
    for ax, (title, column, median, template) in zip(axes, panels, strict=True):
        values = np.array([float(row[column] or 0) for row in profiles])
        ax.barh(y, values, color=bar_colours, height=0.7)
        medians = np.array([float(row[median] or 0) if median else 0.0 for row in profiles])
        if median:
            ax.scatter(medians, y, marker="|", s=160, color="black", linewidths=1.6, zorder=4)
        right = np.maximum(values, medians)
        for position, (value, row) in enumerate(zip(values, profiles, strict=True)):
            text = template.format(value)
            if column == "count_customers":
                text += f" ({row['share_of_customers']:.1%})"
            ax.text(right[position], position, f"  {text}", va="center", fontsize=8)
        ax.set_xlim(0, (right.max() if len(right) else 1) * 1.35 or 1)
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="y", length=0)
    axes[0].set_yticks(y, names, fontsize=8.5)
    axes[0].invert_yaxis()
    figure.suptitle("Segment profiles", fontweight="bold", fontsize=11)
    caption = (
        "Per segment (marts.segment_profiles): mean customer lifetime value and mean minutes "
        "watched (black tick: median), and the number of customers with their share."
    )
    return _Chart("chart-profiles", "Segment profiles", caption, _png(figure))


def _region_channel_grid(
    summary: list[dict[str, Any]],
) -> tuple[list[tuple[int, str]], list[tuple[int, str]], dict[tuple[Any, Any], dict[str, Any]]]:
    """Regions, channels and cells keyed (region_code | None, channel_code | None)."""
    cells: dict[tuple[Any, Any], dict[str, Any]] = {}
    regions: dict[int, str] = {}
    channels: dict[int, str] = {}
    for row in summary:
        level = row["grouping_level"]
        if level == "region_channel":
            regions[row["region_code"]] = row["region_name"]
            channels[row["channel_code"]] = row["channel_name"]
            cells[(row["region_code"], row["channel_code"])] = row
        elif level == "region":
            cells[(row["region_code"], None)] = row
        elif level == "channel":
            cells[(None, row["channel_code"])] = row
        elif level == "overall":
            cells[(None, None)] = row
    return sorted(regions.items()), sorted(channels.items()), cells


def _chart_channels(summary: list[dict[str, Any]]) -> _Chart:
    regions, channels, cells = _region_channel_grid(summary)
    figure = Figure(figsize=(10, 5.6), layout="constrained")
    ax = figure.add_subplot()
    cmap = matplotlib.colormaps[_REGION_COLOURS]
    width = 0.8 / max(len(regions), 1)
    x = np.arange(len(channels))
    for position, (region_code, region_name) in enumerate(regions):
        values = [
            cells.get((region_code, code), {}).get("avg_customer_lifetime_value")
            for code, _ in channels
        ]
        ax.bar(
            x - 0.4 + width * (position + 0.5),
            [np.nan if value is None else value for value in values],
            width=width * 0.95,
            color=cmap(position % cmap.N),
            label=region_name,
        )
    overall = cells.get((None, None), {}).get("avg_customer_lifetime_value")
    if overall is not None:
        ax.axhline(
            overall,
            color="#444444",
            linestyle="--",
            linewidth=1,
            label=f"all customers ({overall:,.2f})",
        )
    ax.set_xticks(x, [name for _, name in channels])
    ax.set_ylabel("mean customer lifetime value")
    ax.set_xlabel("acquisition channel")
    ax.set_title("Mean customer lifetime value by channel and region")
    figure.legend(
        *ax.get_legend_handles_labels(),
        loc="outside lower center",
        ncol=min(len(regions) + 1, 4),
        fontsize=8.5,
    )
    caption = (
        "Mean customer lifetime value per customer for every channel, one bar per region "
        "(marts.customer_value_summary, region_channel rows); the dashed line is the mean over "
        "all customers. Counts are in the region × channel table below."
    )
    return _Chart("chart-channels", "CLV by channel and region", caption, _png(figure))


# --------------------------------------------------------------------------------------------
# HTML


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _number(value: Any, template: str) -> str:
    return "–" if value is None else template.format(value)


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


def _table_profiles(profiles: list[dict[str, Any]]) -> str:
    colours = _segment_colours([row["segment_id"] for row in profiles])
    head = (
        "<tr><th>id</th><th>segment</th><th class=num>customers</th><th class=num>share</th>"
        "<th class=num>mean CLV</th><th class=num>median CLV</th><th class=num>share of CLV</th>"
        "<th class=num>mean minutes</th><th class=num>median minutes</th>"
        "<th>dominant region</th><th>dominant channel</th></tr>"
    )
    body = []
    for row in profiles:
        swatch = matplotlib.colors.to_hex(colours[row["segment_id"]])
        body.append(
            "<tr>"
            f"<td class=num>{_e(row['segment_id'])}</td>"
            f'<td><span class=swatch style="background:{swatch}"></span>'
            f"{_e(row['segment_name'])}</td>"
            f"<td class=num>{_number(row['count_customers'], '{:,}')}</td>"
            f"<td class=num>{_number(row['share_of_customers'], '{:.1%}')}</td>"
            f"<td class=num>{_number(row['avg_customer_lifetime_value'], '{:,.2f}')}</td>"
            f"<td class=num>{_number(row['median_customer_lifetime_value'], '{:,.2f}')}</td>"
            f"<td class=num>{_number(row['share_of_customer_lifetime_value'], '{:.1%}')}</td>"
            f"<td class=num>{_number(row['avg_minutes_watched'], '{:,.0f}')}</td>"
            f"<td class=num>{_number(row['median_minutes_watched'], '{:,.0f}')}</td>"
            f"<td>{_e(row['dominant_region_name'])} "
            f"<small>({_number(row.get('share_in_dominant_region'), '{:.0%}')})</small></td>"
            f"<td>{_e(row['dominant_channel_name'])} "
            f"<small>({_number(row.get('share_in_dominant_channel'), '{:.0%}')})</small></td>"
            "</tr>"
        )
    rows = "".join(body)
    return f'<table id="table-profiles"><thead>{head}</thead><tbody>{rows}</tbody></table>'


def _table_region_channel(summary: list[dict[str, Any]]) -> str:
    regions, channels, cells = _region_channel_grid(summary)

    def cell(key: tuple[Any, Any], total: bool = False) -> str:
        row = cells.get(key)
        if row is None:
            return "<td class=num>–</td>"
        mean = _number(row["avg_customer_lifetime_value"], "{:,.2f}")
        count = _number(row["count_customers"], "{:,}")
        css = "num total" if total else "num"
        return f"<td class='{css}'>{mean}<br><small>n = {count}</small></td>"

    head = "".join(f"<th class=num>{_e(name)}</th>" for _, name in channels)
    body = []
    for code, name in regions:
        cells_html = "".join(cell((code, channel)) for channel, _ in channels)
        body.append(f"<tr><th>{_e(name)}</th>{cells_html}{cell((code, None), True)}</tr>")
    totals = "".join(cell((None, channel), True) for channel, _ in channels)
    body.append(f"<tr><th>all regions</th>{totals}{cell((None, None), True)}</tr>")
    return (
        '<table id="table-region-channel"><thead><tr><th>region \\ channel</th>'
        f"{head}<th class=num>all channels</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


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
.meta { color: #4a5568; margin: 4px 0; font-size: 0.95rem; }
.meta code { background: #edf2f7; padding: 1px 4px; border-radius: 3px; }
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
td.total { background: #f7fafc; font-weight: 600; }
small { color: #718096; font-weight: normal; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; }
table.keyvalue { width: auto; }
table.keyvalue th { background: #f7fafc; font-weight: 600; white-space: nowrap; }
table.keyvalue td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                    word-break: break-word; }
footer { color: #718096; font-size: 0.8rem; margin-top: 30px; }
"""


def _figure_html(chart: _Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure id="{chart.chart_id}">'
        f'<img src="data:image/png;base64,{data}" alt="{_e(chart.title)}">'
        f"<figcaption>{_e(chart.caption)}</figcaption></figure>"
    )


def _page(
    database: Path,
    run: dict[str, Any],
    charts: dict[str, _Chart],
    tables: dict[str, str],
    profiles: list[dict[str, Any]],
) -> str:
    started = _value(run.get("run_started_at"))
    silhouette = run.get("silhouette")
    facts = [
        (_number(run.get("count_input_rows"), "{:,}"), "input rows"),
        (_number(run.get("count_segmented_rows"), "{:,}"), "customers segmented"),
        (_number(run.get("count_rejected_rows"), "{:,}"), "rows rejected"),
        (str(len(profiles)), f"segments (k rule: {run.get('k_rule')})"),
        (_number(silhouette, "{:.3f}"), "silhouette"),
    ]
    fact_html = "".join(
        f"<div class=fact><b>{_e(v)}</b><span>{_e(t)}</span></div>" for v, t in facts
    )
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
<div class=facts>{fact_html}</div>
</header>

<h2>The data</h2>
{_figure_html(charts["chart-correlation"])}
{_figure_html(charts["chart-scatter"])}

<h2>Choosing the number of segments</h2>
{_figure_html(charts["chart-elbow"])}
{_figure_html(charts["chart-dendrogram"])}

<h2>The segments</h2>
{_figure_html(charts["chart-segments"])}
{_figure_html(charts["chart-profiles"])}
{tables["table-profiles"]}

<h2>Customer value by region and channel</h2>
{_figure_html(charts["chart-channels"])}
<p class=meta>Mean customer lifetime value (n = customers) per region and channel.</p>
{tables["table-region-channel"]}

<h2>Run</h2>
<p class=meta>The newest row of marts.segmentation_runs.</p>
{tables["table-run"]}

<footer>Generated {_e(generated)} from <code>{_e(database)}</code> (schema marts) by
customer_segmentation.report.</footer>
</main>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Entry points


def render_report(database: str | Path, out: str | Path = DEFAULT_OUT) -> ReportResult:
    """Render the segmentation report of a built database into one self-contained HTML file.

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
            run = _latest_run(con)
            profiles = _records(con, "select * from marts.segment_profiles order by segment_id")
            diagnostics = _records(con, "select * from marts.segment_k_diagnostics order by k")
            summary = _records(con, "select * from marts.customer_value_summary")
            centroids = _records(
                con,
                "select segment_id, feature_name, centroid_original from marts.segment_centroids",
            )
            sample, total = _scatter_sample(con)
            if total == 0:
                raise ReportError(f"{database}: marts.customer_segments is empty")
            k = int(run["k"]) if run.get("k") is not None else len(profiles)
            charts = [
                _chart_correlation(con),
                _chart_scatter(sample, total),
                _chart_dendrogram(con, k),
                _chart_elbow(diagnostics, run),
                _chart_segments(sample, total, profiles, centroids),
                _chart_profiles(profiles),
                _chart_channels(summary),
            ]
    except (duckdb.CatalogException, duckdb.BinderException) as error:
        raise ReportError(
            f"{database}: the marts do not have the expected columns ({error}); "
            "rebuild with `make demo` (or `dbt build`)"
        ) from error
    finally:
        con.close()
    by_id = {chart.chart_id: chart for chart in charts}
    tables = {
        "table-profiles": _table_profiles(profiles),
        "table-region-channel": _table_region_channel(summary),
        "table-run": _table_run(run),
    }
    page = _page(database, run, by_id, tables, profiles)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out)
    return ReportResult(
        path=out,
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - started,
        chart_ids=[chart_id for chart_id in CHART_IDS if chart_id in by_id],
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
