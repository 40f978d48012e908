"""Engine dispatch: a dbt Python model picks the engine from the DataFrame type it receives."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from customer_segmentation.spark import engine_for, is_spark_dataframe

pytestmark = pytest.mark.spark


def test_spark_dataframe_is_recognised(spark):
    frame = spark.createDataFrame(pa.table({"x": [1, 2]}))
    assert is_spark_dataframe(frame)
    assert engine_for(frame) == "spark"


@pytest.mark.parametrize("value", [pa.table({"x": [1]}), None, 1, "select 1"])
def test_other_objects_are_not_spark(value):
    assert not is_spark_dataframe(value)
    assert engine_for(value) == "duckdb"


def test_dispatch_never_imports_pyspark():
    code = (
        "import sys; from customer_segmentation.spark import is_spark_dataframe; "
        "print(is_spark_dataframe(object()), 'pyspark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
