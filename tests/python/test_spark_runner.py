"""The Spark runner's own options (no Spark needed): what ``customer-segmentation spark`` takes
before the dbt command and the environment it sets for dbt-spark's session."""

from __future__ import annotations

import os
import shlex
import time

import pytest

from customer_segmentation import cli
from customer_segmentation.spark import runner
from customer_segmentation.spark.runner import (
    MASTER_VARIABLE,
    RunnerOptions,
    spark_environment,
    split_arguments,
)


def test_runner_options_stop_at_the_dbt_command():
    options, dbt_args = split_arguments(
        ["--master", "spark://h:7077", "--conf", "spark.driver.host=10.0.0.9"]
        + ["--conf=spark.executor.memory=3g", "build", "--vars", "{k: 4}", "--master", "x"]
    )
    assert options.master == "spark://h:7077"
    assert options.conf == (("spark.driver.host", "10.0.0.9"), ("spark.executor.memory", "3g"))
    assert dbt_args == ["build", "--vars", "{k: 4}", "--master", "x"]


@pytest.mark.parametrize(
    "args", [["--conf", "no-equals", "build"], ["--conf", "=x", "build"], ["--master"]]
)
def test_malformed_runner_options_are_refused(args):
    with pytest.raises(ValueError):
        split_arguments(args)


def test_environment_sets_master_conf_and_executor_python():
    options = RunnerOptions("spark://h:7077", (("spark.driver.host", "a b"),))
    environ = {"PYSPARK_SUBMIT_ARGS": "--driver-memory 2g pyspark-shell"}
    updates = spark_environment(options, environ, python="/venv/bin/python")
    assert updates[MASTER_VARIABLE] == "spark://h:7077"
    assert shlex.split(updates["PYSPARK_SUBMIT_ARGS"]) == [
        "--driver-memory", "2g", "--conf", "spark.driver.host=a b", "pyspark-shell",
    ]  # fmt: skip
    assert updates["PYSPARK_PYTHON"] == "/venv/bin/python"


def test_environment_keeps_what_the_user_set():
    assert spark_environment(RunnerOptions(), {"PYSPARK_PYTHON": "/opt/py"}) == {}
    named = RunnerOptions(conf=(("spark.pyspark.python", "/opt/py"),))
    assert "PYSPARK_PYTHON" not in spark_environment(named, {})
    assert MASTER_VARIABLE not in spark_environment(RunnerOptions(), {})


def test_cli_hands_spark_arguments_to_the_runner(monkeypatch):
    seen = {}

    def fake_run_dbt(args, *, options):
        seen.update(args=args, options=options)

        class Result:
            exception = None
            success = False

        return Result()

    monkeypatch.setattr(runner, "run_dbt", fake_run_dbt)
    code = cli.main(["spark", "--master", "local[1]", "seed", "--full-refresh"])
    assert code == 1  # dbt ran and a node failed
    assert seen == {"args": ["seed", "--full-refresh"], "options": RunnerOptions("local[1]")}
    assert cli.main(["spark", "--master", "local[1]"]) == 2  # no dbt command


def test_tree_memory_counts_the_children_and_ends_at_zero():
    import subprocess
    import sys

    from tests.spark.standalone import PeakMemory, tree_rss

    # A child that holds ~60 MB: the parent's tree holds at least that much more than itself.
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; b = bytearray(60_000_000); sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    try:
        with PeakMemory({"child": child.pid}, interval=0.05) as memory:
            for _ in range(200):
                if memory.peaks["child"] > 60_000_000:
                    break
                time.sleep(0.05)
        assert memory.peaks["child"] > 60_000_000
        assert tree_rss(os.getpid()) >= memory.peaks["child"] * 0.9
    finally:
        child.communicate(b"")
    assert tree_rss(child.pid) == 0


def test_a_cluster_that_never_started_stops_cleanly(tmp_path):
    from tests.spark.standalone import StandaloneCluster, free_port

    cluster = StandaloneCluster(scratch=tmp_path)
    cluster.stop()  # nothing started: no error, nothing signalled
    assert cluster.pids == {}
    port = free_port()
    assert 0 < port < 65536
    assert StandaloneCluster(scratch=tmp_path, master_port=port).master_url.endswith(f":{port}")
