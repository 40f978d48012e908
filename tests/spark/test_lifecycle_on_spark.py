"""Segment lifecycle on Spark: two `dbt build --target spark` runs into one warehouse (k = 8,
then k = 6 on the same demo customers), so ml_previous_fit and ml_previous_assignments carry
the first run into the second and the lifecycle marts have rows to compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sklearn.metrics import adjusted_rand_score
from spark_support import REPO, require_spark

pytestmark = pytest.mark.spark

VARS = {"n_init": 10, "k_max": 8}


def _build(scratch: Path, **dbt_vars) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "customer_segmentation.spark.runner", "build"]
        + ["--vars", json.dumps({**VARS, **dbt_vars})]
        + ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
        cwd=REPO,
        env={
            **os.environ,
            "CUSTOMER_SEGMENTATION_SPARK_DIR": str(scratch),
            "DBT_PROFILES_DIR": str(REPO),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    require_spark()
    scratch = tmp_path_factory.mktemp("lifecycle_spark")
    _build(scratch)
    _build(scratch, k=6)
    return scratch / "warehouse"


def _rows(warehouse: Path, schema: str, table: str) -> list[dict]:
    return pq.read_table(warehouse / f"{schema}.db" / table).to_pylist()


def test_a_spark_rebuild_with_another_k_keeps_ids_and_fills_the_lifecycle_marts(rebuilt):
    previous = {
        r["customer_id"]: r["segment_id"] for r in _rows(rebuilt, "ml", "ml_previous_assignments")
    }
    current = {
        r["customer_id"]: r["segment_id"] for r in _rows(rebuilt, "ml", "ml_customer_assignments")
    }
    assert len(previous) == len(current) == 3834 and set(previous.values()) == set(range(1, 9))
    runs = sorted({r["run_started_at"] for r in _rows(rebuilt, "marts", "segment_id_history")})
    assert len(runs) == 2
    history = [
        r for r in _rows(rebuilt, "marts", "segment_id_history") if r["run_started_at"] == runs[1]
    ]
    live = {r["segment_id"] for r in history if r["lifecycle_event"] not in ("merged", "retired")}
    assert live == set(current.values()) and len(live) == 6
    for row in history:
        if row["lifecycle_event"] == "continued":
            assert row["previous_segment_id"] == row["segment_id"] <= 8
        elif row["lifecycle_event"] in ("born", "split"):
            assert row["segment_id"] > 8
    cells = Counter(
        {(r["from_segment_id"], r["to_segment_id"]): r["count_customers"]
         for r in _rows(rebuilt, "marts", "segment_transitions")}
    )  # fmt: skip
    assert cells == Counter((previous[c], current[c]) for c in previous)
    drift = sorted(_rows(rebuilt, "marts", "segment_drift"), key=lambda r: r["run_started_at"])
    assert len(drift) == 2 and drift[0]["adjusted_rand_index"] is None
    common = sorted(previous)
    expected = adjusted_rand_score([previous[c] for c in common], [current[c] for c in common])
    assert drift[1]["adjusted_rand_index"] == pytest.approx(expected, abs=1e-9)
    assert drift[1]["min_ari_threshold"] is not None
    jaccard = [r["bootstrap_jaccard"] for r in _rows(rebuilt, "marts", "segment_profiles")]
    assert len(jaccard) == 6 and all(0 <= value <= 1 for value in jaccard)
