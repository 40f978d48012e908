"""Benchmark harness: the dbt build against the notebook baseline, time and memory per stage by
input size, SQL scoring throughput and segmentation quality, measured on this machine.

Sections of the report (printed as markdown and written to --out):

a. Real data (the case-study file, else the demo seed): wall time of the full ``dbt build`` vs
   ``bench/notebook_baseline.py`` (same k range, n_init, random_state) and their ratio, plus
   dbt's start-up floor: ``dbt build`` of a throwaway two-model dbt-duckdb project.
b. Synthetic inputs (generator, Parquet, seed 7) of each ``--sizes``: seconds per pipeline stage
   from run_results.json, total wall time, CPU time and peak RSS of the whole build.
c. SQL scoring: fit on the 1M input, score the ``--score-rows`` file with ``score_input_path``
   (``--select stg_scoring_input+``); rows/s of the scoring nodes and of the whole command.
e. Case-study file with default settings (preset case_study) and the steps of ``make demo``,
   each as a ratio to the notebook at n_init 10 in the same run (``bench/case_study.py``).
f. Reject path: a 1M-row file with text ids, clean and with 1 % corrupt lines, staging and
   whole builds in pairs (``bench/reject_path.py``).
d. Quality: adjusted Rand index of the segments vs the generator's planted segments, and
   two-stage vs exact Ward (ARI at k = 8, cophenetic correlation) through the library.

Every dbt run gets its own scratch folder under --work-dir (database, --target-path, --log-path),
never the repository's database or target/. A build that exceeds --timeout-per-build is killed
(its process group) and reported as a timeout, with the stage it was in.

Run:  .venv/bin/python bench/run.py [--sizes 100000 1000000 10000000] [--skip-large] [--quick]
      [--out bench/results.md] [--timeout-per-build SECONDS]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.ward import (
    cut_tree,
    leaf_centroids,
    micro_clusters,
    ward_linkage,
    weighted_ward_linkage,
)

REPO = Path(__file__).resolve().parents[1]
# The demo generators live at the repository root (demo/), outside the installed package.
sys.path.insert(0, str(REPO))
from demo.generate import write_customers  # noqa: E402

BENCH = REPO / "bench"
BASELINE_SCRIPT = BENCH / "notebook_baseline.py"
REAL_DATA = Path("/work/shared/data/customer_segmentation_data.csv")
DEMO_SEED = REPO / "seeds" / "demo_customers.csv"
DBT = Path(sys.executable).parent / "dbt"
GNU_TIME = Path("/usr/bin/time")

SEED = 7
K, K_MIN, K_MAX, N_INIT, RANDOM_STATE = 8, 1, 10, 10, 0
WARD_MICRO_CLUSTERS = 1_000
LARGE_ABOVE = 1_000_000
#: Planted size used when the 1M planted build fails (e.g. out of memory).
FALLBACK_ROWS = 100_000
GB = 1024**3

#: Pipeline stages and the dbt nodes that belong to them. Tests and unit tests are "dbt tests";
#: seeds and ml_environment are "other"; every remaining model (the SQL marts and
#: int_segment_names) is "write-back".
STAGE_NODES: dict[str, tuple[str, ...]] = {
    "read+staging": ("stg_customer_input", "stg_customers"),
    "features+standardise": (
        "int_customer_features",
        "ml_feature_scaler",
        "ml_customer_features_z",
    ),
    "Ward": ("ml_ward_leaves", "ml_ward_linkage", "ml_ward_clusters"),
    "k diagnostics": ("ml_k_diagnostics",),
    "final fit": ("ml_kmeans_fit", "ml_customer_assignments"),
    "write-back": (),
    "SQL scoring": (
        "stg_scoring_input",
        "int_scoring_features",
        "int_customer_scores",
        "scored_customers",
    ),
    "dbt tests": (),
    "other": ("ml_environment",),
}
STAGES = tuple(STAGE_NODES)
SCORING_NODES = ("int_customer_scores", "scored_customers")

#: Extra arguments for every dbt invocation (``--dbt-threads`` sets ``--threads N``).
DBT_EXTRA_ARGS: list[str] = []

#: Targets printed next to the measurements.
#: Issue 16, goal 3: 1M end to end within 45 s and 2 GB, 10M within 120 s and 6 GB.
TARGET_WALL = {1_000_000: 45.0, 10_000_000: 120.0}
TARGET_RSS_GB = {1_000_000: 2.0, 10_000_000: 6.0}
TARGET_REF_RATIO = 2.0
#: Issue 16, goal 4: the 10M SQL scoring command within 20 s.
TARGET_SCORE_SECONDS = {10_000_000: 20.0}
TARGET_ARI = 0.95

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------------------------------
# small helpers


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} bench: {message}", file=sys.stderr, flush=True)


def node_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def stage_of(unique_id: str) -> str:
    kind = unique_id.split(".", 1)[0]
    if kind in ("test", "unit_test"):
        return "dbt tests"
    if kind != "model":
        return "other"
    name = node_name(unique_id)
    for stage, names in STAGE_NODES.items():
        if name in names:
            return stage
    return "write-back"


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**met**" if ok else "**missed**")


def md_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], numeric_from: int = 1
) -> str:
    align = ["---" if i < numeric_from else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / GB
    except OSError:
        pass
    return None


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def ensure_synthetic(
    path: Path, rows: int, *, planted: bool = False, with_ids: bool = False
) -> Path:
    """The generator's file (seed 7), written once and reused while its row count matches."""
    if path.exists():
        try:
            if path.suffix == ".parquet" and parquet_rows(path) == rows:
                return path
            if path.suffix == ".csv" and sum(1 for _ in path.open()) - 1 == rows:
                return path
        except Exception:  # a broken cache file is simply rewritten
            pass
    started = time.perf_counter()
    write_customers(path, rows, seed=SEED, planted=planted, with_ids=with_ids)
    log(f"wrote {path.name} ({rows:,} rows) in {time.perf_counter() - started:.1f} s")
    return path


# --------------------------------------------------------------------------------------------
# running dbt


@dataclass
class NodeRun:
    unique_id: str
    seconds: float
    status: str


@dataclass
class Build:
    """One dbt invocation and what was measured about it."""

    name: str
    scratch: Path
    status: str = "not run"  # ok | error | timeout | not run
    returncode: int | None = None
    wall: float = float("nan")
    cpu_seconds: float | None = None
    peak_rss_kb: int | None = None
    dbt_elapsed: float | None = None
    startup_seconds: float | None = None
    parse_seconds: float | None = None
    nodes: dict[str, NodeRun] = field(default_factory=dict)
    in_flight: dict[str, float] = field(default_factory=dict)
    stage_rss_kb: dict[str, int] = field(default_factory=dict)
    last_progress: str | None = None
    errors: list[str] = field(default_factory=list)
    load_before: float | None = None
    load_max: float | None = None
    database: Path | None = None
    signal: int | None = None
    oom_killed: bool = False
    failed_tests: list[str] = field(default_factory=list)
    code: str = ""

    @property
    def ok(self) -> bool:
        """Every model built (data tests may have failed: see ``failed_tests``)."""
        return self.status in ("ok", "tests failed")

    @property
    def peak_rss_gb(self) -> float | None:
        return None if self.peak_rss_kb is None else self.peak_rss_kb * 1024 / GB

    def stage_seconds(self) -> dict[str, float]:
        """Sum of node execution times per stage (nodes run 2 at a time, so sums can exceed the
        wall time); for a killed build, running nodes count up to the kill."""
        totals = dict.fromkeys(STAGES, 0.0)
        for node in self.nodes.values():
            totals[stage_of(node.unique_id)] += node.seconds
        for unique_id, seconds in self.in_flight.items():
            totals[stage_of(unique_id)] += seconds
        return totals

    def node_seconds(self, names: Iterable[str]) -> float:
        wanted = set(names)
        return sum(n.seconds for n in self.nodes.values() if node_name(n.unique_id) in wanted)

    def where(self) -> str:
        """Where a killed or failed build was: running nodes, their stages, last progress."""
        running = sorted(self.in_flight)
        stages = sorted({stage_of(u) for u in running})
        text = ", ".join(f"{node_name(u)} ({stage_of(u)})" for u in running) or "between nodes"
        if self.last_progress:
            text += f"; last progress: `{self.last_progress}`"
        return f"stage {'/'.join(stages) or '?'}: {text}"

    def outcome(self) -> str:
        if self.status == "tests failed":
            return f"built; {len(self.failed_tests)} test(s) failed: " + "; ".join(
                self.failed_tests
            )
        if self.status == "timeout":
            return f"timeout after {self.wall:,.0f} s in {self.where()}"
        if self.status == "error":
            if self.signal is not None:
                cause = "out of memory (kernel OOM killer)" if self.oom_killed else "killed"
                return (
                    f"{cause}: signal {self.signal} after {self.wall:,.0f} s, peak RSS "
                    f"{fmt(self.peak_rss_gb, 1)} GB, in {self.where()}"
                )
            first = self.errors[0] if self.errors else f"exit code {self.returncode}"
            return f"error: {first[:300]}"
        return self.status


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in children.get(current, []):
            found.append(child)
            todo.append(child)
    return found


def _rss_kb(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
    return total


def _parse_ts(text: str) -> float | None:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return None


def _parse_gnu_time(path: Path, build: Build) -> None:
    if not path.exists():
        return
    values: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.strip().rpartition(": ")
        if sep:
            values[key] = value
    with contextlib.suppress(KeyError, ValueError):
        build.peak_rss_kb = int(values["Maximum resident set size (kbytes)"])
    with contextlib.suppress(KeyError, ValueError):
        build.cpu_seconds = float(values["User time (seconds)"]) + float(
            values["System time (seconds)"]
        )
    killed = re.search(r"Command terminated by signal (\d+)", path.read_text(errors="replace"))
    if killed:
        build.signal = int(killed.group(1))


def _oom_killed(pids: Iterable[int]) -> bool:
    """Whether the kernel log says the OOM killer ended one of these processes."""
    try:
        kernel = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(re.search(rf"Killed process {pid}\b", kernel) for pid in pids)


class _LogFollower:
    """Reads complete new lines from a growing file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def lines(self) -> list[str]:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        self.offset += len(chunk)
        data = self.partial + chunk
        *complete, self.partial = data.split(b"\n")
        return [line.decode("utf-8", errors="replace") for line in complete]


def run_dbt(
    name: str,
    scratch: Path,
    args: Sequence[str],
    *,
    dbt_vars: dict | None = None,
    timeout: float | None = None,
    project_dir: Path = REPO,
    profiles_dir: Path = REPO,
    database: Path | None = None,
    echo: bool = True,
) -> Build:
    """Run ``dbt <args>`` in a subprocess with its own database, target and log folders.

    Peak RSS and CPU time come from GNU time (``/usr/bin/time -v``) when present; the RSS of
    the dbt process is also sampled every 0.5 s and attributed to the stages of the nodes
    running at that moment. Node times come from run_results.json, or from the JSON log
    events when the build was killed.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    database = database or scratch / "warehouse.duckdb"
    build = Build(name=name, scratch=scratch, database=database)
    command = [
        str(DBT),
        *args,
        *DBT_EXTRA_ARGS,
        "--log-format",
        "json",
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    time_file = scratch / "gnu_time.txt"
    time_file.unlink(missing_ok=True)
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-v", "-o", str(time_file), *command]
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "CUSTOMER_SEGMENTATION_DB": str(database),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = scratch / "dbt_output.jsonl"
    (scratch / "command.json").write_text(json.dumps({"command": command}, indent=1))
    build.load_before = os.getloadavg()[0]
    build.code = git_state(short=True)
    log(f"{name}: dbt {' '.join(args)} (load {build.load_before:.1f})")

    with log_path.open("wb") as out:
        started_wall = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=project_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finished: list[float] = []
    waiter = threading.Thread(target=lambda: (proc.wait(), finished.append(time.perf_counter())))
    waiter.start()

    follower = _LogFollower(log_path)
    started_at: dict[str, float] = {}
    first_event_ts = parsed_ts = None

    def handle(line: str) -> None:
        nonlocal first_event_ts, parsed_ts
        line = line.strip()
        if not line:
            return
        try:
            event = json.loads(line)
            info, data = event["info"], event.get("data", {})
        except (ValueError, KeyError, TypeError):
            if re.search(r"\[\w+\] ", line):
                build.last_progress = _ANSI.sub("", line)
                if echo:
                    log(f"{name}: {build.last_progress}")
            return
        ts = _parse_ts(info.get("ts", ""))
        if first_event_ts is None:
            first_event_ts = ts
        if info.get("name") == "FoundStats":
            parsed_ts = ts
        if info.get("level") == "error":
            message = _ANSI.sub("", info.get("msg", "")).strip()
            if info.get("name") == "RunResultError":
                # The node and the exception line are the informative part of a traceback.
                lines = [x.strip() for x in message.splitlines() if x.strip()]
                build.errors.insert(0, f"{lines[0]} … {lines[-1]}" if len(lines) > 1 else message)
            else:
                build.errors.append(message)
        node = data.get("node_info") if isinstance(data, dict) else None
        if not node:
            return
        unique_id = node.get("unique_id", "?")
        if node.get("node_status") == "started" or info.get("name") == "LogStartLine":
            started_at[unique_id] = ts or time.time()
            build.in_flight[unique_id] = 0.0
        elif node.get("node_finished_at"):
            build.in_flight.pop(unique_id, None)
            seconds = data.get("execution_time")
            if seconds is None:
                begin = _parse_ts(node.get("node_started_at", ""))
                end = _parse_ts(node.get("node_finished_at", ""))
                seconds = (end - begin) if begin and end else 0.0
            build.nodes[unique_id] = NodeRun(unique_id, float(seconds), node.get("node_status", ""))
            if echo and unique_id.startswith("model.") and float(seconds) >= 1.0:
                log(f"{name}: {node_name(unique_id)} {node.get('node_status')} in {seconds:.1f} s")

    killed = False
    seen_pids: set[int] = set()
    while True:
        for line in follower.lines():
            handle(line)
        if finished:
            break
        dbt_pids = _descendants(proc.pid) or [proc.pid]
        seen_pids.update(dbt_pids)
        build.load_max = max(build.load_max or 0.0, os.getloadavg()[0])
        rss = _rss_kb(dbt_pids)
        for unique_id in build.in_flight:
            stage = stage_of(unique_id)
            build.stage_rss_kb[stage] = max(build.stage_rss_kb.get(stage, 0), rss)
        now = time.perf_counter()
        if timeout is not None and now - started > timeout and not killed:
            log(f"{name}: timeout after {now - started:.0f} s, killing process group {proc.pid}")
            killed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            waiter.join(10)
            if not finished:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.5)
    waiter.join()
    for line in follower.lines():
        handle(line)

    build.wall = finished[0] - started
    build.returncode = proc.returncode
    ended_wall = started_wall + build.wall
    for unique_id in build.in_flight:
        begun = started_at.get(unique_id)
        build.in_flight[unique_id] = ended_wall - begun if begun else 0.0
    _parse_gnu_time(time_file, build)
    if build.signal == signal.SIGKILL and not killed:
        build.oom_killed = _oom_killed(seen_pids)
    if first_event_ts is not None:
        build.startup_seconds = first_event_ts - started_wall
        if parsed_ts is not None:
            build.parse_seconds = parsed_ts - first_event_ts

    results_path = scratch / "target" / "run_results.json"
    if not killed and results_path.exists():
        results = json.loads(results_path.read_text())
        build.dbt_elapsed = float(results.get("elapsed_time", 0.0))
        build.nodes = {
            r["unique_id"]: NodeRun(r["unique_id"], float(r["execution_time"]), str(r["status"]))
            for r in results["results"]
        }
        build.in_flight = {}
    if killed:
        build.status = "timeout"
    elif proc.returncode == 0:
        build.status = "ok"
    else:
        build.status = "error"
        if results_path.exists() and build.signal is None:
            bad = [
                r
                for r in json.loads(results_path.read_text())["results"]
                if r["status"] not in ("success", "pass", "warn", "no-op", "skipped")
            ]
            if bad and all(r["unique_id"].startswith(("test.", "unit_test.")) for r in bad):
                build.status = "tests failed"
                build.failed_tests = [
                    f"{node_name(r['unique_id'])} ({r.get('message')})" for r in bad
                ]
    rss = fmt(build.peak_rss_gb, 2) if build.peak_rss_gb is not None else "?"
    log(f"{name}: {build.outcome()} — wall {build.wall:.1f} s, peak RSS {rss} GB")
    (scratch / "build_summary.json").write_text(
        json.dumps(
            {
                "name": name,
                "status": build.status,
                "outcome": build.outcome(),
                "wall": build.wall,
                "cpu_seconds": build.cpu_seconds,
                "peak_rss_kb": build.peak_rss_kb,
                "dbt_elapsed": build.dbt_elapsed,
                "startup_seconds": build.startup_seconds,
                "parse_seconds": build.parse_seconds,
                "stage_seconds": build.stage_seconds(),
                "stage_rss_kb": build.stage_rss_kb,
                "load_before": build.load_before,
                "load_max": build.load_max,
            },
            indent=1,
        )
    )
    return build


def segmentation_vars(input_path: Path, n_init: int, k_max: int, **extra) -> dict:
    return {
        "input_path": str(input_path),
        "k": K,
        "k_min": K_MIN,
        "k_max": k_max,
        "n_init": n_init,
        "random_state": RANDOM_STATE,
        **extra,
    }


# --------------------------------------------------------------------------------------------
# a. real data vs the notebook baseline, and dbt's floor


def write_floor_project(folder: Path) -> Path:
    """A throwaway dbt-duckdb project: two trivial SQL models and its own profiles.yml."""
    project = folder / "project"
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        'name: floor\nversion: "1.0"\nconfig-version: 2\nprofile: floor\nmodel-paths: ["models"]\n'
    )
    (project / "profiles.yml").write_text(
        "floor:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f'      path: "{folder / "floor.duckdb"}"\n      threads: 2\n'
    )
    (project / "models" / "first_model.sql").write_text("select 1 as id, 'a' as label\n")
    (project / "models" / "second_model.sql").write_text(
        "select id + 1 as id, label from {{ ref('first_model') }}\n"
    )
    return project


def run_baseline_process(
    csv_path: Path, scratch: Path, n_init: int, k_max: int, threads: int | None
) -> dict:
    """The notebook baseline in a fresh Python process: process wall time (imports included)
    and the in-process stage timings it prints."""
    scratch.mkdir(parents=True, exist_ok=True)
    database = scratch / "notebook.duckdb"
    database.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(BASELINE_SCRIPT),
        str(csv_path),
        "--k",
        str(K),
        "--k-max",
        str(k_max),
        "--n-init",
        str(n_init),
        "--random-state",
        str(RANDOM_STATE),
        "--db",
        str(database),
        "--json",
    ]
    if threads:
        command += ["--threads", str(threads)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"notebook baseline failed: {done.stderr[-2000:]}")
    timings = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall": wall, "timings": timings}


def _spread(values: Sequence[float]) -> str:
    if len(values) < 2:
        return ""
    return f" (min {min(values):.2f}, max {max(values):.2f}, n = {len(values)})"


def section_reference(
    args, work: Path, ref_path: Path, ref_build: Build | None
) -> tuple[str, dict]:
    """Real data: dbt build vs notebook baseline, and the dbt floor."""
    rows = sum(1 for _ in ref_path.open(encoding="utf-8", errors="replace")) - 1
    repeats = args.repeat
    builds: list[Build] = [ref_build] if ref_build is not None else []
    while len(builds) < repeats:
        i = len(builds) + 1
        builds.append(
            run_dbt(
                f"reference-{i}",
                work / f"reference_{i}",
                ["build"],
                dbt_vars=segmentation_vars(ref_path, args.n_init, args.k_max),
                timeout=args.timeout_per_build,
            )
        )
    # The notebook with scikit-learn's default threads (all cores) and with one thread (what
    # the dbt models use below 200k rows); the faster one is the baseline.
    variants: dict[str, list[dict]] = {"default threads": [], "1 thread": []}
    for i in range(repeats):
        for label, threads in (("default threads", None), ("1 thread", 1)):
            result = run_baseline_process(
                ref_path, work / "baseline", args.n_init, args.k_max, threads
            )
            variants[label].append(result)
            log(f"baseline ({label}) {i + 1}: {result['wall']:.2f} s")
    floors = []
    for i in range(repeats):
        folder = work / f"floor_{i + 1}"
        project = write_floor_project(folder)
        floors.append(
            run_dbt(
                f"floor-{i + 1}",
                folder,
                ["build"],
                timeout=args.timeout_per_build,
                project_dir=project,
                profiles_dir=project,
                database=folder / "floor.duckdb",
                echo=False,
            )
        )
    warm_floor = None
    if not args.quick:
        # A second run of the last floor project reuses its saved manifest (partial parsing).
        folder = work / f"floor_{repeats}"
        warm_floor = run_dbt(
            "floor-partial-parse",
            folder,
            ["build"],
            timeout=args.timeout_per_build,
            project_dir=folder / "project",
            profiles_dir=folder / "project",
            database=folder / "floor.duckdb",
            echo=False,
        )

    defaults_build = None
    if not args.quick:
        # The project's own defaults (no k / n_init vars): n_init follows its restart budget.
        defaults_build = run_dbt(
            "reference-defaults",
            work / "reference_defaults",
            ["build"],
            dbt_vars={"input_path": str(ref_path)},
            timeout=args.timeout_per_build,
        )

    ok_builds = [b for b in builds if b.ok]
    dbt_walls = [b.wall for b in ok_builds]
    dbt_wall = statistics.median(dbt_walls) if ok_builds else float("nan")
    dbt_cpu = [b.cpu_seconds for b in ok_builds if b.cpu_seconds is not None]
    dbt_inner = [b.dbt_elapsed for b in ok_builds if b.dbt_elapsed is not None]
    walls = {label: [r["wall"] for r in runs] for label, runs in variants.items()}
    computes = {label: [r["timings"]["total"] for r in runs] for label, runs in variants.items()}
    best = min(variants, key=lambda label: statistics.median(walls[label]))
    base_wall = statistics.median(walls[best])
    base_compute = statistics.median(computes[best])
    floor_walls = [f.wall for f in floors if f.ok]
    floor_wall = statistics.median(floor_walls) if floor_walls else float("nan")
    ratio = dbt_wall / base_wall

    table_rows = [
        [
            f"`dbt build`, full project, {rows:,} rows (median wall)",
            fmt(dbt_wall, 2) + _spread(dbt_walls),
            "",
        ],
        [
            "— of which dbt's run phase (run_results elapsed_time)",
            fmt(statistics.median(dbt_inner), 2) if dbt_inner else "—",
            "",
        ],
        [
            "— CPU time of the dbt process (user + sys)",
            fmt(statistics.median(dbt_cpu), 2) if dbt_cpu else "—",
            "",
        ],
    ]
    for label in variants:
        table_rows += [
            [
                f"notebook baseline ({label}), whole process incl. imports (median wall)",
                fmt(statistics.median(walls[label]), 2) + _spread(walls[label]),
                "",
            ],
            [
                f"notebook baseline ({label}), computation only",
                fmt(statistics.median(computes[label]), 2),
                "",
            ],
        ]
    table_rows += [
        [
            f"**ratio dbt build / baseline process ({best})**",
            f"**{ratio:.1f}x**",
            f"<= {TARGET_REF_RATIO:.0f}x: {verdict(ratio <= TARGET_REF_RATIO)}",
        ],
        [f"ratio dbt build / baseline computation ({best})", f"{dbt_wall / base_compute:.1f}x", ""],
        [
            "dbt floor: `dbt build` of a 2-model dbt-duckdb project, full parse (median)",
            fmt(floor_wall, 2) + _spread(floor_walls),
            "",
        ],
    ]
    if warm_floor is not None:
        table_rows.append(
            [
                "dbt floor, second run (partial parse)",
                fmt(warm_floor.wall, 2) if warm_floor.ok else warm_floor.outcome(),
                "",
            ]
        )
    if defaults_build is not None:
        n_init_used = "?"
        if defaults_build.ok and defaults_build.database is not None:
            with (
                contextlib.suppress(Exception),
                duckdb.connect(str(defaults_build.database), read_only=True) as con,
            ):
                n_init_used = con.execute("select max(n_init) from ml.ml_k_diagnostics").fetchone()[
                    0
                ]
        table_rows.append(
            [
                f"`dbt build` with the project's default settings (no vars but input_path; "
                f"n_init = {n_init_used}), 1 run",
                fmt(defaults_build.wall, 2) if defaults_build.ok else defaults_build.outcome(),
                "",
            ]
        )
    table_rows += [
        ["dbt build minus floor (the project's own work)", fmt(dbt_wall - floor_wall, 2), ""],
        [f"floor / baseline process ({best})", f"{floor_wall / base_wall:.1f}x", ""],
        [
            "ratio (dbt build minus floor) / baseline process",
            f"{(dbt_wall - floor_wall) / base_wall:.1f}x",
            "",
        ],
    ]

    stage_rows = []
    stage_names = list(variants[best][0]["timings"])
    for stage in stage_names:
        stage_rows.append(
            [stage]
            + [
                fmt(statistics.median(r["timings"][stage] for r in variants[label]), 3)
                for label in variants
            ]
        )
    baseline_table = md_table(
        ["notebook stage", *[f"seconds, {label} (median)" for label in variants]], stage_rows
    )
    build = ok_builds[0] if ok_builds else builds[0]
    failures = [b.outcome() for b in builds if not b.ok]
    label = "real case-study file" if ref_path == REAL_DATA else f"`{ref_path.name}`"
    text = "\n".join(
        [
            f"## a. Real data: `dbt build` vs the notebook baseline ({label})",
            "",
            f"Input `{ref_path}` ({rows:,} rows); both sides k = {K}, k = {K_MIN}..{args.k_max}, "
            f"n_init = {args.n_init}, random_state = {RANDOM_STATE}; {repeats} run(s) of each; "
            f"load average before the first build {fmt(build.load_before, 1)}.",
            "",
            md_table(["measure", "seconds", "target"], table_rows),
            "",
            f"- dbt start-up to its first log event {fmt(build.startup_seconds, 1)} s, project "
            f"parse {fmt(build.parse_seconds, 1)} s (a fresh --target-path per build, so every "
            "build parses the project in full).",
            "- Failed builds: " + ("; ".join(failures) if failures else "none"),
            "",
            baseline_table,
            "",
            stage_table([build], "Stage seconds of the first reference build"),
            "",
        ]
    )
    return text, {"ratio": ratio, "dbt_wall": dbt_wall, "baseline_wall": base_wall}


# --------------------------------------------------------------------------------------------
# b. synthetic sizes


def stage_table(builds: Sequence[Build], title: str, rows_of: Callable | None = None) -> str:
    headers = ["rows", "status", *STAGES, "start-up+parse", "total wall", "CPU s", "peak RSS GB"]
    rows = []
    for build in builds:
        seconds = build.stage_seconds()
        overhead = build.wall - build.dbt_elapsed if build.dbt_elapsed is not None else None
        rows.append(
            [
                rows_of(build) if rows_of else build.name,
                build.status,
                *[fmt(seconds[s], 1) for s in STAGES],
                fmt(overhead, 1),
                fmt(build.wall, 1),
                fmt(build.cpu_seconds, 0),
                fmt(build.peak_rss_gb, 2),
            ]
        )
    return f"{title}:\n\n" + md_table(headers, rows, numeric_from=2)


def section_sizes(builds: dict[int, Build], args) -> str:
    ordered = [builds[n] for n in sorted(builds)]
    size_of = {id(b): n for n, b in builds.items()}

    def rows_of(build: Build) -> str:
        return f"{size_of[id(build)]:,}"

    targets = []
    for n, build in sorted(builds.items()):
        wall_target, rss_target = TARGET_WALL.get(n), TARGET_RSS_GB.get(n)
        rss = build.peak_rss_gb
        wall_ok = rss_ok = None
        if wall_target is not None:
            if build.ok:
                wall_ok = build.wall < wall_target
            elif build.wall >= wall_target:
                wall_ok = False  # not finished, and already over the target
        if rss_target is not None and rss is not None:
            if build.ok:
                rss_ok = rss < rss_target
            elif rss >= rss_target:
                rss_ok = False
        targets.append(
            [
                f"{n:,}",
                build.outcome(),
                fmt(build.wall, 1),
                f"< {wall_target:.0f} s: {verdict(wall_ok)}" if wall_target else "—",
                fmt(rss, 2),
                f"< {rss_target:.0f} GB: {verdict(rss_ok)}" if rss_target else "—",
                f"{fmt(build.load_before, 1)} / {fmt(build.load_max, 1)}",
                build.code,
            ]
        )
    rss_rows = []
    for n, build in sorted(builds.items()):
        rss_rows.append(
            [f"{n:,}"]
            + [
                fmt(build.stage_rss_kb[s] * 1024 / GB, 2) if s in build.stage_rss_kb else "—"
                for s in STAGES
            ]
        )
    return "\n".join(
        [
            "## b. Synthetic inputs: time per stage and peak memory",
            "",
            "Generator (`write_customers`, seed 7, Parquet), full `dbt build`, "
            + (
                "default settings (`--defaults`: only input_path). "
                if args.defaults
                else f"settings k = {K}, k = {K_MIN}..{args.k_max}, n_init = {args.n_init}. "
            )
            + "Stage "
            "columns are sums of node execution times from run_results.json (dbt runs 2 nodes "
            "at a time, so they can add up to more than the wall time); start-up+parse = wall "
            "minus dbt's run phase. A killed build shows the nodes finished so far, plus the "
            "running ones up to the kill.",
            "",
            stage_table(ordered, "Seconds per stage", rows_of),
            "",
            md_table(
                [
                    "rows",
                    "outcome",
                    "wall s",
                    "wall target",
                    "peak RSS GB",
                    "RSS target",
                    "load at start / max",
                    "code",
                ],
                targets,
                numeric_from=2,
            ),
            "",
            "Peak RSS of the dbt process sampled every 0.5 s while a stage's nodes were running "
            "(GB; another stage may be running at the same moment):",
            "",
            md_table(["rows", *STAGES], rss_rows),
            "",
        ]
    )


# --------------------------------------------------------------------------------------------
# c. SQL scoring


def section_scoring(
    args, work: Path, fit_build: Build | None, fit_rows: int, fit_input: Path, score_path: Path
) -> str:
    score_rows = parquet_rows(score_path) if score_path.suffix == ".parquet" else None
    if score_rows is None:
        score_rows = sum(1 for _ in score_path.open()) - 1
    header = "## c. SQL scoring throughput"
    if fit_build is None or not fit_build.ok or fit_build.database is None:
        reason = fit_build.outcome() if fit_build else "no fit build"
        return f"{header}\n\nNot measured: the fit build did not succeed ({reason}).\n"
    scratch = work / "scoring"
    scratch.mkdir(parents=True, exist_ok=True)
    database = scratch / "warehouse.duckdb"
    shutil.copy2(fit_build.database, database)
    build = run_dbt(
        "scoring",
        scratch,
        ["build", "--select", "stg_scoring_input+"],
        dbt_vars=segmentation_vars(
            fit_input, args.n_init, args.k_max, score_input_path=str(score_path)
        ),
        timeout=args.timeout_per_build,
        database=database,
    )
    if not build.ok:
        return f"{header}\n\n{build.outcome()}\n"
    note = ""
    if fit_rows != args.fit_rows_wanted:
        note = (
            f" The {args.fit_rows_wanted:,}-row fit was not available "
            f"({args.fit_failure or 'not in --sizes'}), so the largest successful build is used."
        )
    node_s = build.node_seconds(SCORING_NODES)
    read_s = build.node_seconds(["stg_scoring_input"])
    tests_s = build.stage_seconds()["dbt tests"]
    target = TARGET_SCORE_SECONDS.get(score_rows)
    rows = [
        [
            "int_customer_scores + scored_customers",
            fmt(node_s, 2),
            fmt(score_rows / node_s, 0) if node_s else "—",
            "",
        ],
        ["stg_scoring_input (read + check the file)", fmt(read_s, 2), "", ""],
        ["tests on the scoring nodes", fmt(tests_s, 2), "", ""],
        [
            "whole `dbt build --select stg_scoring_input+` command",
            fmt(build.wall, 2),
            fmt(score_rows / build.wall, 0),
            f"< {target:.0f} s: {verdict(build.wall < target)}" if target else "—",
        ],
        ["— of which dbt start-up + parse", fmt(build.wall - (build.dbt_elapsed or 0), 2), "", ""],
    ]
    return "\n".join(
        [
            header,
            "",
            f"Fit: the {fit_rows:,}-row build above (copied database); scored: `{score_path.name}` "
            f"({score_rows:,} rows) with var score_input_path. Peak RSS "
            f"{fmt(build.peak_rss_gb, 2)} GB, CPU {fmt(build.cpu_seconds, 0)} s.{note}",
            "",
            md_table(["what", "seconds", "rows/s", "target"], rows),
            "",
        ]
    )


# --------------------------------------------------------------------------------------------
# d. quality


def planted_ari(build: Build, planted_path: Path) -> tuple[float, float]:
    """(ARI of segment_id, ARI of ward_cluster) against planted_segment, joined on customer_id."""
    if planted_path.suffix == ".parquet":
        truth = pq.read_table(planted_path, columns=["customer_id", "planted_segment"]).to_pandas()
    else:
        truth = pd.read_csv(planted_path, usecols=["customer_id", "planted_segment"])
    with duckdb.connect(str(build.database), read_only=True) as con:
        found = con.execute(
            "select customer_id, segment_id, ward_cluster from marts.customer_segments"
        ).df()
    # The marts carry ids as text (the input's own spelling); the generator writes integers.
    truth["customer_id"] = truth["customer_id"].astype(str)
    joined = truth.merge(found, on="customer_id", how="inner", validate="one_to_one")
    if len(joined) != len(truth):
        raise RuntimeError(f"{len(truth) - len(joined)} planted customers missing from the marts")
    return (
        float(adjusted_rand_score(joined["planted_segment"], joined["segment_id"])),
        float(adjusted_rand_score(joined["planted_segment"], joined["ward_cluster"])),
    )


def standardise_like_pipeline(frame: pd.DataFrame) -> np.ndarray:
    """13 columns (minutes, CLV, 3 region one-hots, 8 channel one-hots), population std."""
    columns = {c.lower(): c for c in frame.columns}
    minutes = frame[columns["minutes_watched"]].fillna(0).to_numpy(dtype=float)
    clv = frame[columns["clv"]].to_numpy(dtype=float)
    region = frame[columns["region"]].to_numpy()
    channel = frame[columns["channel"]].to_numpy()
    x = np.column_stack(
        [minutes, clv]
        + [(region == r).astype(float) for r in (0, 1, 2)]
        + [(channel == c).astype(float) for c in range(1, 9)]
    )
    std = x.std(axis=0, ddof=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def lca_heights(merges: np.ndarray, leaf_of_sample: np.ndarray, n_leaves: int) -> np.ndarray:
    """Cophenetic distances among sampled customers: (s, s) heights of the merge that first
    joins their leaves; 0 for customers in the same leaf."""
    s = len(leaf_of_sample)
    distances = np.zeros((s, s))
    members: dict[int, list[int]] = {}
    for position, leaf in enumerate(leaf_of_sample):
        members.setdefault(int(leaf), []).append(position)
    for step, (left, right, height, _) in enumerate(merges):
        a = members.pop(int(left), None)
        b = members.pop(int(right), None)
        if a and b:
            distances[np.ix_(a, b)] = height
            distances[np.ix_(b, a)] = height
        merged = (a or []) + (b or [])
        if merged:
            members[n_leaves + step] = merged
    return distances


def ward_comparison(z: np.ndarray, cophenetic_sample: int, seed: int = 0) -> dict:
    n = z.shape[0]
    started = time.perf_counter()
    exact = ward_linkage(z)
    exact_clusters = cut_tree(exact, K)
    exact_s = time.perf_counter() - started

    started = time.perf_counter()
    leaf = micro_clusters(z, min(WARD_MICRO_CLUSTERS, n), random_state=RANDOM_STATE)
    centres, weights = leaf_centroids(z, leaf)
    merges = weighted_ward_linkage(centres, weights)
    two_stage_clusters = cut_tree(merges, K)[leaf]
    two_stage_s = time.perf_counter() - started

    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, min(cophenetic_sample, n), replace=False))
    d_exact = lca_heights(exact, sample, n)
    d_two = lca_heights(merges, leaf[sample], len(weights))
    upper = np.triu_indices(len(sample), 1)
    return {
        "rows": n,
        "leaves": len(weights),
        "ari": float(adjusted_rand_score(exact_clusters, two_stage_clusters)),
        "cophenetic": float(np.corrcoef(d_exact[upper], d_two[upper])[0, 1]),
        "sample": len(sample),
        "exact_s": exact_s,
        "two_stage_s": two_stage_s,
    }


def section_quality(
    args, planted: Sequence[tuple[int, Build, Path]], ref_path: Path, work: Path
) -> str:
    lines = ["## d. Quality", ""]
    rows = []
    for planted_rows, build, path in planted:
        if build.ok:
            ari, ward_ari = planted_ari(build, path)
            rows += [
                [
                    f"ARI k-means segment_id vs planted_segment, {planted_rows:,} customers",
                    f"{ari:.4f}",
                    f">= {TARGET_ARI}: {verdict(ari >= TARGET_ARI)}",
                ],
                [
                    f"ARI Ward cluster vs planted_segment, {planted_rows:,} customers "
                    f"({'two-stage' if planted_rows > 20_000 else 'exact'} Ward)",
                    f"{ward_ari:.4f}",
                    "",
                ],
            ]
        else:
            rows.append(
                [f"ARI vs planted_segment, {planted_rows:,} customers", build.outcome(), ""]
            )
        rows.append(
            [
                f"that build ({planted_rows:,} rows): wall s / CPU s / peak RSS GB",
                f"{fmt(build.wall, 1)} / {fmt(build.cpu_seconds, 0)} / {fmt(build.peak_rss_gb, 2)}",
                "",
            ]
        )
    lines += [md_table(["check", "value", "target"], rows), ""]

    frames = []
    reference = pd.read_csv(ref_path)
    name = "real data" if ref_path == REAL_DATA else ref_path.name
    if len(reference) >= args.ward_rows:
        sample = reference.sample(n=args.ward_rows, random_state=RANDOM_STATE)
        frames.append((f"{name}, seeded sample", sample))
    else:
        generated = ensure_synthetic(work / f"ward_demo_{args.ward_rows}.csv", args.ward_rows)
        frames.append((f"generator demo data (seed {SEED})", pd.read_csv(generated)))
        frames.append((f"{name}, all rows", reference))
    rows = []
    for label, frame in frames:
        result = ward_comparison(standardise_like_pipeline(frame), args.cophenetic_sample)
        log(f"ward quality on {label}: {result}")
        rows.append(
            [
                label,
                f"{result['rows']:,}",
                f"{result['leaves']:,}",
                f"{result['ari']:.4f}",
                f"{result['cophenetic']:.4f} (n = {result['sample']:,})",
                fmt(result["exact_s"], 2),
                fmt(result["two_stage_s"], 2),
            ]
        )
    lines += [
        "Two-stage Ward (1,000 k-means micro-clusters, weighted Ward over them) vs exact Ward, "
        "through the library (`customer_segmentation.ward`), 13 standardised features:",
        "",
        md_table(
            [
                "data",
                "rows",
                "leaves",
                f"ARI at k = {K}",
                "cophenetic correlation",
                "exact s",
                "two-stage s",
            ],
            rows,
        ),
        "",
    ]
    if len(reference) < args.ward_rows:
        lines += [
            f"The real file has {len(reference):,} rows, fewer than the {args.ward_rows:,} asked "
            "for, so the 20k comparison uses the project's generator and the real file is "
            "compared in full.",
            "",
        ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# report


def git_state(short: bool = False) -> str:
    """HEAD and the modified tracked files: what code was measured."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return "unknown"
    changed = [line[3:] for line in dirty if line.strip()]
    if short:
        return head + ("+dirty" if changed else "")
    return f"{head}" + (f" with uncommitted changes in {', '.join(changed)}" if changed else "")


def header(args, mode: str) -> str:
    memory = mem_total_gb()
    packages = [
        "dbt-core",
        "dbt-duckdb",
        "duckdb",
        "numpy",
        "pandas",
        "pyarrow",
        "scikit-learn",
        "scipy",
        "threadpoolctl",
    ]
    versions = ", ".join(f"{p} {version(p)}" for p in packages)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join(
        [
            "# Benchmark: dbt + DuckDB customer segmentation",
            "",
            f"- machine: {platform.platform()}, {platform.machine()}, "
            f"os.cpu_count() = {os.cpu_count()}, memory {fmt(memory, 1)} GiB (/proc/meminfo)",
            f"- Python {platform.python_version()}; {versions}",
            f"- code: git {git_state()}",
            f"- run: {datetime.now().isoformat(timespec='seconds')}, mode {mode}, "
            f"`{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}`; load average at start {load}",
            f"- scratch: `{args.work_dir}`; every dbt run has its own database, target and "
            "log folders there; dbt threads: "
            + (f"{args.dbt_threads} (--threads)" if args.dbt_threads else "2 (the profile)"),
            "",
        ]
    )


class Report:
    """Named sections in insertion order; printed when set, the file rewritten every time."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.sections: dict[str, str] = {}

    def set(self, key: str, text: str) -> None:
        self.sections[key] = text
        print(text, flush=True)
        if self.out is not None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.out.write_text("\n".join(self.sections.values()) + "\n", encoding="utf-8")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000, 10_000_000],
        help="synthetic input sizes for the stage table",
    )
    parser.add_argument(
        "--skip-large",
        action="store_true",
        help=f"drop sizes above {LARGE_ABOVE:,} from the stage table",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny smoke run: one 2,000-row synthetic input serves every section",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results.md", help="report file")
    parser.add_argument(
        "--timeout-per-build",
        type=float,
        default=3600.0,
        help="kill a dbt build after this many seconds and report where it was",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="scratch folder (default bench/out/run_<timestamp>)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=BENCH / "out" / "data",
        help="generated inputs, reused between runs",
    )
    parser.add_argument("--reference", type=Path, default=None, help="reference CSV (section a)")
    parser.add_argument("--repeat", type=int, default=None, help="repeats in section a")
    parser.add_argument("--score-rows", type=int, default=None, help="rows of the scored file")
    parser.add_argument("--planted-rows", type=int, default=None, help="rows of the planted input")
    parser.add_argument("--ward-rows", type=int, default=None, help="rows of the Ward comparison")
    parser.add_argument("--cophenetic-sample", type=int, default=None)
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=["a", "b", "c", "d", "e", "f"],
        default=["a", "b", "c", "d", "e", "f"],
        help="report sections to run (a reference, b sizes, c scoring, d quality, "
        "e case-study defaults and make demo vs the notebook, f the reject path)",
    )
    parser.add_argument(
        "--dbt-threads", type=int, default=None, help="pass --threads N to every dbt run"
    )
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="sections b and c build with default settings (only input_path), not the "
        "notebook's n_init / k range",
    )
    parser.add_argument("--n-init", type=int, default=None, help=f"default {N_INIT}")
    parser.add_argument("--k-max", type=int, default=None, help=f"default {K_MAX}")
    args = parser.parse_args(argv)
    quick = args.quick
    if quick:
        args.sizes = [2_000]
    elif args.skip_large:
        args.sizes = [n for n in args.sizes if n <= LARGE_ABOVE]
    defaults = {
        "repeat": (1, 3),
        "score_rows": (2_000, 10_000_000),
        "planted_rows": (2_000, 1_000_000),
        "ward_rows": (2_000, 20_000),
        "cophenetic_sample": (500, 2_000),
        "n_init": (3, N_INIT),
        "k_max": (K, K_MAX),
    }
    for name, (small, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    if args.work_dir is None:
        args.work_dir = BENCH / "out" / f"run_{time.strftime('%Y%m%d_%H%M%S')}"
    args.work_dir = args.work_dir.resolve()
    args.data_dir = args.data_dir.resolve()
    if any(n < K for n in args.sizes):
        parser.error(f"sizes must be at least k = {K}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dbt_threads:
        DBT_EXTRA_ARGS[:] = ["--threads", str(args.dbt_threads)]
    if not DBT.exists():
        sys.exit(f"error: dbt not found next to {sys.executable}; run with .venv/bin/python")
    work, data = args.work_dir, args.data_dir
    work.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    report = Report(args.out)
    report.set("header", header(args, "quick" if args.quick else "full"))
    started = time.perf_counter()

    suffix = ".csv" if args.quick else ".parquet"
    planted_path = data / f"planted_{args.planted_rows}_seed{SEED}_ids{suffix}"
    ensure_synthetic(planted_path, args.planted_rows, planted=True, with_ids=True)

    def synthetic(rows: int) -> Path:
        if args.quick:
            return planted_path
        return ensure_synthetic(data / f"synthetic_{rows}_seed{SEED}.parquet", rows)

    def build_size(rows: int) -> Build:
        dbt_vars = segmentation_vars(synthetic(rows), args.n_init, args.k_max)
        if args.defaults:  # what a user runs: only the input, every setting its default
            dbt_vars = {"input_path": str(synthetic(rows))}
        return run_dbt(
            f"synthetic-{rows}",
            work / f"synthetic_{rows}",
            ["build"],
            dbt_vars=dbt_vars,
            timeout=args.timeout_per_build,
        )

    ref_path = args.reference or (REAL_DATA if REAL_DATA.exists() else DEMO_SEED)
    sections = set(args.sections)
    shared: Build | None = None
    if args.quick:
        # One 2,000-row planted CSV serves every section: reference, stages, scoring, ARI.
        ref_path = args.reference or planted_path
        shared = run_dbt(
            "quick",
            work / "quick",
            ["build"],
            dbt_vars=segmentation_vars(ref_path, args.n_init, args.k_max),
            timeout=args.timeout_per_build,
        )

    if "a" in sections:
        text, _ = section_reference(args, work, ref_path, shared)
        report.set("reference", text)

    if "e" in sections and not args.quick:
        import case_study  # bench/case_study.py: goals 1 and 2 of issue 16

        report.set("case_study", case_study.section(args, work, sys.modules[__name__]))

    if "f" in sections and not args.quick:
        import reject_path  # bench/reject_path.py: the 1 % corrupt file of issue 13

        report.set("reject_path", reject_path.section(args, work, sys.modules[__name__]))

    # Sizes up to 1M first (the 1M fit is scored in section c), larger ones last.
    size_builds: dict[int, Build] = {}
    order = sorted(set(args.sizes)) if "b" in sections else []
    for rows in [n for n in order if n <= LARGE_ABOVE]:
        size_builds[rows] = shared if shared is not None else build_size(rows)
        report.set("sizes", section_sizes(size_builds, args))

    if "c" in sections:
        args.fit_rows_wanted = 2_000 if args.quick else 1_000_000
        if args.fit_rows_wanted not in size_builds:
            size_builds_fit = shared if shared is not None else build_size(args.fit_rows_wanted)
            fit_pool = {**size_builds, args.fit_rows_wanted: size_builds_fit}
        else:
            fit_pool = size_builds
        fit_rows = max((n for n, b in fit_pool.items() if b.ok), default=None)
        wanted = fit_pool.get(args.fit_rows_wanted)
        args.fit_failure = wanted.outcome() if wanted is not None and not wanted.ok else None
        if args.quick:
            score_path = planted_path
        else:
            name = f"synthetic_{args.score_rows}_seed{SEED}.parquet"
            score_path = ensure_synthetic(data / name, args.score_rows)
        report.set(
            "scoring",
            section_scoring(
                args,
                work,
                fit_pool[fit_rows] if fit_rows else None,
                fit_rows or 0,
                synthetic(fit_rows) if fit_rows else score_path,
                score_path,
            ),
        )

    if "d" in sections:
        planted_runs: list[tuple[int, Build, Path]] = []
        if shared is not None:
            planted_runs.append((args.planted_rows, shared, planted_path))
        else:
            planted_runs.append(
                (
                    args.planted_rows,
                    run_dbt(
                        f"planted-{args.planted_rows}",
                        work / f"planted_{args.planted_rows}",
                        ["build"],
                        dbt_vars=segmentation_vars(planted_path, args.n_init, args.k_max),
                        timeout=args.timeout_per_build,
                    ),
                    planted_path,
                )
            )
            fallback = FALLBACK_ROWS
            if not planted_runs[0][1].ok and args.planted_rows > fallback:
                log(f"planted build failed; falling back to {fallback:,} planted customers")
                path = data / f"planted_{fallback}_seed{SEED}_ids.parquet"
                ensure_synthetic(path, fallback, planted=True, with_ids=True)
                fallback_build = run_dbt(
                    f"planted-{fallback}",
                    work / f"planted_{fallback}",
                    ["build"],
                    dbt_vars=segmentation_vars(path, args.n_init, args.k_max),
                    timeout=args.timeout_per_build,
                )
                planted_runs.append((fallback, fallback_build, path))
        report.set("quality", section_quality(args, planted_runs, ref_path, data))

    large = [n for n in order if n > LARGE_ABOVE]
    if large:
        report.set("large", f"({len(large)} larger build(s) running; see section b.)\n")
    for rows in large:
        size_builds[rows] = build_size(rows)
        report.set("sizes", section_sizes(size_builds, args))
    report.sections.pop("large", None)
    report.set("end", f"Total benchmark time {time.perf_counter() - started:,.0f} s.\n")
    if args.out is not None:
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
