"""Bench section f: a clean customer file against the same file with 1 % corrupt lines.

The reject path (read_csv's reject tables, the line renumbering, the typed checks and the
quarantine mart) must cost the corrupt lines, not make clean files slower. Both files hold
the generator's customers with text ids (``with_ids``); the corrupt copy spoils 1 % of the
data lines, evenly over the kinds in :data:`KINDS` (a cut line, invalid UTF-8, a word in a
number, a value beyond the bound, a surplus field, a blank id, an open quote). The open quote
is not an error where the sniffer found no quoting in the file: the quote is then part of a
text id, and the row is segmented under that id.

Rows, in pairs (clean then corrupt, ``--repeat`` times, so load drifts hit both alike):

- staging only (``--select +stg_customers rejected_customer_rows``): where the reject path
  lives; median wall per file and the paired ratio corrupt / clean;
- the whole ``dbt build`` once per file: the fit dominates, the ratio should be ~1.

Each build checks rows in = rows usable + rows rejected against the file's line count.

Run alone:  .venv/bin/python bench/reject_path.py [--rows N] [--repeat N] [--work-dir DIR]
(``bench/run.py --sections f`` runs it inside the full report.)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import duckdb

#: What a corrupt line looks like; each is one line of the clean file spoiled one way.
KINDS = ("cut", "invalid_utf8", "word_in_number", "huge", "surplus_field", "blank_id", "quote")
CORRUPT_SHARE = 0.01
STAGING = ["--select", "+stg_customers", "rejected_customer_rows", "--indirect-selection",
           "cautious"]  # fmt: skip


def spoil(line: bytes, kind: str, rng: random.Random) -> bytes:
    """One CSV data line (``id,minutes,CLV,region,channel``) spoiled as ``kind``."""
    fields = line.split(b",")
    if kind == "cut":
        return b",".join(fields[: rng.randint(1, 3)])
    if kind == "invalid_utf8":
        return line[:3] + b"\xff\xfe" + line[3:]
    if kind == "word_in_number":
        fields[2] = b"n/a"
    elif kind == "huge":
        fields[2] = b"1e300"
    elif kind == "surplus_field":
        fields.append(b"surplus")
    elif kind == "blank_id":
        fields[0] = b""
    else:
        return b'"' + line
    return b",".join(fields)


def write_corrupt_copy(clean: Path, out: Path, seed: int = 0) -> int:
    """``clean`` with CORRUPT_SHARE of its data lines spoiled (kinds in turn); returns how
    many lines were spoiled. Rewritten only when missing."""
    lines = clean.read_bytes().split(b"\n")
    header, data = lines[0], [line for line in lines[1:] if line]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(data)), round(len(data) * CORRUPT_SHARE)))
    if not out.exists():
        for i, index in enumerate(chosen):
            data[index] = spoil(data[index], KINDS[i % len(KINDS)], rng)
        out.write_bytes(b"\n".join([header, *data]) + b"\n")
    return len(chosen)


def counts(database: Path) -> tuple[int, int, int]:
    """(usable rows in staging, rejected rows, total of both) of a staging build."""
    with duckdb.connect(str(database), read_only=True) as con:
        usable = con.execute("select count(*) from staging.stg_customers").fetchone()[0]
        rejected = con.execute("select count(*) from marts.rejected_customer_rows").fetchone()[0]
    return usable, rejected, usable + rejected


def build(bench: ModuleType, name: str, work: Path, path: Path, args: list[str], timeout: float):
    scratch = work / name
    (scratch / "warehouse.duckdb").unlink(missing_ok=True)
    dbt_vars = {"input_path": str(path), "max_rejected_share": 0.5}
    return bench.run_dbt(name, scratch, ["build", *args], dbt_vars=dbt_vars, timeout=timeout)


def section(args, work: Path, bench: ModuleType) -> str:
    rows = getattr(args, "reject_rows", None) or 1_000_000
    repeats = max(1, getattr(args, "repeat", None) or 3)
    timeout = getattr(args, "timeout_per_build", None) or 1800.0
    clean = bench.ensure_synthetic(work / f"clean_{rows}.csv", rows, with_ids=True)
    corrupt = work / f"corrupt_{rows}.csv"
    spoiled = write_corrupt_copy(clean, corrupt)
    walls: dict[str, list[float]] = {"clean": [], "corrupt": []}
    checks: dict[str, tuple[int, int, int]] = {}
    for i in range(repeats):
        for label, path in (("clean", clean), ("corrupt", corrupt)):
            run = build(bench, f"staging_{label}_{i}", work, path, STAGING, timeout)
            if run.status != "ok":
                return f"## f. Reject path\n\nstaging build failed: {run.outcome()}\n"
            walls[label].append(run.wall)
            checks[label] = counts(run.database)
            bench.log(f"staging {label} {i + 1}/{repeats}: {run.wall:.2f} s")
    full = {
        label: build(bench, f"full_{label}", work, path, [], timeout)
        for label, path in (("clean", clean), ("corrupt", corrupt))
    }
    ratios = [c / k for c, k in zip(walls["corrupt"], walls["clean"], strict=True)]
    table = [
        ["staging, clean (median)", bench.fmt(statistics.median(walls["clean"]), 2), ""],
        ["staging, 1 % corrupt (median)", bench.fmt(statistics.median(walls["corrupt"]), 2), ""],
        ["**paired ratio corrupt / clean** (median)", f"**{statistics.median(ratios):.2f}x**",
         "spread " + ", ".join(f"{r:.2f}" for r in ratios)],
    ]  # fmt: skip
    for label, run in full.items():
        table.append([f"whole `dbt build`, {label}", bench.fmt(run.wall, 1), run.outcome()])
    if all(run.status == "ok" for run in full.values()):
        table.append(["whole build ratio corrupt / clean",
                      f"{full['corrupt'].wall / full['clean'].wall:.2f}x", ""])  # fmt: skip
    balance = [
        [label, f"{rows:,}", f"{usable:,}", f"{rejected:,}",
         "yes" if total == rows else f"**no ({total:,})**"]
        for label, (usable, rejected, total) in checks.items()
    ]  # fmt: skip
    return "\n".join(
        [
            "## f. Reject path: clean file vs 1 % corrupt lines",
            "",
            f"{rows:,} customers with text ids; {spoiled:,} lines spoiled in the corrupt copy "
            f"({', '.join(KINDS)}); {repeats} paired staging builds.",
            "",
            bench.md_table(["measure", "seconds", "note"], table),
            "",
            bench.md_table(
                ["file", "rows in", "usable", "rejected", "in = usable + rejected"], balance
            ),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench  # the harness, imported only when run alone

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", dest="reject_rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout-per-build", type=float, default=1800.0)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    default = bench.BENCH / "out" / f"reject_path_{time.strftime('%H%M%S')}"
    work = (args.work_dir or default).resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(section(args, work, bench))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
