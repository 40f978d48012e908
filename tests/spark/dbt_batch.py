"""Several dbt invocations in one process, so Spark's JVM starts once for all of them.

``python tests/spark/dbt_batch.py <spec.json>``, from the repository root. The spec holds:

- ``target``: ``spark`` (dbt-spark session method, through the package's runner) or ``dev``
  (DuckDB, database file ``$CUSTOMER_SEGMENTATION_DB``);
- ``jobs``: a list of ``{"name", "args", "tables"}``: dbt's arguments, and the tables
  (``schema.table``) to read back after the invocation, before the next one replaces them;
- ``out``: where the results go, as JSON: per job ``success``, ``messages`` (every node's
  status and message, and dbt's exception) and ``tables`` (name -> list of row dicts, values
  as JSON gives them, other types as text).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _rows(target: str, table: str) -> list[dict[str, Any]]:
    """Every row of ``table`` as it is after the last invocation."""
    if target == "spark":
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        return [
            {k: _plain(v) for k, v in row.asDict().items()} for row in spark.table(table).collect()
        ]
    import duckdb

    # The same configuration as dbt-duckdb's open connection in this process (not read-only).
    with duckdb.connect(os.environ["CUSTOMER_SEGMENTATION_DB"]) as con:
        cursor = con.execute(f"select * from {table}")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, map(_plain, row), strict=True)) for row in cursor.fetchall()]


def _messages(result: Any) -> list[str]:
    messages = [f"exception: {result.exception}"] if result.exception is not None else []
    for node in getattr(result.result, "results", None) or []:
        messages.append(f"{node.node.name}: {node.status}: {node.message}")
    return messages


def run(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run every job of ``spec`` in order; their results."""
    from customer_segmentation.spark.runner import run_dbt

    target = spec["target"]
    done = []
    for job in spec["jobs"]:
        result = run_dbt(job["args"], target=target)
        tables = {}
        if result.success:
            tables = {name: _rows(target, name) for name in job.get("tables", [])}
        done.append(
            {
                "name": job["name"],
                "success": bool(result.success),
                "messages": _messages(result),
                "tables": tables,
            }
        )
    return done


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(spec["out"]).write_text(json.dumps(run(spec)))
