"""The plain notebook way, in one process: the baseline the dbt build is benchmarked against.

pandas reads the CSV, blank minutes become 0, region and channel are one-hot encoded with
``pd.get_dummies``, the 13 features are standardised with ``StandardScaler`` (population std),
scipy's Ward linkage is cut at k with ``fcluster``, k-means (k-means++, ``n_init`` restarts,
``random_state``) runs for every k in k_min..k_max with WCSS, silhouette, Calinski-Harabasz and
Davies-Bouldin, the final k-means is fitted at k, per-segment summaries come from ``groupby``,
and the per-customer result and the summaries are written to a DuckDB file.

Deliberately naive (no canonical row order, no quarantine of bad rows, no contracts): it is the
cost floor of the same computation without dbt. The silhouette follows the dbt build's rule so
the work is comparable: exact up to ``silhouette_max_rows`` rows, a seeded sample above.
Exact Ward needs O(n²) memory (8·n²/2 bytes), so keep the input small (the real file is 3,834
rows).

``threads`` caps the OpenMP/BLAS threads (threadpoolctl); the default leaves scikit-learn's own
choice (all cores), as a notebook would.

Run:  .venv/bin/python bench/notebook_baseline.py CSV [--k 8] [--k-max 10] [--n-init 10]
      [--random-state 0] [--threads N] [--db out.duckdb] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

REGION_CODES = (0, 1, 2)
CHANNEL_CODES = (1, 2, 3, 4, 5, 6, 7, 8)
STAGES = (
    "read",
    "features",
    "standardise",
    "ward",
    "k_diagnostics",
    "final_fit",
    "summaries",
    "write",
)


class _Clock:
    """Collects wall-clock seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def _one_hot(values: pd.Series, codes: tuple[int, ...], prefix: str) -> pd.DataFrame:
    """One 0/1 column per code, all codes present even when a code does not occur."""
    categorical = values.astype(pd.CategoricalDtype(list(codes)))
    return pd.get_dummies(categorical, prefix=prefix, dtype=float)


def _silhouette(
    z: np.ndarray, labels: np.ndarray, random_state: int, max_rows: int, sample_size: int
) -> float:
    sample = None if z.shape[0] <= max_rows else min(sample_size, z.shape[0])
    return float(silhouette_score(z, labels, sample_size=sample, random_state=random_state))


def run_baseline(
    csv_path: str | Path,
    k: int = 8,
    k_max: int = 10,
    n_init: int = 10,
    random_state: int = 0,
    *,
    k_min: int = 1,
    db_path: str | Path | None = None,
    silhouette_max_rows: int = 20_000,
    silhouette_sample_size: int = 10_000,
    threads: int | None = None,
) -> dict[str, float]:
    """Run the notebook pipeline on ``csv_path`` and return seconds per stage.

    Keys: the names in :data:`STAGES` and ``total``. The result tables go to ``db_path``
    (schema ``notebook_results``: customer_segments, segment_profiles, k_diagnostics); without
    ``db_path`` a temporary DuckDB file is written and removed afterwards. ``threads`` limits
    the native thread pools (None: library defaults).
    """
    limits = threadpool_limits(limits=threads) if threads else contextlib.nullcontext()
    with limits:
        return _run(
            csv_path,
            k,
            k_min,
            k_max,
            n_init,
            random_state,
            db_path,
            silhouette_max_rows,
            silhouette_sample_size,
        )


def _run(
    csv_path: str | Path,
    k: int,
    k_min: int,
    k_max: int,
    n_init: int,
    random_state: int,
    db_path: str | Path | None,
    silhouette_max_rows: int,
    silhouette_sample_size: int,
) -> dict[str, float]:
    clock = _Clock()
    started = time.perf_counter()

    with clock.stage("read"):
        df = pd.read_csv(csv_path)
        df.columns = [c.strip() for c in df.columns]
        if "customer_id" not in df.columns:
            df.insert(0, "customer_id", np.arange(1, len(df) + 1))

    with clock.stage("features"):
        df["minutes_watched"] = df["minutes_watched"].fillna(0.0)
        features = pd.concat(
            [
                df[["minutes_watched", "CLV"]].astype(float),
                _one_hot(df["region"], REGION_CODES, "region"),
                _one_hot(df["channel"], CHANNEL_CODES, "channel"),
            ],
            axis=1,
        )

    with clock.stage("standardise"):
        scaler = StandardScaler()
        z = scaler.fit_transform(features.to_numpy())

    with clock.stage("ward"):
        tree = linkage(z, method="ward", metric="euclidean")
        df["ward_cluster"] = fcluster(tree, t=k, criterion="maxclust")

    diagnostics = []
    with clock.stage("k_diagnostics"):
        for n_clusters in range(k_min, k_max + 1):
            model = KMeans(
                n_clusters=n_clusters,
                init="k-means++",
                n_init=n_init,
                random_state=random_state,
            ).fit(z)
            row = {"k": n_clusters, "wcss": float(model.inertia_), "n_iter": int(model.n_iter_)}
            if 2 <= len(np.unique(model.labels_)) < z.shape[0]:
                row["silhouette"] = _silhouette(
                    z, model.labels_, random_state, silhouette_max_rows, silhouette_sample_size
                )
                row["calinski_harabasz"] = float(calinski_harabasz_score(z, model.labels_))
                row["davies_bouldin"] = float(davies_bouldin_score(z, model.labels_))
            diagnostics.append(row)
        diagnostics_df = pd.DataFrame(diagnostics)

    with clock.stage("final_fit"):
        final = KMeans(
            n_clusters=k, init="k-means++", n_init=n_init, random_state=random_state
        ).fit(z)
        df["segment"] = final.labels_ + 1
        centroids = pd.DataFrame(
            scaler.inverse_transform(final.cluster_centers_), columns=features.columns
        )
        df["distance_to_centroid"] = np.sqrt(
            ((z - final.cluster_centers_[final.labels_]) ** 2).sum(axis=1)
        )

    with clock.stage("summaries"):
        grouped = df.groupby("segment")
        profiles = grouped.agg(
            customers=("customer_id", "size"),
            total_clv=("CLV", "sum"),
            mean_clv=("CLV", "mean"),
            median_clv=("CLV", "median"),
            mean_minutes=("minutes_watched", "mean"),
            median_minutes=("minutes_watched", "median"),
            mean_distance=("distance_to_centroid", "mean"),
        )
        profiles["share"] = profiles["customers"] / profiles["customers"].sum()
        profiles["dominant_region"] = pd.crosstab(df["segment"], df["region"]).idxmax(axis=1)
        profiles["dominant_channel"] = pd.crosstab(df["segment"], df["channel"]).idxmax(axis=1)
        profiles = profiles.join(centroids.add_prefix("centroid_").set_index(profiles.index))
        profiles = profiles.reset_index()

    scratch = None
    if db_path is None:
        scratch = Path(tempfile.mkdtemp(prefix="notebook_baseline_"))
        db_path = scratch / "notebook.duckdb"
    try:
        with clock.stage("write"):
            with duckdb.connect(str(db_path)) as con:
                con.execute("create schema if not exists notebook_results")
                for name, frame in (
                    ("customer_segments", df),
                    ("segment_profiles", profiles),
                    ("k_diagnostics", diagnostics_df),
                ):
                    con.register("frame_view", frame)
                    table = f"notebook_results.{name}"
                    con.execute(f"create or replace table {table} as select * from frame_view")
                    con.unregister("frame_view")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    timings = {name: clock.seconds.get(name, 0.0) for name in STAGES}
    timings["total"] = time.perf_counter() - started
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "csv", type=Path, help="customer CSV (minutes_watched, CLV, region, channel)"
    )
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--k-min", type=int, default=1)
    parser.add_argument("--k-max", type=int, default=10)
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="cap native threads")
    parser.add_argument(
        "--db", type=Path, default=None, help="DuckDB file to write (default: temp)"
    )
    parser.add_argument("--json", action="store_true", help="print the timings as one JSON line")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        parser.error(f"{args.csv}: file not found")
    if not 1 <= args.k_min <= args.k_max or args.k < 1:
        parser.error("need 1 <= k_min <= k_max and k >= 1")

    timings = run_baseline(
        args.csv,
        k=args.k,
        k_max=args.k_max,
        n_init=args.n_init,
        random_state=args.random_state,
        k_min=args.k_min,
        db_path=args.db,
        threads=args.threads,
    )
    if args.json:
        print(json.dumps(timings))
    else:
        print("| stage | seconds |\n|---|---:|")
        for name, seconds in timings.items():
            print(f"| {name} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
