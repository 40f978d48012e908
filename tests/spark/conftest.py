"""Local Spark fixtures: one SparkSession (local[2]) per test session, and planted demo customers
fitted by both engines.

These tests run with ``make test-spark`` (``pytest -m spark tests/spark``); ``make test`` does
not collect them (pytest's testpaths is tests/python). Without pyspark or Java they skip.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from spark_support import (
    FIGURES,
    ORDER,
    TIMINGS,
    Fitted,
    canonical,
    customer_features,
    feature_names,
    fit_table_args,
    require_spark,
)

from customer_segmentation import pipeline
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
    """2,000 planted customers (8 segments), fitted at k = 8 by both engines; k range 7..9."""
    from customer_segmentation.spark import engine

    features = customer_features(2_000, seed=3)
    names = feature_names(features)
    settings = SegmentationSettings(k=8, k_min=7, k_max=9, n_init=10)
    spark_settings = dataclasses.replace(settings, n_init=None)
    extra = fit_table_args(names)

    rows = canonical(features)
    scaler = FittedScaler.fit(to_matrix(rows, names), names).to_arrow()
    z = pipeline.standardise_customers(rows, scaler)
    diagnostics = pipeline.k_diagnostics_table(z, settings)
    fit = pipeline.kmeans_fit_table(z, scaler, diagnostics, settings, *extra)
    assignments = pipeline.assignments_table(z, fit)

    started = time.perf_counter()
    spark_features = spark.createDataFrame(features.drop_columns(["planted_segment"]))
    spark_scaler = engine.feature_scaler_table(spark_features, names).localCheckpoint()
    spark_z = engine.standardise_customers(spark_features, spark_scaler, ORDER).localCheckpoint()
    TIMINGS["spark standardise (2,000 × 13)"] = time.perf_counter() - started
    started = time.perf_counter()
    spark_diagnostics = engine.k_diagnostics_table(spark_z, spark_settings).localCheckpoint()
    TIMINGS["spark k diagnostics (k = 7..9)"] = time.perf_counter() - started
    started = time.perf_counter()
    spark_fit = engine.kmeans_fit_table(
        spark_z, spark_scaler, spark_diagnostics, spark_settings, *extra
    ).localCheckpoint()
    spark_assignments = engine.assignments_table(spark_z, spark_fit).localCheckpoint()
    TIMINGS["spark final fit + assignments"] = time.perf_counter() - started
    return Fitted(
        features=features,
        names=names,
        settings=settings,
        spark_settings=spark_settings,
        extra=extra,
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
