"""The lifecycle charts: segment stability (bootstrap Jaccard), the migration of customers
between the last two runs, and the drift figures against their thresholds (also a table)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from matplotlib.figure import Figure

from customer_segmentation.report import drawing as d
from customer_segmentation.stability import DOUBTFUL_JACCARD, STABLE_JACCARD

PASS_COLOUR = "#4c9f70"
WARN_COLOUR = "#e08a2c"
NEW, GONE = "new", "gone"


class DriftCheck(NamedTuple):
    """One drift figure of segment_drift against its threshold: ``bound`` ``min`` (the figure
    must be at least the threshold) or ``max`` (at most); ``status`` ``pass``, ``warn`` or
    ``n/a`` (nothing to compare, or no threshold)."""

    label: str
    column: str
    value: float | None
    threshold: float | None
    bound: str

    @property
    def status(self) -> str:
        if self.value is None or self.threshold is None:
            return "n/a"
        inside = (
            self.value >= self.threshold if self.bound == "min" else self.value <= self.threshold
        )
        return "pass" if inside else "warn"


#: (label, segment_drift column, its threshold column, bound), in the order the page shows.
DRIFT_FIGURES = (
    ("adjusted Rand index", "adjusted_rand_index", "min_ari_threshold", "min"),
    ("max centroid shift (z)", "max_centroid_shift_z", "max_centroid_shift_threshold", "max"),
    ("population stability index", "population_stability_index", "max_psi_threshold", "max"),
)


def drift_checks(drift: dict[str, Any]) -> list[DriftCheck]:
    """The three drift figures of one segment_drift row with the thresholds the run recorded
    (None for a database built before they were recorded)."""
    return [
        DriftCheck(label, column, drift.get(column), drift.get(threshold), bound)
        for label, column, threshold, bound in DRIFT_FIGURES
    ]


def migration_matrix(
    transitions: list[dict[str, Any]],
) -> tuple[list[str], list[str], np.ndarray]:
    """(row labels, column labels, counts) of segment_transitions cells: rows are the
    previous run's segment ids then ``new``, columns this run's ids then ``gone``."""
    before = sorted({t["from_segment_id"] for t in transitions} - {None})
    after = sorted({t["to_segment_id"] for t in transitions} - {None})
    rows = {sid: i for i, sid in enumerate(before)} | {None: len(before)}
    cols = {sid: j for j, sid in enumerate(after)} | {None: len(after)}
    counts = np.zeros((len(rows), len(cols)))
    for t in transitions:
        counts[rows[t["from_segment_id"]], cols[t["to_segment_id"]]] += t["count_customers"]
    return [str(s) for s in before] + [NEW], [str(s) for s in after] + [GONE], counts


def migration_chart(transitions: list[dict[str, Any]]) -> d.Chart:
    """Heatmap of where each previous segment's customers went (row shares), new customers
    as the last row and gone customers as the last column."""
    row_labels, col_labels, counts = migration_matrix(transitions)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    figure = Figure(figsize=(1.6 + 0.62 * len(col_labels), 1.2 + 0.48 * len(row_labels)))
    ax = figure.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    texts = [[f"{v:.0%}" if v >= 0.005 else "" for v in row] for row in shares]
    colours = [["white" if v > 0.6 else "black" for v in row] for row in shares]
    d.annotate_cells(ax, texts, colours, fontsize=7.5)
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel("segment in this run")
    ax.set_ylabel("segment in the previous run")
    d.heatmap_axes(ax)
    ax.set_title("Where customers went since the previous run")
    figure.tight_layout()
    moved = sum(
        t["count_customers"]
        for t in transitions
        if None not in (t["from_segment_id"], t["to_segment_id"])
        and t["from_segment_id"] != t["to_segment_id"]
    )
    caption = (
        "Each row is a segment of the previous run (marts.segment_transitions): the share of "
        "its customers now in each segment of this run, or gone (last column); the last row "
        f"spreads the {int(counts[-1].sum()):,} new customers. {int(moved):,} customers of "
        "both runs changed segment id."
    )
    return d.Chart("chart-migration", "Migration between the last two runs", caption, d.png(figure))


def stability_chart(profiles: list[dict[str, Any]], run: dict[str, Any]) -> d.Chart | None:
    """Horizontal bars of each segment's bootstrap Jaccard with the clusterboot guide lines;
    None when the step was off (no figures)."""
    values = d.column(profiles, "bootstrap_jaccard")
    if not np.isfinite(values).any():
        return None
    figure = Figure(figsize=(7.5, 0.9 + 0.42 * len(profiles)))
    ax = figure.subplots()
    d.segment_bars(ax, profiles, np.nan_to_num(values))
    for position, value in enumerate(values):
        if np.isfinite(value):
            ax.text(value + 0.01, position, f"{value:.2f}", va="center", fontsize=8)
    for level, style in ((STABLE_JACCARD, "--"), (DOUBTFUL_JACCARD, ":")):
        ax.axvline(level, color=d.REFERENCE, linestyle=style, linewidth=1)
    ax.set_yticks(range(len(profiles)), [d.segment_label(r, 38) for r in profiles])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("mean Jaccard with the best-matching refit cluster")
    ax.set_title("Segment stability (bootstrap)")
    figure.tight_layout()
    size = d.number(run.get("bootstrap_sample_size"), "{:,}")
    caption = (
        f"Per segment (marts.segment_profiles.bootstrap_jaccard): over "
        f"{run.get('bootstrap_resamples')} resamples of {size} "
        f"customers drawn with replacement and refitted by k-means at k = {run.get('k')} "
        f"(each from the run's centroids and {run.get('bootstrap_n_init')} k-means++ restarts, "
        f"the lower WCSS), the mean Jaccard of the segment with "
        f"its best-matching refit cluster. Dashed line {STABLE_JACCARD}: usually read as "
        f"stable above; dotted line {DOUBTFUL_JACCARD}: doubtful below. Mean ARI of the "
        f"refits {d.number(run.get('bootstrap_mean_ari'), '{:.3f}')}."
    )
    return d.Chart("chart-stability", "Segment stability", caption, d.png(figure))


def drift_chart(checks: list[DriftCheck]) -> d.Chart:
    """One small panel per drift figure: its value as a bar (green pass, orange warn) and
    the threshold as a dashed line."""
    figure = Figure(figsize=(9, 2.6))
    axes = figure.subplots(1, len(checks))
    for ax, check in zip(axes, checks, strict=True):
        value = 0.0 if check.value is None else check.value
        colour = WARN_COLOUR if check.status == "warn" else PASS_COLOUR
        ax.bar([0], [value], color=colour, width=0.6)
        if check.threshold is not None:
            ax.axhline(check.threshold, color=d.REFERENCE, linestyle="--", linewidth=1)
        top = max(value, check.threshold or 0.0, 1e-3) * 1.3
        ax.set_ylim(min(0.0, value * 1.3), top)
        ax.set_xticks([])
        ax.set_title(d.wrap(check.label, 22), fontsize=9.5)
        ax.text(0, value, f"{value:.3f}\n{check.status}", ha="center", va="bottom", fontsize=8)
    figure.tight_layout()
    caption = (
        "This run against the previous one (marts.segment_drift): the adjusted Rand index on "
        "the customers of both runs must stay at or above its threshold, the largest centroid "
        "shift of a continuing segment and the population stability index of segment shares "
        "at or below theirs (dashed lines: vars drift_min_ari, drift_max_centroid_shift, "
        "drift_max_psi as the run recorded them). Orange: beyond the threshold (warn)."
    )
    return d.Chart("chart-drift", "Drift against thresholds", caption, d.png(figure))
