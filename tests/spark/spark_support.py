"""Helpers shared by the Spark tests (kept out of conftest.py so that ``import`` by name works
whichever test folders a run collects)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from customer_segmentation.settings import SegmentationSettings
from demo import generate as demo_data

REPO = Path(__file__).resolve().parents[2]
#: The canonical fit order of int_customer_features on the demo columns.
ORDER = "minutes_watched, customer_lifetime_value, region_code, channel_code, customer_id"
#: Startup and fit timings, and the agreement figures the tests measured: printed at the end.
TIMINGS: dict[str, float] = {}
FIGURES: dict[str, float] = {}
#: Small settings for the whole-project builds on both engines (fast, same restarts).
VARS = {"n_init": 10, "k_max": 8}


def require_spark():
    """Skip (with the reason) unless pyspark imports and a Java runtime is on PATH."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed: pip install -e '.[spark]' (make test-spark)"
    )
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH: local Spark needs Java 17")


def customer_features(rows: int, seed: int) -> pa.Table:
    """``int_customer_features`` for planted demo customers (well-separated segments), in
    generator order: customer_id, minutes (blank -> 0), CLV, codes, one-hot columns from the
    seeds, plus the truth column planted_segment."""
    raw = demo_data.generate_customers(rows, seed=seed, planted=True, with_ids=True)
    columns = {
        "customer_id": raw["customer_id"],
        "minutes_watched": pc.fill_null(raw["minutes_watched"], 0.0),
        "customer_lifetime_value": raw["CLV"],
        "region_code": raw["region"],
        "channel_code": raw["channel"],
    }
    for kind, code in (("region", "region"), ("channel", "channel")):
        with open(REPO / "seeds" / f"{kind}s.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                hit = pc.equal(raw[code], int(row[f"{kind}_code"]))
                columns[f"is_{kind}_{row[f'{kind}_key']}"] = pc.cast(hit, pa.int32())
    columns["planted_segment"] = raw["planted_segment"]
    return pa.table(columns)


def feature_names(features: pa.Table) -> list[str]:
    names = ["minutes_watched", "customer_lifetime_value"]
    return names + [c for c in features.column_names if c.startswith("is_")]


def canonical(features: pa.Table) -> pa.Table:
    """The rows in the order the DuckDB path reads them (``order by`` ORDER)."""
    return features.sort_by([(name.strip(), "ascending") for name in ORDER.split(",")])


def feature_set(names: list[str]):
    """The FeatureSet of the planted customers' columns (minutes, CLV, one-hot flags)."""
    from customer_segmentation.features import Feature, FeatureSet

    features = [
        Feature("minutes_watched", "numeric", "minutes_watched", "minutes", role="engagement"),
        Feature(
            "customer_lifetime_value",
            "numeric",
            "customer_lifetime_value",
            "CLV",
            is_summable=True,
            role="value",
        ),
    ]
    for name in names[2:]:
        source = "region" if name.startswith("is_region_") else "channel"
        features.append(Feature(name, "one_hot", source, name))
    return FeatureSet(tuple(features))


@dataclass
class Fitted:
    """The same customers through both engines (numpy = the DuckDB path's library calls)."""

    features: pa.Table
    names: list[str]
    settings: SegmentationSettings
    spark_settings: SegmentationSettings
    feature_set: object
    scaler: pa.Table
    z: pa.Table
    diagnostics: pa.Table
    fit: pa.Table
    assignments: pa.Table
    spark_features: object
    spark_scaler: object
    spark_z: object
    spark_diagnostics: object
    spark_fit: object
    spark_assignments: object


def by_key(table: pa.Table, column: str, keys: list) -> np.ndarray:
    """``column`` of ``table`` in the order of ``keys`` (customer ids, compared as text: the
    fit carries the key as text, the generator writes integers)."""
    position = {str(key): i for i, key in enumerate(table["customer_id"].to_pylist())}
    values = table[column].to_pylist()
    return np.array([values[position[str(key)]] for key in keys], dtype=object)


def run_in_repo(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``command`` from the repository root with ``env`` added; output captured."""
    return subprocess.run(
        command, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=1800
    )


def spark_table(warehouse: Path, schema: str, table: str) -> pa.Table:
    """A table dbt-spark wrote (parquet files under <warehouse>/<schema>.db/<table>)."""
    return pq.read_table(warehouse / f"{schema}.db" / table)


def duckdb_table(database: Path, schema: str, table: str) -> pa.Table:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.table(f"{schema}.{table}").to_arrow_table()
