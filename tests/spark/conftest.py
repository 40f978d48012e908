"""Local Spark fixtures: one SparkSession (local[2]) per test session, and planted demo customers
fitted by both engines.

These tests run with ``make test-spark`` (``pytest -m spark tests/spark``); ``make test`` does
not collect them (pytest's testpaths is tests/python). Without pyspark or Java they skip.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import pytest
from spark_support import (
    FIGURES,
    ORDER,
    REPO,
    TIMINGS,
    VARS,
    Fitted,
    canonical,
    customer_features,
    feature_names,
    feature_set,
    require_spark,
    run_in_repo,
)

from customer_segmentation import diagnostics as k_diagnostics
from customer_segmentation import segments
from customer_segmentation.engines import LocalEngine
from customer_segmentation.explain import FeatureGroups
from customer_segmentation.features import to_matrix
from customer_segmentation.scaling import FittedScaler
from customer_segmentation.settings import SegmentationSettings


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS or FIGURES:
        terminalreporter.section("spark timings and agreement")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value:.6g}")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local[2] SparkSession for the whole run (no Hive metastore; warehouse in a temp dir)."""
    require_spark()
    from pyspark.sql import SparkSession

    # Python workers run the engine's mapInArrow kernels: use this interpreter (the venv that
    # has customer_segmentation installed), not whatever python3 is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    scratch = tmp_path_factory.mktemp("spark")
    started = time.perf_counter()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("customer_segmentation tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    TIMINGS["SparkSession start-up (JVM, local[2])"] = time.perf_counter() - started
    yield session
    session.stop()


@pytest.fixture(scope="session")
def planted(spark) -> Fitted:
    """2,000 planted customers (8 segments), fitted at k = 8 by both engines; k range 7..9.

    The numpy side is the local engine on Arrow tables (the DuckDB path's code); the Spark
    side the Spark engine (diagnostics in its ``mllib`` mode)."""
    from customer_segmentation.engines.spark import SparkEngine

    features = customer_features(2_000, seed=3)
    names = feature_names(features)
    settings = SegmentationSettings(k=8, k_min=7, k_max=9, n_init=10)
    spark_settings = dataclasses.replace(settings, n_init=None)
    feature_definitions = feature_set(names)

    local = LocalEngine()
    rows = canonical(features)
    fitted = FittedScaler.fit(to_matrix(rows, names), names)
    scaler = fitted.to_arrow()
    z = local.standardise(rows, fitted, ORDER)
    diagnostics = k_diagnostics.k_diagnostics_table(local, z, settings)
    fit = segments.kmeans_fit_table(local, z, fitted, diagnostics, feature_definitions, settings)
    groups = FeatureGroups.from_sources([f.source for f in feature_definitions.features])
    assignments = local.assign(z, segments.centroid_matrix(fit), groups=groups)

    engine = SparkEngine(spark)
    started = time.perf_counter()
    spark_features = spark.createDataFrame(features.drop_columns(["planted_segment"]))
    spark_fitted = engine.fit_scaler(spark_features, names)
    spark_scaler = engine.table(spark_fitted.to_arrow()).localCheckpoint()
    spark_z = engine.standardise(spark_features, spark_fitted, ORDER).localCheckpoint()
    TIMINGS["spark standardise (2,000 × 13)"] = time.perf_counter() - started
    started = time.perf_counter()
    spark_diagnostics = engine.table(
        k_diagnostics.k_diagnostics_table(engine, spark_z, spark_settings, mode="mllib")
    ).localCheckpoint()
    TIMINGS["spark k diagnostics (k = 7..9)"] = time.perf_counter() - started
    started = time.perf_counter()
    spark_fit = engine.table(
        segments.kmeans_fit_table(
            engine,
            spark_z,
            spark_fitted,
            engine.read(spark_diagnostics),
            feature_definitions,
            spark_settings,
        )
    ).localCheckpoint()
    centres = segments.centroid_matrix(engine.read(spark_fit))
    spark_assignments = engine.assign(spark_z, centres, groups=groups).localCheckpoint()
    TIMINGS["spark final fit + assignments"] = time.perf_counter() - started
    return Fitted(
        features=features,
        names=names,
        settings=settings,
        spark_settings=spark_settings,
        feature_set=feature_definitions,
        scaler=scaler,
        z=z,
        diagnostics=diagnostics,
        fit=fit,
        assignments=assignments,
        spark_features=spark_features,
        spark_scaler=spark_scaler,
        spark_z=spark_z,
        spark_diagnostics=spark_diagnostics,
        spark_fit=spark_fit,
        spark_assignments=spark_assignments,
    )


@pytest.fixture(scope="session")
def duckdb_database(tmp_path_factory) -> Path:
    """`dbt build` of the whole project on DuckDB at :data:`VARS` (the reference the Spark
    builds are compared with); the database file."""
    scratch = tmp_path_factory.mktemp("dbt_duckdb")
    database = scratch / "warehouse.duckdb"
    started = time.perf_counter()
    done = run_in_repo(
        [str(Path(sys.executable).parent / "dbt"), "build", "--vars", json.dumps(VARS)]
        + ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
        {
            "CUSTOMER_SEGMENTATION_DB": str(database),
            "DBT_PROFILES_DIR": str(REPO),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
    )
    TIMINGS["dbt build on DuckDB, whole project"] = time.perf_counter() - started
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return database
