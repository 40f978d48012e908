"""The local test harness: dbt-spark (method session) builds Python models in-process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from spark_support import TIMINGS

pytestmark = pytest.mark.spark

SCALER_MODEL = """
from customer_segmentation.engines import for_session
from customer_segmentation.spark import is_spark_dataframe


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers")
    if not is_spark_dataframe(customers):
        raise TypeError(f"expected a Spark DataFrame, got {type(customers)}")
    engine = for_session(session)
    if engine.name != "spark":
        raise TypeError(f"expected the Spark engine, got {engine.name}")
    scaler = engine.fit_scaler(customers, ["x", "y"])
    return engine.table(scaler.to_arrow())
"""

Z_MODEL = """
from customer_segmentation.engines import for_session
from customer_segmentation.scaling import FittedScaler


def model(dbt, session):
    dbt.config(materialized="table", file_format="parquet")
    customers = dbt.ref("customers")
    scaler = dbt.ref("scaler")
    engine = for_session(session)
    fitted = FittedScaler.from_arrow(engine.read(scaler))
    return engine.standardise(customers, fitted, "x, y, customer_id")
"""


def write_project(root: Path) -> None:
    metastore = f"jdbc:derby:;databaseName={root}/metastore_db;create=true"
    (root / "models").mkdir(parents=True)
    (root / "seeds").mkdir()
    (root / "dbt_project.yml").write_text(
        textwrap.dedent(
            """
            name: harness_check
            version: "1.0"
            config-version: 2
            profile: harness_check
            model-paths: [models]
            seed-paths: [seeds]
            """
        )
    )
    (root / "profiles.yml").write_text(
        textwrap.dedent(
            f"""
            harness_check:
              target: spark
              outputs:
                spark:
                  type: spark
                  method: session
                  host: localhost
                  schema: harness
                  threads: 1
                  server_side_parameters:
                    spark.master: "local[1]"
                    spark.sql.shuffle.partitions: "1"
                    spark.ui.enabled: "false"
                    spark.sql.warehouse.dir: "{root}/warehouse"
                    spark.hadoop.javax.jdo.option.ConnectionURL: "{metastore}"
                    spark.driver.extraJavaOptions: "-Dderby.system.home={root}"
            """
        )
    )
    # An empty cell must load as NULL, and a quote must survive (dbt-spark#901 workaround).
    (root / "seeds" / "customers.csv").write_text(
        "customer_id,x,y,note\n3,1.0,5,\n1,4.0,5,it's\n2,2.5,5,plain\n"
    )
    (root / "models" / "scaler.py").write_text(SCALER_MODEL)
    (root / "models" / "z.py").write_text(Z_MODEL)
    (root / "models" / "z_summary.sql").write_text(
        "select count(*) as count_rows, max(abs(y_z)) as max_abs_y_z from {{ ref('z') }}\n"
    )


def test_dbt_build_runs_python_models_in_the_local_session(spark, tmp_path):
    root = tmp_path / "project"
    write_project(root)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "customer_segmentation.spark.runner", "build"]
        + ["--project-dir", str(root), "--profiles-dir", str(root)],
        cwd=root,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    TIMINGS["dbt build via the local harness (new JVM; 1 seed, 2 Python, 1 SQL model)"] = (
        time.perf_counter() - started
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-5000:]
    assert "scaler: no Delta Lake in this session, writing parquet instead of delta" in output
    assert "PASS=4" in output

    z = spark.read.parquet(str(root / "warehouse" / "harness.db" / "z")).toArrow()
    z = z.sort_by("fit_row")
    assert z.column_names == ["fit_row", "customer_id", "x_z", "y_z"]
    assert z["customer_id"].to_pylist() == ["3", "2", "1"]  # the key passes through as text
    assert z["y_z"].to_pylist() == [0.0, 0.0, 0.0]
    seed = spark.read.parquet(str(root / "warehouse" / "harness.db" / "customers")).toArrow()
    notes = dict(zip(seed["customer_id"].to_pylist(), seed["note"].to_pylist(), strict=True))
    assert notes == {3: None, 1: "it's", 2: "plain"}
