"""The Spark engine: the fit steps of :mod:`customer_segmentation.pipeline` on pyspark DataFrames.

A dbt Python model gets whatever DataFrame type its adapter hands it: a DuckDB relation on
dbt-duckdb, a ``pyspark.sql.DataFrame`` on dbt-spark. :func:`is_spark_dataframe` tells them apart
without importing pyspark (the base install has none), so one model can pick its engine::

    from customer_segmentation.spark import is_spark_dataframe

    def model(dbt, session):
        dbt.config(materialized="table")
        features = dbt.ref("int_customer_features")
        scaler = dbt.ref("ml_feature_scaler")
        if is_spark_dataframe(features):
            from customer_segmentation.spark.engine import standardise_customers

            return standardise_customers(features, scaler)
        ...  # the DuckDB / scikit-learn path, unchanged

The engine itself is :mod:`customer_segmentation.spark.engine` (needs the ``spark`` extra:
``pip install -e '.[spark]'``); :mod:`customer_segmentation.spark.local` is a local test harness
that runs dbt Python models in this process's SparkSession.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

__all__ = ["engine_for", "is_spark_dataframe"]


def is_spark_dataframe(obj: Any) -> bool:
    """Whether ``obj`` is a pyspark DataFrame (classic or Spark Connect).

    Never imports pyspark: if pyspark has not been imported in this process, nothing can be a
    Spark DataFrame, and the answer is False at no cost.
    """
    if "pyspark" not in sys.modules:
        return False
    try:
        from pyspark.sql import DataFrame
    except ImportError:  # a broken or partial pyspark: not a Spark DataFrame either
        return False
    return isinstance(obj, DataFrame)


def engine_for(obj: Any) -> Literal["spark", "duckdb"]:
    """``"spark"`` for a pyspark DataFrame, else ``"duckdb"`` (the scikit-learn path)."""
    return "spark" if is_spark_dataframe(obj) else "duckdb"
