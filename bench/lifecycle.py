"""What the segment lifecycle costs: the nodes it adds to a rebuild, and the shared-customer
count inside ml_kmeans_fit.

For each size the same input is built twice into one database, so the second build has a
previous run to compare with (the first run's lifecycle nodes have nothing to compare). The
node times of that second build come from dbt's run_results.json: ml_previous_assignments
(copy the last assignments), int_segment_transitions (a view, timed inside the marts that read
it), segment_transitions, segment_drift, segment_id_history and the drift tests. The overlap
(nearest centroid per customer, join on customer_id, group by) runs inside ml_kmeans_fit; it
is timed in process with the local engine on the same number of rows.

Run:  .venv/bin/python bench/lifecycle.py [--sizes 3834 1000000] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
NODES = (
    "ml_previous_fit",
    "ml_previous_assignments",
    "ml_kmeans_fit",
    "ml_customer_assignments",
    "segment_transitions",
    "segment_drift",
    "segment_id_history",
)


def build(database: Path, scratch: Path, dbt_vars: dict) -> tuple[float, dict[str, float]]:
    """One ``dbt build``: wall seconds and seconds per node (tests summed per model name)."""
    command = [str(DBT), "build", "--target-path", str(scratch / "target"), "--log-path",
               str(scratch / "logs"), "--vars", json.dumps(dbt_vars)]  # fmt: skip
    env = {**os.environ, "CUSTOMER_SEGMENTATION_DB": str(database), "DBT_PROFILES_DIR": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-4000:])
    results = json.loads((scratch / "target" / "run_results.json").read_text())["results"]
    seconds: dict[str, float] = {}
    for result in results:
        name = (
            result["unique_id"].split(".")[2] if result["unique_id"].startswith("model.") else None
        )
        if result["unique_id"].startswith("test.") and "segment_drift" in result["unique_id"]:
            name = "drift tests"
        if name:
            seconds[name] = seconds.get(name, 0.0) + result["execution_time"]
    return wall, seconds


def overlap_seconds(rows: int, k: int = 8, d: int = 13, repeat: int = 3) -> float:
    """Median seconds of LocalEngine.overlap on ``rows`` random customers, all in both runs."""
    from customer_segmentation.engines import LocalEngine

    rng = np.random.default_rng(0)
    ids = pa.array([f"C{i}" for i in range(rows)], pa.string())
    z = {"fit_row": pa.array(np.arange(rows)), "customer_id": ids}
    z.update({f"f{j}_z": rng.normal(size=rows) for j in range(d)})
    previous = pa.table(
        {"customer_id": ids, "segment_id": rng.integers(1, k + 1, rows, dtype=np.int32)}
    )
    centres = rng.normal(size=(k, d))
    times = []
    for _ in range(repeat):
        engine = LocalEngine()
        started = time.perf_counter()
        engine.overlap(pa.table(z), centres, previous)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def input_for(rows: int, folder: Path) -> dict:
    if rows == 3834:
        return {}  # the demo seed
    sys.path.insert(0, str(REPO))
    from demo.generate import write_customers

    path = folder / f"customers_{rows}.parquet"
    if not path.exists():
        write_customers(path, rows, seed=7, with_ids=True)
    return {"input_path": str(path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3834, 1_000_000])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/lifecycle_bench"))
    args = parser.parse_args()
    print(
        "| rows | 2nd build wall s | " + " | ".join(NODES) + " | drift tests | overlap in process |"
    )
    print("|---:|---:|" + "---:|" * (len(NODES) + 2))
    for rows in args.sizes:
        folder = args.work_dir / str(rows)
        folder.mkdir(parents=True, exist_ok=True)
        database = folder / "bench.duckdb"
        database.unlink(missing_ok=True)
        dbt_vars = {"n_init": 10, **input_for(rows, args.work_dir)}
        build(database, folder, dbt_vars)
        wall, seconds = build(database, folder, dbt_vars)
        cells = [f"{seconds.get(name, float('nan')):.2f}" for name in (*NODES, "drift tests")]
        print(
            f"| {rows:,} | {wall:.1f} | " + " | ".join(cells) + f" | {overlap_seconds(rows):.2f} |"
        )


if __name__ == "__main__":
    main()
