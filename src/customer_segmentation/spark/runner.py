"""Run dbt on Apache Spark with the Python models in dbt's own SparkSession:
``customer-segmentation spark <dbt command> [dbt options]``.

dbt-spark submits Python models only to Databricks (``all_purpose_cluster``, ``job_cluster``:
REST calls to the profile's host); with ``method: session`` they fail ("Databricks cluster_id
is required"). This runner registers one more submission method, ``spark_session``, that
executes the compiled model code (the model, dbt's ``dbtObj`` prelude and its
``saveAsTable``) in the SparkSession dbt-spark itself opened, and makes it the default for
session profiles. That session's master is whatever the profile names: ``local[n]``, a
standalone ``spark://host:port``, ``yarn`` or ``k8s://...``; the driver is this process
(client mode). It patches ``SparkAdapter`` in this process only, so dbt is invoked
programmatically (``dbtRunner``)::

    customer-segmentation spark build --select ml_feature_scaler+
    customer-segmentation spark --master spark://10.0.0.5:7077 build --vars '{n_init: 10}'
    customer-segmentation spark --conf spark.driver.host=10.0.0.9 seed

Options before the dbt command belong to the runner:

- ``--master URL`` sets ``CUSTOMER_SEGMENTATION_SPARK_MASTER``, which this project's
  profiles.yml reads for ``spark.master`` (default ``local[2]``).
- ``--conf KEY=VALUE`` (repeatable) adds a Spark setting, like spark-submit's ``--conf``;
  a setting the profile's ``server_side_parameters`` also names keeps the profile's value.

Everything after them is dbt's; ``--target spark`` is added unless a target is given, and
``CUSTOMER_SEGMENTATION_SPARK_DIR`` (warehouse and Derby metastore, see profiles.yml) defaults
to ``<project dir>/spark-warehouse``. The local Derby metastore admits one process at a time.
Executors run the engine's ``mapInArrow`` kernels, so they must import this package:
``spark.pyspark.python`` defaults to this interpreter (right on one machine, and on a cluster
whose nodes have the package installed at the same path).

Python models write with ``config(file_format=...)``, which dbt-spark defaults to ``delta``;
when the session has no Delta extension the runner writes such models as ``parquet`` instead
and says so. Rebuilding a parquet table is drop + create, not atomic.

It also works around a dbt-spark bug of the session method that would make results differ
from a warehouse's: seed cells that are empty are loaded as the text ``'None'`` instead of
NULL (dbt-labs/dbt-spark#901, dbt-labs/dbt-adapters#487, open), and text values are not
escaped. The runner binds None as NULL and escapes quotes and backslashes.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbt.adapters.base import PythonJobHelper

SUBMISSION_METHOD = "spark_session"
#: The name the method had while it was a test harness; profiles that set it keep working.
FORMER_SUBMISSION_METHOD = "local_session"
SPARK_DIR_VARIABLE = "CUSTOMER_SEGMENTATION_SPARK_DIR"
MASTER_VARIABLE = "CUSTOMER_SEGMENTATION_SPARK_MASTER"
_DELTA_WRITE = re.compile(r"""\.format\((["'])delta\1\)""")


class SessionPythonJobHelper(PythonJobHelper):
    """Runs a compiled dbt Python model in this process's SparkSession (the one dbt-spark's
    session method opened, on whatever master the profile names)."""

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
        f"[customer_segmentation.spark] {name}: no Delta Lake in this session, "
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
    """Add the ``spark_session`` submission method to dbt-spark's SparkAdapter, make it the
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
        return {
            **helpers.fget(self),
            SUBMISSION_METHOD: SessionPythonJobHelper,
            FORMER_SUBMISSION_METHOD: SessionPythonJobHelper,
        }

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


@dataclass(frozen=True)
class RunnerOptions:
    """The runner's own options (before the dbt command): the master URL and extra Spark
    settings, both optional."""

    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()


def split_arguments(args: Sequence[str]) -> tuple[RunnerOptions, list[str]]:
    """The runner's options (``--master URL``, ``--conf KEY=VALUE``, leading) and dbt's
    arguments (the rest, from the dbt command on). Raises ValueError on a malformed option."""
    args = list(args)
    master, conf = None, []
    while args and args[0].split("=", 1)[0] in ("--master", "--conf"):
        name, _, value = args.pop(0).partition("=")
        if not value:
            if not args:
                raise ValueError(f"{name} needs a value")
            value = args.pop(0)
        if name == "--master":
            master = value
            continue
        key, equals, setting = value.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"--conf expects KEY=VALUE, got {value!r}")
        conf.append((key.strip(), setting))
    return RunnerOptions(master, tuple(conf)), args


def spark_environment(
    options: RunnerOptions, environ: Mapping[str, str], python: str = sys.executable
) -> dict[str, str]:
    """The environment variables to set before dbt opens its SparkSession.

    - ``CUSTOMER_SEGMENTATION_SPARK_MASTER`` from ``--master`` (profiles.yml reads it);
    - ``PYSPARK_SUBMIT_ARGS`` with one ``--conf`` per setting, after any already there (pyspark
      passes them to spark-submit when it starts the JVM; the profile's
      ``server_side_parameters`` are applied later and win);
    - ``PYSPARK_PYTHON`` = ``python`` unless it or ``spark.pyspark.python`` is set: the
      executors' Python workers must import this package.
    """
    updates: dict[str, str] = {}
    if options.master:
        updates[MASTER_VARIABLE] = options.master
    if options.conf:
        submit = shlex.split(environ.get("PYSPARK_SUBMIT_ARGS", ""))
        if submit and submit[-1] == "pyspark-shell":
            submit.pop()
        for key, value in options.conf:
            submit += ["--conf", f"{key}={value}"]
        updates["PYSPARK_SUBMIT_ARGS"] = shlex.join([*submit, "pyspark-shell"])
    names_python = any(key == "spark.pyspark.python" for key, _ in options.conf)
    if "PYSPARK_PYTHON" not in environ and not names_python:
        updates["PYSPARK_PYTHON"] = python
    return updates


def run_dbt(args: Sequence[str], *, target: str = "spark", options: RunnerOptions | None = None):
    """Register the submission method and run dbt in this process; returns dbt's
    ``dbtRunnerResult``.

    ``args`` are dbt's command and options (e.g. ``["build", "--select", "ml+"]``);
    ``--target <target>`` is added when no target is given. The project directory is
    ``--project-dir`` or the current directory; ``DBT_PROFILES_DIR`` defaults to it and
    ``CUSTOMER_SEGMENTATION_SPARK_DIR`` to its ``spark-warehouse/`` (absolute). ``options``
    set the master and extra Spark settings (:func:`spark_environment`).
    """
    from dbt.cli.main import dbtRunner

    register()
    args = list(args)
    project = Path(_option(args, "--project-dir") or os.getcwd()).resolve()
    os.environ.setdefault("DBT_PROFILES_DIR", str(project))
    os.environ.setdefault(SPARK_DIR_VARIABLE, str(project / "spark-warehouse"))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.update(spark_environment(options or RunnerOptions(), os.environ))
    if args and not _has_option(args, "--target", "-t"):
        args += ["--target", target]
    return dbtRunner().invoke(args)


USAGE = (
    "usage: customer-segmentation spark [--master URL] [--conf KEY=VALUE]... "
    "<dbt command> [dbt options]"
)


def main(argv: Sequence[str] | None = None) -> int:
    """``customer-segmentation spark [runner options] <dbt command> [dbt options]``; 0 when
    dbt succeeded, 1 when a node failed, 2 when dbt or the arguments could not run."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + (__doc__ or ""))
        return 0 if args else 2
    try:
        options, dbt_args = split_arguments(args)
    except ValueError as error:
        print(f"{error}\n{USAGE}", file=sys.stderr)
        return 2
    if not dbt_args:
        print(f"no dbt command given\n{USAGE}", file=sys.stderr)
        return 2
    result = run_dbt(dbt_args, options=options)
    if result.exception is not None:
        print(f"dbt failed: {result.exception}", file=sys.stderr)
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
