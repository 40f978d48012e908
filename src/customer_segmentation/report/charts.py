"""The charts of the measures, the segments and the choice of k: one function each, from plain
records and arrays (:mod:`.reading`) to a :class:`~.drawing.Chart`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from customer_segmentation.features import Feature, FeatureSet
from customer_segmentation.report import drawing as d
from customer_segmentation.report.reading import (
    Z_OUTLIER_LIMIT,
    Dendrogram,
    MeasureStats,
    fit_moments,
    outlier_mask,
)
from customer_segmentation.scaling import column_z_scores

#: Measures drawn in the per-measure panels (bars, box plots): the first ones in report order.
MAX_MEASURE_PANELS = 6
DENDROGRAM_LEAVES = 30
_WCSS, _SILHOUETTE, _CHOSEN, _FLAG_FACE = "#2b6cb0", "#dd6b20", "#2f855a", "#f6e05e"


def correlation(labels: list[str], matrix: np.ndarray, features: FeatureSet) -> d.Chart:
    """Heatmap of the (p, p) feature correlations of :func:`.reading.correlation_matrix`."""
    size = len(labels)
    side = float(np.clip(2.6 + 0.6 * size, 5.5, 10.0))
    figure, ax = d.figure_axes(side + 1.2, side * 0.84)
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=d.DIVERGING, vmin=-1, vmax=1)
    ax.set_xticks(range(size), labels, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(size), labels)
    d.heatmap_axes(ax)
    texts = [
        ["–" if np.isnan(v) else f"{v:.2f}".replace("-0.00", "0.00") for v in r] for r in matrix
    ]
    colours = [["white" if abs(np.nan_to_num(v)) > 0.6 else "#222222" for v in r] for r in matrix]
    d.annotate_cells(ax, texts, colours, fontsize=8 if size <= 16 else 6)
    figure.colorbar(image, ax=ax, shrink=0.75, label="Pearson correlation")
    ax.set_title("Correlation of the segmentation features")
    caption = _correlation_caption(features, labels, matrix)
    return d.Chart("chart-correlation", "Feature correlations", caption, d.png(figure))


def _correlation_caption(features: FeatureSet, labels: list[str], matrix: np.ndarray) -> str:
    """What the correlation heatmap holds, what it leaves out, and its constant columns."""
    measures = features.measures  # fit order
    parts = [f"the measure{'s' if len(measures) > 1 else ''} ({d.label_list(measures)})"]
    if features.categoricals:
        parts.append(f"one 0/1 column per category of {d.label_list(features.categoricals)}")
    caption = (
        f"Pearson correlations of {' and '.join(parts)}, in fit order, computed in SQL "
        "(DuckDB corr) over every customer."
    )
    if features.categoricals:
        caption += (
            " One-hot columns of the same variable are negatively correlated by construction."
        )
    if features.code_labels:
        caption += (
            f" Left out: {d.and_list(features.code_labels)} (a category's code used as a number)."
        )
    constant = [labels[i] for i in range(len(labels)) if np.isnan(matrix[i, i])]
    if constant:
        caption += f" Constant (grey, undefined): {', '.join(constant)}."
    return caption


def _label_axes(ax: Any, x: Feature, y: Feature, scales: dict[str, d.AxisScale]) -> None:
    for which, measure in (("x", x), ("y", y)):
        d.scale_axis(ax, which, scales[measure.name])
        symlog = scales[measure.name].kind == "symlog"
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(
            f"{measure.label} (symlog scale)" if symlog else measure.label
        )


def scatter(
    sample: dict[str, np.ndarray],
    total: int,
    x: Feature,
    y: Feature,
    scales: dict[str, d.AxisScale],
) -> d.Chart:
    """Each sampled customer: y (first measure in report order) against x (the second)."""
    count = len(sample["customer_id"])
    figure, ax = d.figure_axes(10, 5.6)
    alpha = 0.45 if count <= 5_000 else 0.25
    ax.scatter(
        sample[x.name],
        sample[y.name],
        s=7,
        alpha=alpha,
        color="#2b6cb0",
        linewidths=0,
        rasterized=True,
    )
    _label_axes(ax, x, y, scales)
    ax.set_title(f"{d.upper_first(x.label)} vs {y.label}")
    caption = (
        f"Each dot is a customer: {y.label} (y, the first measure in report order) against "
        f"{x.label} (x, the second), in original units"
    )
    symlog = d.symlog_labels((x, y), scales)
    if symlog:
        caption += (
            f"; {d.and_list(symlog)} {'is' if len(symlog) == 1 else 'are'} strongly skewed "
            f"(skewness > {d.SYMLOG_SKEWNESS:g}), so drawn on a symlog axis (linear near 0, "
            "logarithmic above)"
        )
    caption += f"; {d.sample_note(count, total)}."
    return d.Chart("chart-scatter", f"{x.label} vs {y.label}", caption, d.png(figure))


def segments(
    sample: dict[str, np.ndarray],
    total: int,
    profiles: list[dict[str, Any]],
    centroids: list[dict[str, Any]],
    x: Feature,
    y: Feature,
    scales: dict[str, d.AxisScale],
) -> d.Chart:
    """The segment scatter of y (first measure in report order) against x (the second), in
    original units, with the k-means centroids (``centroid_original``)."""
    centre = d.centroid_pairs(centroids, x.name, y.name, "centroid_original")
    # A log1p measure's centroid can sit a hair below 0 after expm1; clamp to the axis.
    low_x = 0.0 if scales[x.name].kind == "symlog" else -np.inf
    low_y = 0.0 if scales[y.name].kind == "symlog" else -np.inf
    clamped = {sid: (max(cx, low_x), max(cy, low_y)) for sid, (cx, cy) in centre.items()}
    xy = (sample[x.name], sample[y.name])
    figure, ax = d.segment_scatter(profiles, sample["segment_id"], xy, clamped)
    _label_axes(ax, x, y, scales)
    ax.set_title(f"Segments: {x.label} vs {y.label}")
    caption = (
        f"The scatter above coloured by k-means segment (legend: id · name · customers), in "
        f"original units; crosses are the segment centroids; "
        f"{d.sample_note(len(sample['customer_id']), total)}."
    )
    return d.Chart("chart-segments", "Segments (original units)", caption, d.png(figure))


def segments_z(
    sample: dict[str, np.ndarray],
    total: int,
    profiles: list[dict[str, Any]],
    centroids: list[dict[str, Any]],
    x: Feature,
    y: Feature,
    all_outliers: int,
) -> d.Chart:
    """The segment scatter in z units (the space k-means works in), without the sampled
    customers beyond |z| > Z_OUTLIER_LIMIT on either axis; ``all_outliers`` is how many of
    all customers that rule matches. z uses the fit's mean and population std (after ln(1 + x)
    for a log1p feature)."""
    moments = fit_moments(centroids)
    z = np.column_stack(
        [column_z_scores(sample[m.name], *moments[m.name], m.transform) for m in (x, y)]
    )
    dropped = outlier_mask(z)
    centre = d.centroid_pairs(centroids, x.name, y.name, "centroid_z")
    figure, ax = d.segment_scatter(
        profiles, sample["segment_id"], (z[:, 0], z[:, 1]), centre, ~dropped
    )
    ax.axhline(0, color="#cbd5e0", linewidth=0.8, zorder=0)
    ax.axvline(0, color="#cbd5e0", linewidth=0.8, zorder=0)
    ax.set_xlabel(f"{x.label} (z)" + (", log1p" if x.transform == "log1p" else ""))
    ax.set_ylabel(f"{y.label} (z)" + (", log1p" if y.transform == "log1p" else ""))
    ax.set_title(f"Segments in z units: {x.label} vs {y.label} (|z| ≤ {Z_OUTLIER_LIMIT:g})")
    count, removed = len(z), int(dropped.sum())
    caption = (
        "The segment scatter in z units, the standardised space k-means works in: z = (x − "
        "mean) / std with the fit's mean and population std (after ln(1 + x) for log1p "
        f"features); crosses are the centroids (centroid_z). Outlier rule: customers with "
        f"|z| > {Z_OUTLIER_LIMIT:g} on either axis are dropped: {removed:,} of the "
        f"{count:,} sampled customers ({removed / count if count else 0.0:.1%})"
    )
    if count < total:
        caption += f"; {all_outliers:,} of all {total:,} customers match the rule"
    caption += f"; {d.sample_note(count, total)}."
    return d.Chart("chart-segments-z", "Segments (z units)", caption, d.png(figure))


def _finish_panel(ax: Any, values: np.ndarray, title: str) -> None:
    """x limits from 0 (or the most negative of ``values``) to the largest plus room for the
    labels, at most five ticks, the title, no y tick marks."""
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 1.0
    low = float(finite.min()) if finite.size else 0.0
    right, left = (high * 1.35 if high > 0 else 1.0), min(0.0, low * 1.15)
    ax.set_xlim(left, right if right > left else left + 1.0)
    d.scale_axis(ax, "x", d.AxisScale(), ticks=5)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", length=0)


def _mean_panel(
    ax: Any, profiles: list[dict[str, Any]], measure: Feature, stats: MeasureStats
) -> None:
    """Segment means of one measure as bars, medians as ticks, the overall mean dashed."""
    y = np.arange(len(profiles))
    means = d.column(profiles, f"avg_{measure.name}")
    medians = d.column(profiles, f"median_{measure.name}")
    template = d.number_template(stats.mean)
    d.segment_bars(ax, profiles, np.nan_to_num(means), height=0.7)
    ax.scatter(medians, y, marker="|", s=160, color="black", linewidths=1.6, zorder=4)
    ax.axvline(stats.mean, color=d.REFERENCE, linestyle="--", linewidth=1, zorder=3)
    right = np.nan_to_num(np.fmax(means, medians))
    for position, value in enumerate(means):
        if np.isfinite(value):
            ax.text(
                right[position], position, f"  {template.format(value)}", va="center", fontsize=8
            )
    limits = np.concatenate([means, medians, [stats.mean]])
    _finish_panel(ax, limits, d.wrap(d.mean_of(measure.label), 40))


def profiles_chart(
    profiles: list[dict[str, Any]],
    measures: Sequence[Feature],
    stats: dict[str, MeasureStats],
) -> d.Chart:
    """Side-by-side horizontal bars: one panel per measure (mean per segment, black tick at
    the median, dashed line at the mean over all customers) and one of segment sizes."""
    shown = list(measures[:MAX_MEASURE_PANELS])
    figure, axes = d.panel_grid(len(shown) + 1, profiles)
    for ax, measure in zip(axes, shown, strict=False):
        _mean_panel(ax, profiles, measure, stats[measure.name])
    sizes, counts = axes[len(shown)], np.nan_to_num(d.column(profiles, "count_customers"))
    d.segment_bars(sizes, profiles, counts, height=0.7)
    for position, row in enumerate(profiles):
        text = f"  {row['count_customers']:,} ({row['share_of_customers']:.1%})"
        sizes.text(counts[position], position, text, va="center", fontsize=8)
    _finish_panel(sizes, counts, "customers")
    figure.suptitle("Segment profiles: mean of each measure", fontweight="bold", fontsize=11)
    figure.legend(
        handles=[
            Line2D([], [], marker="|", linestyle="none", color="black", ms=10, mew=1.6),
            Line2D([], [], color=d.REFERENCE, linestyle="--", linewidth=1),
        ],
        labels=["median of the segment", "mean over all customers"],
        loc="outside lower center",
        ncol=2,
        fontsize=8.5,
    )
    caption = (
        "Per segment (marts.segment_profiles), one panel per measure in report order "
        f"({d.label_list(shown)}): the bar is the segment's mean, the black "
        "tick its median and the dashed line the mean over all customers; the last panel is "
        "the number of customers with their share."
    )
    if len(measures) > len(shown):
        caption += f" {len(measures) - len(shown)} further measures are in the table below."
    return d.Chart("chart-profiles", "Segment profiles", caption, d.png(figure))


def _drawable_boxes(
    per_segment: dict[int, dict[str, Any]], profiles: list[dict[str, Any]]
) -> list[tuple[int, int, dict[str, Any]]]:
    """(position, segment id, box) of the segments whose box has a median and whiskers."""
    return [
        (position, row["segment_id"], per_segment[row["segment_id"]])
        for position, row in enumerate(profiles)
        if per_segment.get(row["segment_id"], {}).get("med") is not None
        and per_segment[row["segment_id"]]["whislo"] is not None
    ]


def _box_panel(
    ax: Any, per_segment: dict[int, dict[str, Any]], profiles: list[dict[str, Any]]
) -> float:
    """Horizontal Tukey boxes of one measure, one per segment with values (fliers not
    drawn); returns the share of customers beyond the whiskers."""
    colours = d.profile_colours(profiles)
    keys = ("q1", "med", "q3", "whislo", "whishi")
    drawn = _drawable_boxes(per_segment, profiles)
    if drawn:
        artists = ax.bxp(
            [{key: box[key] for key in keys} for _, _, box in drawn],
            positions=[position for position, _, _ in drawn],
            orientation="horizontal",
            widths=0.6,
            showfliers=False,
            patch_artist=True,
            manage_ticks=False,
            medianprops={"color": "black", "linewidth": 1.4},
            whiskerprops={"color": "#4a5568"},
            capprops={"color": "#4a5568"},
        )
        for patch, (_, sid, _) in zip(artists["boxes"], drawn, strict=True):
            patch.set_facecolor(colours[sid])
            patch.set_alpha(0.85)
    beyond = sum(int(box["beyond"]) for box in per_segment.values())
    counted = sum(int(box["count"]) for box in per_segment.values())
    return beyond / counted if counted else 0.0


def boxplots(
    boxes: dict[str, dict[int, dict[str, Any]]],
    profiles: list[dict[str, Any]],
    measures: Sequence[Feature],
    scales: dict[str, d.AxisScale],
) -> d.Chart:
    """One small panel per measure: a horizontal Tukey box per segment (segments on the y
    axis), whiskers at the furthest customer within 1.5 IQR; fliers are not drawn, each
    panel's title gives the share of customers beyond the whiskers."""
    shown = list(measures[:MAX_MEASURE_PANELS])
    figure, axes = d.panel_grid(len(shown), profiles)
    for ax, measure in zip(axes, shown, strict=True):
        share = _box_panel(ax, boxes[measure.name], profiles)
        d.scale_axis(ax, "x", scales[measure.name], ticks=6)
        title = d.wrap(measure.label, 40) + f"\n{share:.1%} of customers beyond the whiskers"
        ax.set_title(title, fontsize=9.5)
        if scales[measure.name].kind == "symlog":
            ax.set_xlabel("symlog scale", fontsize=8)
        ax.tick_params(axis="y", length=0)
    figure.suptitle("Distribution of each measure by segment", fontweight="bold", fontsize=11)
    caption = (
        "Box plots per segment over every customer, one panel per measure in report order "
        f"({d.label_list(shown)}), original units: the box spans the "
        "quartiles, the black line is the median and the whiskers reach the furthest customer "
        "within 1.5 × IQR of the box. Fliers (customers beyond the whiskers) are not drawn; "
        "each panel title gives their share. Quartiles are exact (DuckDB quantile_cont)."
    )
    symlog = d.symlog_labels(shown, scales)
    if symlog:
        caption += f" Symlog axis (skewness > {d.SYMLOG_SKEWNESS:g}): {d.and_list(symlog)}."
    if len(measures) > len(shown):
        caption += f" {len(measures) - len(shown)} further measures are not drawn."
    return d.Chart("chart-boxplots", "Measures by segment (box plots)", caption, d.png(figure))


def cut_height(merges: np.ndarray, k: int) -> float | None:
    """Height between the (n-k)th and (n-k+1)th merges: cutting there leaves k clusters."""
    leaves = merges.shape[0] + 1
    if k < 2 or k > leaves:
        return None
    heights = merges[:, 2]
    below = heights[leaves - k - 1] if leaves - k >= 1 else 0.0
    above = heights[leaves - k]
    return float((below + above) / 2)


def link_colours(merges: np.ndarray, cut: float | None) -> dict[int, str]:
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
            colours[node] = d.ABOVE_CUT
            continue
        parent = parents.get(node)
        if parent is None or colours[parent] == d.ABOVE_CUT:
            colours[node] = palette[clusters % len(palette)]
            clusters += 1
        else:
            colours[node] = colours[parent]
    return colours


def _draw_tree(ax: Any, tree: Dendrogram, k: int) -> float | None:
    """The truncated dendrogram coloured by Ward cluster, with the cut for ``k``; returns the
    cut height (None when k cannot be cut)."""
    from scipy.cluster.hierarchy import dendrogram

    leaves = tree.merges.shape[0] + 1
    exact = int(tree.customers[-1]) == leaves

    def leaf_label(node: int) -> str:
        if node >= leaves:
            return f"({int(tree.customers[node - leaves]):,})"
        return "(1)" if exact else f"leaf {node}"

    cut = cut_height(tree.merges, k)
    colours = link_colours(tree.merges, cut)
    dendrogram(
        tree.merges,
        truncate_mode="lastp",
        p=DENDROGRAM_LEAVES,
        link_color_func=lambda node: colours.get(node, d.ABOVE_CUT),
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
    return cut


def dendrogram_chart(tree: Dendrogram, k: int) -> d.Chart:
    """The Ward tree (marts.segment_dendrogram), truncated, cut into ``k`` clusters."""
    figure, ax = d.figure_axes(10, 5.4)
    title = f"Ward dendrogram (linkage: {tree.method or 'unknown'})"
    ax.set_title(title)
    if tree.method is None:
        ax.text(0.5, 0.5, "no merges: fewer than two leaves", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return d.Chart("chart-dendrogram", title, "The Ward tree is empty.", d.png(figure))
    cut = _draw_tree(ax, tree, k)
    leaves, customers = tree.merges.shape[0] + 1, int(tree.customers[-1])
    ax.set_ylabel("Ward merge height (standardised units)")
    ax.set_xlabel(f"last {min(DENDROGRAM_LEAVES, leaves)} branches (customers under each)")
    unit = "customers" if customers == leaves else "k-means micro-clusters (two-stage Ward)"
    caption = (
        f"Ward's hierarchical clustering of {customers:,} customers "
        f"({leaves:,} leaves: {unit}), truncated to the last {DENDROGRAM_LEAVES} merges. "
    )
    if cut is not None:
        caption += (
            f"The dashed line cuts the tree into k = {k} clusters (height {cut:,.2f}, between "
            f"merges {leaves - k:,} and {leaves - k + 1:,}); each colour is one Ward cluster (the "
            "ward_cluster column, a cross-check on the k-means segments; colours do not match "
            "the segment colours)."
        )
    return d.Chart("chart-dendrogram", "Ward dendrogram", caption, d.png(figure))


def _flag_points(
    axis: Any, diagnostics: list[dict[str, Any]], values: np.ndarray, flag: str, marker: str
) -> list[Line2D]:
    """Ring (``o``) or star (``*``) the k whose ``flag`` is set on ``axis``; returns the
    legend handle (none when nothing is flagged)."""
    flagged = [i for i, row in enumerate(diagnostics) if row.get(flag)]
    if not flagged:
        return []
    ks = [int(diagnostics[i]["k"]) for i in flagged]
    face = "none" if marker == "o" else _FLAG_FACE
    size = 260 if marker == "*" else 200
    axis.scatter(
        ks, values[flagged], s=size, marker=marker, facecolors=face, edgecolors="black", zorder=5
    )
    label = "elbow" if flag == "is_elbow" else "best silhouette"
    return [
        Line2D(
            [],
            [],
            marker=marker,
            linestyle="none",
            markersize=11,
            markerfacecolor=face,
            markeredgecolor="black",
            label=f"{label} (k = {', '.join(map(str, ks))})",
        )
    ]


def _chosen_note(ax: Any, ks: np.ndarray, chosen_k: int, reason: str) -> None:
    """The chosen k as a dotted line with its reason in a box, on the roomier side."""
    ax.axvline(chosen_k, color=_CHOSEN, linestyle=":", linewidth=2)
    right_half = len(ks) > 0 and chosen_k > (ks.min() + ks.max()) / 2
    ax.text(
        chosen_k + (-0.12 if right_half else 0.12),
        0.97,
        d.wrap(f"chosen k = {chosen_k}: {reason}" if reason else f"chosen k = {chosen_k}", 44),
        transform=ax.get_xaxis_transform(),
        ha="right" if right_half else "left",
        va="top",
        fontsize=9,
        color="#22543d",
        bbox={"facecolor": "white", "edgecolor": "#9ae6b4", "boxstyle": "round,pad=0.4"},
        zorder=6,
    )


def _chosen_k(diagnostics: list[dict[str, Any]], run: dict[str, Any]) -> tuple[int, str]:
    """The chosen k and its reason: the diagnostics row marked chosen, else the run's."""
    chosen = next((row for row in diagnostics if row["is_chosen"]), None)
    chosen_k = int(chosen["k"]) if chosen else int(run["k"])
    return chosen_k, (chosen or {}).get("choice_reason") or run.get("choice_reason") or ""


def elbow(diagnostics: list[dict[str, Any]], run: dict[str, Any]) -> d.Chart:
    """WCSS (left axis) and silhouette (right axis) per k, with the elbow, the best
    silhouette and the chosen k marked (marts.segment_k_diagnostics)."""
    ks = np.array([row["k"] for row in diagnostics], dtype=float)
    wcss, silhouette = d.column(diagnostics, "wcss"), d.column(diagnostics, "silhouette")
    chosen_k, reason = _chosen_k(diagnostics, run)
    figure, ax = d.figure_axes(10, 5.2)
    ax.plot(ks, wcss, "o-", color=_WCSS, label="WCSS (within-cluster sum of squares)")
    ax.set_xlabel("number of segments k")
    ax.set_ylabel("WCSS", color=_WCSS)
    ax.yaxis.set_major_formatter(FuncFormatter(d.tick))
    ax.set_xticks(ks)
    twin = ax.twinx()
    twin.spines["right"].set_visible(True)
    twin.plot(ks, silhouette, "s--", color=_SILHOUETTE, label="silhouette")
    twin.set_ylabel("silhouette", color=_SILHOUETTE)
    handles = [
        Line2D([], [], color=_WCSS, marker="o", label="WCSS"),
        Line2D([], [], color=_SILHOUETTE, marker="s", linestyle="--", label="silhouette"),
        *_flag_points(ax, diagnostics, wcss, "is_elbow", "o"),
        *_flag_points(twin, diagnostics, silhouette, "is_best_silhouette", "*"),
    ]
    _chosen_note(ax, ks, chosen_k, reason)
    handles.append(Line2D([], [], color=_CHOSEN, linestyle=":", linewidth=2, label="chosen k"))
    for axis in (ax, twin):
        low, high = axis.get_ylim()
        axis.set_ylim(low, high + 0.28 * (high - low))
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5)
    ax.set_title("Choosing k: WCSS (elbow) and silhouette")
    low, high = (int(ks.min()), int(ks.max())) if len(ks) else ("?", "?")
    caption = (
        f"k-means WCSS and silhouette for k = {low}..{high} (marts.segment_k_diagnostics). "
        f"k rule: {run.get('k_rule')}; chosen k = {chosen_k}" + (f" ({reason})." if reason else ".")
    )
    return d.Chart("chart-elbow", "Choosing k", caption, d.png(figure))
