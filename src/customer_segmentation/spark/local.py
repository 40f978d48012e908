"""Local Spark test harness: run dbt (dbt-spark, ``method: session``) with Python models executed
in this process's SparkSession.

**A test harness, not a dbt-spark feature.** dbt-spark submits Python models only to
Databricks (``all_purpose_cluster``, ``job_cluster``: REST calls to the profile's host); with
``method: session`` on a laptop they fail ("Databricks cluster_id is required"). This module
registers one more submission method, ``local_session``, that executes the compiled model
code (the model, dbt's ``dbtObj`` prelude and its ``saveAsTable``) with ``exec`` in the
SparkSession dbt-spark itself uses, and makes it the default for session profiles. It patches
``SparkAdapter`` in this process only and must be registered before dbt runs, so dbt is
invoked programmatically (``dbtRunner``) from here::

    python -m customer_segmentation.spark.local build --select ml_feature_scaler+
    python -m customer_segmentation.spark.local seed

Arguments are dbt's; ``--target spark`` is added unless a target is given, and
``CUSTOMER_SEGMENTATION_SPARK_DIR`` (warehouse and Derby metastore, see profiles.yml) defaults
to ``<project dir>/spark-warehouse``. The local Derby metastore admits one process at a time.

Python models write with ``config(file_format=...)``, which dbt-spark defaults to ``delta``;
local Spark has no Delta Lake, so when the session has no Delta extension the harness writes
such models as ``parquet`` instead and says so. Rebuilding a parquet table is drop + create,
not atomic.

It also works around a dbt-spark bug of the session method that would make local results
differ from a warehouse's: seed cells that are empty are loaded as the text ``'None'`` instead
of NULL (dbt-labs/dbt-spark#901, dbt-labs/dbt-adapters#487, open), and text values are not
escaped. The harness binds None as NULL and escapes quotes and backslashes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbt.adapters.base import PythonJobHelper

SUBMISSION_METHOD = "local_session"
SPARK_DIR_VARIABLE = "CUSTOMER_SEGMENTATION_SPARK_DIR"
_DELTA_WRITE = re.compile(r"""\.format\((["'])delta\1\)""")


class LocalSessionPythonJobHelper(PythonJobHelper):
    """Runs a compiled dbt Python model in the local SparkSession (test harness only)."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for key, value in (getattr(self.credentials, "server_side_parameters", None) or {}).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()  # the session dbt-spark already opened, when there is one
        name = self.parsed_model.get("alias") or self.parsed_model.get("name", "model")
        code = _without_delta(compiled_code, spark, name)
        namespace: dict[str, Any] = {"spark": spark, "__name__": f"dbt_python_model_{name}"}
        exec(compile(code, f"<dbt python model {name}>", "exec"), namespace)


def _without_delta(code: str, spark: Any, name: str) -> str:
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    if "delta" in extensions.lower() or not _DELTA_WRITE.search(code):
        return code
    print(
        f"[customer_segmentation.spark.local] {name}: no Delta Lake in this session, "
        "writing parquet instead of delta",
        file=sys.stderr,
        flush=True,
    )
    return _DELTA_WRITE.sub('.format("parquet")', code)


def _seed_value(value: Any) -> Any:
    """How a seed cell is written into dbt-spark's session-method ``insert``: NULL for None,
    an escaped literal for text (dbt-spark writes ``'None'`` and does not escape)."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return _ORIGINAL_FIX_BINDING(value)


_ORIGINAL_FIX_BINDING: Any = None


def register() -> None:
    """Add the ``local_session`` submission method to dbt-spark's SparkAdapter, make it the
    default for ``method: session`` profiles, and load empty seed cells as NULL (idempotent;
    this process only)."""
    global _ORIGINAL_FIX_BINDING
    from dbt.adapters.spark.impl import SparkAdapter
    from dbt.adapters.spark.session import SessionConnectionWrapper

    if getattr(SparkAdapter, "_local_session_registered", False):
        return
    _ORIGINAL_FIX_BINDING = SessionConnectionWrapper._fix_binding
    SessionConnectionWrapper._fix_binding = staticmethod(_seed_value)
    helpers = SparkAdapter.python_submission_helpers
    default = SparkAdapter.default_python_submission_method

    def python_submission_helpers(self):
        return {**helpers.fget(self), SUBMISSION_METHOD: LocalSessionPythonJobHelper}

    def default_python_submission_method(self):
        method = getattr(self.config.credentials, "method", None)
        if str(getattr(method, "value", method)).lower() == "session":
            return SUBMISSION_METHOD
        return default.fget(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    SparkAdapter._local_session_registered = True


def _has_option(args: Sequence[str], *names: str) -> bool:
    return any(arg in names or arg.startswith(tuple(f"{n}=" for n in names)) for arg in args)


def _option(args: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def run_dbt(args: Sequence[str], *, target: str = "spark"):
    """Register the harness and run dbt in this process; returns dbt's ``dbtRunnerResult``.

    ``args`` are dbt's command and options (e.g. ``["build", "--select", "ml+"]``);
    ``--target <target>`` is added when no target is given. The project directory is
    ``--project-dir`` or the current directory; ``DBT_PROFILES_DIR`` defaults to it and
    ``CUSTOMER_SEGMENTATION_SPARK_DIR`` to its ``spark-warehouse/`` (absolute).
    """
    from dbt.cli.main import dbtRunner

    register()
    args = list(args)
    project = Path(_option(args, "--project-dir") or os.getcwd()).resolve()
    os.environ.setdefault("DBT_PROFILES_DIR", str(project))
    os.environ.setdefault(SPARK_DIR_VARIABLE, str(project / "spark-warehouse"))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # Spark's Python workers run the engine's mapInArrow kernels: this interpreter has the
    # library installed (a cluster installs it on its executors).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if args and not _has_option(args, "--target", "-t"):
        args += ["--target", target]
    return dbtRunner().invoke(args)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m customer_segmentation.spark.local <dbt command> [dbt options]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    result = run_dbt(args)
    if result.exception is not None:
        print(f"dbt failed: {result.exception}", file=sys.stderr)
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
