"""How many k-means++ restarts (n_init) does the segmentation need?

For each feature preset (``case_study``, ``default``) and each k in 1..k_max, fits the project's
own ``fit_kmeans`` with every n_init in ``--n-init`` (random_state fixed) and compares its WCSS
with a best-known reference: the minimum WCSS over ``--reference-restarts`` independent
single-init runs (n_init=1, random_state=0..R-1). Prints markdown tables (and writes them to
``--out`` when given).

Run:  .venv/bin/python bench/n_init_study.py [--reference-restarts 2000] [--out report.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import sklearn

from customer_segmentation.clustering import fit_kmeans

DEFAULT_DATA = Path("/work/shared/data/customer_segmentation_data.csv")
REGIONS = (0, 1, 2)
CHANNELS = tuple(range(1, 9))
# Two fits count as reaching the same optimum when their WCSS agree to this relative tolerance
# (the same partition found from different seeds can differ in the last few bits).
SAME_WCSS_RTOL = 1e-9
# "Near-optimal": within this many percent of the reference. The n_init needed to get there
# with probability TARGET_PROB is estimated from the single-init runs, treated as independent.
NEAR_PCT = 0.1
TARGET_PROB = 0.99


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="customer CSV")
    parser.add_argument(
        "--n-init", type=int, nargs="+", default=[1, 10, 50, 200], help="n_init values to test"
    )
    parser.add_argument("--k-max", type=int, default=10, help="largest k (k runs 1..k_max)")
    parser.add_argument("--random-state", type=int, default=42, help="seed for the n_init fits")
    parser.add_argument(
        "--reference-restarts",
        type=int,
        default=2000,
        help="independent single-init runs (seeds 0..R-1) whose minimum WCSS is the reference",
    )
    parser.add_argument("--out", type=Path, default=None, help="optional markdown output file")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.n_init):
        parser.error("--n-init values must be >= 1")
    if args.k_max < 1:
        parser.error("--k-max must be >= 1")
    if args.reference_restarts < 1:
        parser.error("--reference-restarts must be >= 1")
    return args


def load_data(path: Path) -> pd.DataFrame:
    if not path.is_file():
        sys.exit(f"error: data file not found: {path} (pass --data PATH)")
    df = pd.read_csv(path)
    expected = ["minutes_watched", "CLV", "region", "channel"]
    if list(df.columns) != expected:
        sys.exit(f"error: {path} has columns {list(df.columns)}, expected {expected}")
    df["minutes_watched"] = df["minutes_watched"].fillna(0.0)
    if df[["CLV", "region", "channel"]].isna().any().any():
        sys.exit(f"error: {path} has blanks in CLV, region or channel")
    return df


def one_hots(values: pd.Series, codes: tuple[int, ...]) -> np.ndarray:
    return np.column_stack([(values.to_numpy() == c).astype(float) for c in codes])


def standardise(x: np.ndarray) -> np.ndarray:
    """Population-std z-scores per column: (x - mean) / std(ddof=0)."""
    std = x.std(axis=0, ddof=0)
    if np.any(std == 0):
        sys.exit("error: a feature column is constant; cannot standardise")
    return (x - x.mean(axis=0)) / std


def build_presets(df: pd.DataFrame) -> dict[str, tuple[list[str], np.ndarray]]:
    minutes = df["minutes_watched"].to_numpy(dtype=float)
    clv = df["CLV"].to_numpy(dtype=float)
    region = df["region"].to_numpy(dtype=float)
    ch = one_hots(df["channel"], CHANNELS)
    rg = one_hots(df["region"], REGIONS)
    ch_names = [f"channel_{c}" for c in CHANNELS]
    rg_names = [f"region_{r}" for r in REGIONS]
    case_study = np.column_stack([minutes, clv, region, ch, rg])
    default = np.column_stack([minutes, clv, rg, ch])
    return {
        "case_study": (
            ["minutes_watched", "CLV", "region"] + ch_names + rg_names,
            standardise(case_study),
        ),
        "default": (["minutes_watched", "CLV"] + rg_names + ch_names, standardise(default)),
    }


@dataclass
class KRow:
    k: int
    ref_wcss: float = np.inf
    ref_hits: int = 0
    ref_near: int = 0
    ref_seconds: float = 0.0
    wcss: dict[int, float] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    unconverged: list[str] = field(default_factory=list)


def timed_fit(z: np.ndarray, k: int, n_init: int, seed: int) -> tuple[float, float, bool]:
    t0 = time.perf_counter()
    res = fit_kmeans(z, k, n_init=n_init, random_state=seed)
    return res.wcss, time.perf_counter() - t0, res.converged


def study_preset(name: str, z: np.ndarray, args: argparse.Namespace) -> list[KRow]:
    rows = []
    for k in range(1, args.k_max + 1):
        row = KRow(k)
        for n in args.n_init:
            wcss, secs, conv = timed_fit(z, k, n, args.random_state)
            row.wcss[n], row.seconds[n] = wcss, secs
            if not conv:
                row.unconverged.append(f"n_init={n}")
        ref_runs = np.empty(args.reference_restarts)
        for seed in range(args.reference_restarts):
            ref_runs[seed], secs, conv = timed_fit(z, k, 1, seed)
            row.ref_seconds += secs
            if not conv:
                row.unconverged.append(f"ref seed {seed}")
        row.ref_wcss = float(ref_runs.min())
        row.ref_hits = int(np.sum(ref_runs <= row.ref_wcss * (1 + SAME_WCSS_RTOL)))
        row.ref_near = int(np.sum(ref_runs <= row.ref_wcss * (1 + NEAR_PCT / 100)))
        rows.append(row)
        print(
            f"  [{name}] k={k:2d} ref={row.ref_wcss:.4f} ({row.ref_seconds:.1f}s for "
            f"{args.reference_restarts} runs)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def gap_pct(wcss: float, ref: float) -> float:
    return (wcss - ref) / ref * 100.0


def n_init_needed(hits: int, runs: int) -> str:
    """Restarts for P(at least one of them hits) >= TARGET_PROB, if one run hits w.p. hits/runs."""
    p = hits / runs
    if p >= 1:
        return "1"
    n = int(np.ceil(np.log(1 - TARGET_PROB) / np.log1p(-p)))
    return f"~{n}"


def fmt_cell(wcss: float, ref: float) -> str:
    if abs(wcss - ref) <= SAME_WCSS_RTOL * ref:
        return f"{wcss:.2f} (=)"
    return f"{wcss:.2f} ({gap_pct(wcss, ref):+.3f}%)"


def preset_table(name: str, n_cols: int, rows: list[KRow], args: argparse.Namespace) -> str:
    r = args.reference_restarts
    head = [
        "k",
        f"reference WCSS (min of {r})",
        "single runs = ref",
        f"single runs <= {NEAR_PCT:g}%",
        f"n_init for {TARGET_PROB:.0%} <= {NEAR_PCT:g}%",
    ] + [f"n_init={n}" for n in args.n_init]
    lines = [f"### {name} ({n_cols} features)", ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---:"] * len(head)) + "|")
    for row in rows:
        cells = [
            str(row.k),
            f"{row.ref_wcss:.2f}",
            f"{row.ref_hits}/{r}",
            f"{row.ref_near}/{r}",
            n_init_needed(row.ref_near, r),
        ]
        cells += [fmt_cell(row.wcss[n], row.ref_wcss) for n in args.n_init]
        lines.append("| " + " | ".join(cells) + " |")
    total = ["**total s**", f"{sum(x.ref_seconds for x in rows):.2f}", "", "", ""]
    total += [f"{sum(x.seconds[n] for x in rows):.2f}" for n in args.n_init]
    lines.append("| " + " | ".join(total) + " |")
    lines.append("")
    misses = []
    for n in args.n_init:
        worst = max(rows, key=lambda x: gap_pct(x.wcss[n], x.ref_wcss))
        g = gap_pct(worst.wcss[n], worst.ref_wcss)
        beats = [x.k for x in rows if x.wcss[n] < x.ref_wcss * (1 - SAME_WCSS_RTOL)]
        exact = sum(abs(x.wcss[n] - x.ref_wcss) <= SAME_WCSS_RTOL * x.ref_wcss for x in rows)
        note = f"- n_init={n}: equals reference at {exact}/{len(rows)} k; worst gap {g:+.4f}%"
        note += f" (k={worst.k})"
        if beats:
            note += f"; BEATS the reference at k={beats}"
        misses.append(note)
    lines += misses
    unconv = [f"k={x.k}: {', '.join(x.unconverged)}" for x in rows if x.unconverged]
    if unconv:
        lines.append(f"- runs that hit max_iter: {'; '.join(unconv)}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    df = load_data(args.data)
    n = len(df)
    presets = build_presets(df)

    out = [
        "# k-means n_init study",
        "",
        f"- data: `{args.data}` ({n} rows, {int(df['minutes_watched'].eq(0).sum())} zero minutes)",
        f"- machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"os.cpu_count() = {os.cpu_count()}, Python {platform.python_version()}",
        f"- versions: scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, pandas {pd.__version__}",
        f"- fits: project `fit_kmeans` (k-means++, lloyd, max_iter=300); n_init fits use "
        f"random_state={args.random_state}; reference = min WCSS over "
        f"{args.reference_restarts} n_init=1 runs, random_state=0..{args.reference_restarts - 1}",
        "- cell = WCSS (gap to reference, %); (=) means equal to the reference within "
        f"{SAME_WCSS_RTOL:g} relative; 'single runs' columns count the reference's n_init=1 runs "
        f"that reach the reference / come within {NEAR_PCT:g}% of it; the n_init estimate "
        f"assumes independent restarts",
        "- sklearn draws the n_init inits in sequence from one RandomState, so with a fixed "
        "random_state the n_init columns are nested (n_init=200 contains the n_init=50 inits)",
        "",
        "## k = 1 sanity check (WCSS must equal n_features x n_rows)",
        "",
    ]
    ok = True
    for name, (cols, z) in presets.items():
        expected = float(z.shape[1] * n)
        got = fit_kmeans(z, 1, n_init=1, random_state=args.random_state).wcss
        passed = abs(got - expected) <= 1e-6 * expected
        ok &= passed
        out.append(
            f"- {name}: {z.shape[1]} columns [{', '.join(cols)}]; WCSS(k=1) = {got:.6f}, "
            f"expected {expected:.0f} -> {'OK' if passed else 'FAIL'}"
        )
    print("\n".join(out), flush=True)
    if not ok:
        sys.exit("error: k=1 WCSS check failed; the feature matrices are not as specified")

    sections = [""]
    for name, (cols, z) in presets.items():
        t0 = time.perf_counter()
        rows = study_preset(name, z, args)
        print(f"  [{name}] done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
        table = preset_table(name, len(cols), rows, args)
        print("\n" + table, flush=True)
        sections.append(table)

    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(out + sections) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
