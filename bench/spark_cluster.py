"""The whole dbt build on three engines: DuckDB, Spark ``local[2]`` and a Spark standalone
cluster on this machine (a master and two workers, 1 core and 2 GB each, started from pyspark's
jars); wall time and peak resident memory of each process tree (driver, master, workers with
their executors).

Without ``--rows`` the input is the demo seed (3,834 rows). With ``--rows N`` it is a generated
Parquet file (``demo.generate``, seed 7) that every engine reads with ``input_path`` (Spark with
its own Parquet reader, in the executors: on this machine they see the driver's files; on a
multi-node cluster the file must be on storage every node sees).

Run:  .venv/bin/python bench/spark_cluster.py [--rows 1000000] [--engines duckdb local cluster]
      [--work-dir /tmp/spark_bench] [--out bench/spark_cluster.md]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The demo generators (demo/) and the standalone cluster of the Spark tests
# (tests/spark/standalone.py) live in the repository, outside the installed package.
sys.path.insert(0, str(REPO))
from demo.generate import write_customers  # noqa: E402
from tests.spark.standalone import PeakMemory, StandaloneCluster  # noqa: E402

ENGINES = ("duckdb", "local", "cluster")


@dataclass
class Measured:
    """One build: wall seconds, exit code and each process tree's peak RSS (bytes)."""

    name: str
    seconds: float
    returncode: int
    peaks: dict[str, int]
    tail: str = ""


def _environment(scratch: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CUSTOMER_SEGMENTATION_DB": str(scratch / "warehouse.duckdb"),
        "CUSTOMER_SEGMENTATION_SPARK_DIR": str(scratch),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def measure(name: str, command: list[str], scratch: Path, roles: dict[str, int]) -> Measured:
    """Run ``command`` from the repository root, sampling the memory of its process tree
    (``driver``) and of ``roles``; killed after 2 hours."""
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with PeakMemory(roles) as memory:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=_environment(scratch),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        memory.add("driver", process.pid)
        try:
            output, _ = process.communicate(timeout=7200)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    seconds = time.perf_counter() - started
    return Measured(name, seconds, process.returncode, dict(memory.peaks), output[-3000:])


def dbt_options(scratch: Path, variables: dict) -> list[str]:
    return ["--vars", json.dumps(variables), "--target-path", str(scratch / "target")] + [
        "--log-path",
        str(scratch / "logs"),
    ]


def run_engines(args: argparse.Namespace) -> list[Measured]:
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    settings = {"n_init": args.n_init, "k_max": args.k_max}
    runner = [sys.executable, "-m", "customer_segmentation.cli", "spark"]
    source = None
    if args.rows:
        source = write_customers(work / "customers.parquet", args.rows, seed=7, with_ids=True)
    results = []
    for engine in args.engines:
        scratch = work / engine
        variables = dict(settings)
        if source is not None:
            variables["input_path"] = str(source)
        if engine == "duckdb":
            command = [str(Path(sys.executable).parent / "dbt"), "build"]
            results.append(measure(engine, command + dbt_options(scratch, variables), scratch, {}))
        elif engine == "local":
            command = runner + ["build"] + dbt_options(scratch, variables)
            results.append(measure("spark local[2]", command, scratch, {}))
        else:
            results.append(cluster_build(runner, scratch, variables))
    return results


def cluster_build(runner: list[str], scratch: Path, variables: dict) -> Measured:
    started = time.perf_counter()
    with StandaloneCluster(scratch=scratch / "cluster", workers=2) as cluster:
        startup = time.perf_counter() - started
        command = runner + ["--master", cluster.master_url]
        command += ["--conf", "spark.driver.host=127.0.0.1", "build"]
        result = measure(
            f"spark standalone, 2 workers (cluster start-up {startup:.0f} s not included)",
            command + dbt_options(scratch, variables),
            scratch,
            cluster.pids,
        )
    return result


def report(results: list[Measured], rows: int) -> str:
    roles = sorted({role for result in results for role in result.peaks})
    lines = [
        f"Input: {f'{rows:,} generated rows' if rows else 'demo seed (3,834 rows)'}.",
        "",
        "| build | wall s | exit | " + " | ".join(f"peak RSS {r}, MB" for r in roles) + " |",
        "|---|---:|---:|" + "---:|" * len(roles),
    ]
    for result in results:
        cells = [f"{result.peaks[r] / 1e6:,.0f}" if r in result.peaks else "" for r in roles]
        lines.append(
            f"| {result.name} | {result.seconds:.0f} | {result.returncode} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=0, help="generated rows (default: demo)")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument("--k-max", type=int, default=8)
    parser.add_argument("--work-dir", default="/tmp/spark_cluster_bench")
    parser.add_argument("--out", help="also write the markdown table here")
    args = parser.parse_args(argv)
    results = run_engines(args)
    table = report(results, args.rows)
    print(table)
    for result in results:
        if result.returncode != 0:
            print(f"\n{result.name} failed:\n{result.tail}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0 if all(r.returncode == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
