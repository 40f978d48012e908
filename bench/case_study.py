"""Bench section e: the case-study file with default settings vs the notebook, in one run.

Rows (issue 16, goals 1 and 2), each a ratio to the notebook baseline measured in the same
run (``bench/notebook_baseline.py`` on the real file, n_init 10, the faster of default threads
and one thread, median of ``--repeat`` runs):

- ``dbt build --vars '{input_path: <real file>, preset: case_study}'`` (default settings);
  target within 3x; the WCSS it reaches at k = 1..10 against the best known, and the
  k-means++ restarts each k used (from ``best_from``);
- the three steps of ``make demo`` (dbt build on the demo seed, publish, summary), each in a
  scratch folder, timed one by one; target within 3x.

Run alone:  .venv/bin/python bench/case_study.py [--repeat N] [--work-dir DIR]
(``bench/run.py --sections e`` runs it inside the full report.)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import duckdb

from customer_segmentation.timing import run_steps

#: Best-known WCSS at k = 1..10 on the real file, case_study preset (14 features).
BEST_KNOWN_WCSS = (
    53676.0,
    42974.37,
    37750.25,
    34003.79,
    30950.40,
    27962.72,
    25050.05,
    22288.45,
    19524.30,
    17248.27,
)
TARGET_RATIO = 3.0
NOTEBOOK_N_INIT = 10
_RESTARTS = re.compile(r"(\d+) (?:k-means\+\+ )?restarts")


def notebook_wall(bench: ModuleType, work: Path, repeats: int) -> tuple[float, str, list[float]]:
    """Median wall of the notebook process at n_init 10, the faster thread setting."""
    walls: dict[str, list[float]] = {"default threads": [], "1 thread": []}
    for _ in range(repeats):
        for label, threads in (("default threads", None), ("1 thread", 1)):
            result = bench.run_baseline_process(
                bench.REAL_DATA, work / "baseline_e", NOTEBOOK_N_INIT, bench.K_MAX, threads
            )
            walls[label].append(result["wall"])
            bench.log(f"notebook n_init {NOTEBOOK_N_INIT} ({label}): {result['wall']:.2f} s")
    best = min(walls, key=lambda label: statistics.median(walls[label]))
    return statistics.median(walls[best]), best, walls[best]


def k_rows(database: Path) -> list[tuple[int, float, int | None, str]]:
    """(k, WCSS, restarts used, best_from) per k of a built database."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select k, wcss, best_from from ml.ml_k_diagnostics order by k"
        ).fetchall()
    out = []
    for k, wcss, best_from in rows:
        used = _RESTARTS.search(best_from or "")
        out.append((int(k), float(wcss), int(used.group(1)) if used else None, best_from))
    return out


def demo_steps(bench: ModuleType, folder: Path) -> list[tuple[str, float, int]]:
    """The steps of ``make demo`` in ``folder`` (database, target, logs, serving)."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo.duckdb"
    env = {
        **os.environ,
        "CUSTOMER_SEGMENTATION_DB": str(database),
        "DBT_PROFILES_DIR": str(bench.REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    cli = str(Path(sys.executable).parent / "customer-segmentation")
    steps = [
        (
            "dbt build",
            [str(bench.DBT), "build", "--target-path", str(folder / "target"), "--log-path"]
            + [str(folder / "logs")],
        ),
        ("publish", [cli, "publish", "--database", str(database), "--serving-dir"]),
        ("summary", [cli, "summary", "--database", str(database)]),
    ]
    steps[1][1].append(str(folder / "serving"))
    commands = {label: command for label, command in steps}

    def runner(label: str) -> int:
        done = subprocess.run(
            commands[label], cwd=bench.REPO, env=env, capture_output=True, text=True, check=False
        )
        return done.returncode

    timings, _ = run_steps([(label, label) for label, _ in steps], runner)
    return timings


def section(args, work: Path, bench: ModuleType) -> str:
    """Markdown of section e (see the module docstring)."""
    if not bench.REAL_DATA.exists():
        return "## e. Case-study defaults vs the notebook\n\nSkipped: no real data file.\n"
    repeats = max(1, args.repeat)
    builds = [
        bench.run_dbt(
            f"case-study-defaults-{i + 1}",
            work / f"case_study_{i + 1}",
            ["build"],
            dbt_vars={"input_path": str(bench.REAL_DATA), "preset": "case_study"},
            timeout=args.timeout_per_build,
        )
        for i in range(repeats)
    ]
    demos = [demo_steps(bench, work / f"demo_{i + 1}") for i in range(repeats)]
    base, base_label, base_walls = notebook_wall(bench, work, repeats)
    ok = [b for b in builds if b.ok]
    build_wall = statistics.median(b.wall for b in ok) if ok else float("nan")
    demo_ok = [d for d in demos if all(code == 0 for _, _, code in d)]
    demo_wall = statistics.median(sum(s for _, s, _ in d) for d in demo_ok) if demo_ok else None
    fmt, verdict = bench.fmt, bench.verdict
    rows = [
        [
            f"notebook baseline, n_init {NOTEBOOK_N_INIT} ({base_label}), median wall",
            fmt(base, 2),
            "",
        ],
        ["`dbt build`, case_study preset, default settings, median wall", fmt(build_wall, 2), ""],
        [
            "**ratio case-study build / notebook**",
            f"**{build_wall / base:.1f}x**",
            f"<= {TARGET_RATIO:.0f}x: {verdict(build_wall / base <= TARGET_RATIO)}",
        ],
    ]
    if demo_ok:
        for label in ("dbt build", "publish", "summary"):
            seconds = statistics.median(dict((n, s) for n, s, _ in d)[label] for d in demo_ok)
            rows.append([f"`make demo` step: {label} (median)", fmt(seconds, 2), ""])
        rows.append(["`make demo`, all steps (median)", fmt(demo_wall, 2), ""])
        rows.append(
            [
                "**ratio make demo / notebook**",
                f"**{demo_wall / base:.1f}x**",
                f"<= {TARGET_RATIO:.0f}x: {verdict(demo_wall / base <= TARGET_RATIO)}",
            ]
        )
    else:
        rows.append(["`make demo`", "failed: " + repr(demos[0]), ""])
    k_table = "(case-study build failed: " + builds[0].outcome() + ")"
    if ok and ok[0].database is not None:
        k_table = bench.md_table(
            ["k", "WCSS", "best known", "reached", "k-means++ restarts used", "best from"],
            [
                [
                    k,
                    f"{wcss:,.2f}",
                    f"{floor:,.2f}",
                    "yes" if wcss <= floor * (1 + 1e-6) else "**no**",
                    used if used is not None else "—",
                    best_from,
                ]
                for (k, wcss, used, best_from), floor in zip(
                    k_rows(ok[0].database), BEST_KNOWN_WCSS, strict=False
                )
            ],
            numeric_from=1,
        )
    return "\n".join(
        [
            "## e. Case-study defaults and `make demo` vs the notebook (same run)",
            "",
            f"{repeats} run(s) of each; notebook walls "
            + ", ".join(f"{w:.2f}" for w in base_walls)
            + " s.",
            "",
            bench.md_table(["measure", "seconds", "target"], rows),
            "",
            "k diagnostics of the first case-study build:",
            "",
            k_table,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench  # the harness, imported only when run alone

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout-per-build", type=float, default=1800.0)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    default = bench.BENCH / "out" / f"case_study_{time.strftime('%H%M%S')}"
    work = (args.work_dir or default).resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(section(args, work, bench))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
