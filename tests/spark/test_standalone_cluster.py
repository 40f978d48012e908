"""The whole project on a real Spark cluster: a standalone master and two workers, each its own
JVM on 127.0.0.1, started from pyspark's jars; ``customer-segmentation spark --master
spark://...`` builds the demo with the driver in the runner's process and the executors in the
workers, and every customer gets the segment the DuckDB build gives it.

The cluster shares this machine's filesystem: warehouse and metastore are in a temp dir all
processes see, and the executors' Python is the driver's (this venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from spark_support import FIGURES, REPO, TIMINGS, VARS, duckdb_table, require_spark, spark_table

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A master and two workers (1 core, 2 GB each); stopped by their PIDs afterwards, also
    when a test or the start-up fails."""
    require_spark()
    from standalone import StandaloneCluster

    started = time.perf_counter()
    standalone = StandaloneCluster(scratch=tmp_path_factory.mktemp("cluster"), workers=2)
    try:
        standalone.start()
        TIMINGS["standalone cluster start-up (master + 2 workers registered)"] = (
            time.perf_counter() - started
        )
        yield standalone
    finally:
        standalone.stop()


@pytest.fixture(scope="module")
def cluster_build(cluster, tmp_path_factory):
    """`customer-segmentation spark --master spark://... build` of the whole project; the
    warehouse directory, the output, and the applications the master saw."""
    from standalone import PeakMemory

    scratch = tmp_path_factory.mktemp("dbt_cluster")
    command = [sys.executable, "-m", "customer_segmentation.cli", "spark"]
    command += ["--master", cluster.master_url, "--conf", "spark.driver.host=127.0.0.1"]
    command += ["build", "--vars", json.dumps(VARS)]
    command += ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]
    environment = {
        "CUSTOMER_SEGMENTATION_SPARK_DIR": str(scratch),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    started = time.perf_counter()
    with PeakMemory(cluster.pids) as memory:
        driver = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **environment},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        memory.add("driver", driver.pid)
        try:
            output, _ = driver.communicate(timeout=1800)
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.wait()
    TIMINGS["customer-segmentation spark build on the standalone cluster (JVM start included)"] = (
        time.perf_counter() - started
    )
    for role, peak in memory.peaks.items():
        FIGURES[f"standalone cluster: peak RSS of {role} (process tree), MB"] = peak / 1e6
    assert driver.returncode == 0, output[-6000:]
    return scratch / "warehouse", output, cluster.state()


def test_the_build_ran_on_the_cluster(cluster_build):
    _, output, state = cluster_build
    assert "ERROR=0" in output and "PASS=" in output
    applications = state["activeapps"] + state["completedapps"]
    assert applications, "the master saw no application: the build did not use the cluster"
    assert all(app["cores"] <= 2 for app in applications)
    assert {worker["state"] for worker in state["workers"]} == {"ALIVE"}


def test_cluster_segments_equal_the_duckdb_segments(cluster_build, duckdb_database):
    warehouse, _, _ = cluster_build
    segments = [
        dict(zip(t["customer_id"].to_pylist(), t["segment_id"].to_pylist(), strict=True))
        for t in (
            spark_table(warehouse, "marts", "customer_segments"),
            duckdb_table(duckdb_database, "marts", "customer_segments"),
        )
    ]
    assert len(segments[0]) == len(segments[1]) == 3834
    assert segments[0].keys() == segments[1].keys()
    differing = [c for c in segments[1] if segments[0][c] != segments[1][c]]
    FIGURES["standalone cluster vs DuckDB, customers with another segment id"] = len(differing)
    assert differing == []
