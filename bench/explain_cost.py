"""Extra cost of the margin's top features (customer_segmentation.explain) on a built database.

    python bench/explain_cost.py --database <build>.duckdb --target-path <dbt target>

a. Python: ``kernels.assignment_columns`` on the build's z scores and centroids, without and
   with the feature groups (the work of ml_customer_assignments minus its reads and writes).
b. SQL: the compiled int_customer_scores (target/compiled/...), as built and cut back to its
   nearest-centroid CTE ``assigned`` (what scoring did before the top features).

Median of ``--repeats`` runs each; prints one Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

from customer_segmentation.explain import FeatureGroups
from customer_segmentation.features import FeatureSet, to_matrix, z_columns
from customer_segmentation.kernels import assignment_columns
from customer_segmentation.segments import centroid_matrix


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def python_cost(con: duckdb.DuckDBPyConnection, repeats: int) -> tuple[float, float, int]:
    z_table = con.sql("select * from ml.ml_customer_features_z order by fit_row").to_arrow_table()
    fit = con.sql("select * from ml.ml_kmeans_fit").to_arrow_table()
    features = FeatureSet.from_arrow(
        con.sql("select * from intermediate.int_feature_definitions").to_arrow_table()
    )
    z = to_matrix(z_table, z_columns(z_table))
    centres = centroid_matrix(fit)
    ids = np.asarray(sorted(set(fit["segment_id"].to_pylist())))
    groups = FeatureGroups.from_sources([f.source for f in features.features])
    keys = z_table["customer_id"]
    before = median_seconds(lambda: assignment_columns(keys, z, centres, ids), repeats)
    after = median_seconds(lambda: assignment_columns(keys, z, centres, ids, groups), repeats)
    return before, after, z.shape[0]


def sql_cost(con: duckdb.DuckDBPyConnection, compiled: str, repeats: int) -> tuple[float, float]:
    full = compiled.strip()
    if not full.endswith("select * from final"):
        raise SystemExit("the compiled int_customer_scores does not end in 'select * from final'")
    nearest_only = full[: -len("final")] + "assigned"

    def run(sql: str) -> Callable[[], object]:
        return lambda: con.execute(f"create or replace temp table explain_bench as {sql}")

    return median_seconds(run(nearest_only), repeats), median_seconds(run(full), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--target-path", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    compiled = next(args.target_path.rglob("compiled/**/int_customer_scores.sql")).read_text()
    with duckdb.connect(str(args.database)) as con:
        py_before, py_after, rows = python_cost(con, args.repeats)
        sql_before, sql_after = sql_cost(con, compiled, args.repeats)
    print(f"{rows:,} customers, median of {args.repeats}\n")
    print("| step | without top features (s) | with (s) | extra (s) |")
    print("|---|---:|---:|---:|")
    for step, before, after in [
        ("assignment (Python)", py_before, py_after),
        ("SQL scoring", sql_before, sql_after),
    ]:
        print(f"| {step} | {before:.3f} | {after:.3f} | {after - before:.3f} |")


if __name__ == "__main__":
    main()
