"""Engines: the row passes of a fit, on DuckDB/numpy (:mod:`.local`) or Spark (:mod:`.spark`).

The engine is chosen once per model from the session dbt hands the model
(:func:`for_session`): a SparkSession on dbt-spark, a DuckDB connection on dbt-duckdb.
Nothing above this package asks which engine it runs on.
"""

from __future__ import annotations

from typing import Any

from customer_segmentation.engines.base import Engine, LloydFit
from customer_segmentation.engines.local import LocalEngine

__all__ = ["Engine", "LloydFit", "LocalEngine", "for_session", "is_spark_session"]


def is_spark_session(session: Any) -> bool:
    """Whether ``session`` is a pyspark SparkSession (classic or Spark Connect), without
    importing pyspark."""
    return type(session).__module__.startswith("pyspark")


def for_session(session: Any) -> Engine:
    """The engine for a dbt Python model's ``session`` (Spark needs the ``spark`` extra)."""
    if is_spark_session(session):
        from customer_segmentation.engines.spark import SparkEngine

        return SparkEngine(session)
    return LocalEngine(session)
