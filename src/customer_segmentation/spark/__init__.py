"""Spark support without importing pyspark: :func:`is_spark_dataframe`, and the runner
:mod:`customer_segmentation.spark.runner` (``customer-segmentation spark <dbt command>``) that
runs dbt-spark's session method with the dbt Python models in the same SparkSession, on any
master. The Spark engine itself is :mod:`customer_segmentation.engines.spark` (needs the
``spark`` extra: ``pip install -e '.[spark]'``), chosen per model by
:func:`customer_segmentation.engines.for_session`.
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
