"""A warm dbt launcher for the tests: one process per pytest worker that imports dbt and the
library once, then runs each requested ``dbt`` command in a forked child.

Each child is what the ``dbt`` console script is: it calls ``dbt.cli.main.cli`` with the
command's argv, working folder and environment, its stdout and stderr go to a file, and it
exits with dbt's exit code. What it skips is the start-up every subprocess pays again: importing
dbt and its adapter (about 2.5 s here), building the JSON schemas dbt validates node configs
with (about 2 s, cached per class), and importing the library with NumPy, pandas, SciPy and
scikit-learn in the first Python model (about 2.5 s). Nothing a child does reaches the server:
the child is a copy; it closes its database and ends with ``os._exit``.

Protocol (one JSON object per line): the client writes ``{"argv", "cwd", "env", "output"}``;
the server answers ``{"pid": n}`` when the child starts and ``{"returncode": n}`` when it
ends. Run as ``python dbt_server.py <repo>``; it answers ``{"ready": true}`` once warm.
"""

from __future__ import annotations

import gc
import json
import os
import pkgutil
import sys
import tempfile
import traceback
from importlib import import_module
from pathlib import Path


def _warm(repo: Path) -> None:
    """Import what every build imports and parse the project once in this process, so the
    JSON-schema caches are filled before the first fork."""
    from dbt.cli.main import dbtRunner

    import customer_segmentation

    for module in pkgutil.walk_packages(customer_segmentation.__path__, "customer_segmentation."):
        if module.name.endswith("__main__"):  # a command, not a module to import
            continue
        try:
            import_module(module.name)
        except ImportError:  # the spark extra is not installed in every environment
            continue
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["CUSTOMER_SEGMENTATION_DB"] = str(Path(scratch) / "warm.duckdb")
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        os.environ["DBT_PROFILES_DIR"] = str(repo)
        os.chdir(repo)
        folders = ["--target-path", f"{scratch}/target", "--log-path", f"{scratch}/logs"]
        # Not the static parser: it starts a Rust thread pool, and a forked child that used it
        # would wait for threads it does not have (the children start their own).
        options = ["--quiet", "--no-partial-parse", "--no-static-parser"]
        dbtRunner().invoke(["parse", *options, *folders])


def _child(request: dict) -> None:
    """Become ``dbt <argv>`` with the request's folder, environment and output file."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(output, 1)
    os.dup2(output, 2)
    sys.argv = ["dbt", *request["argv"]]
    try:
        from dbt.cli.main import cli

        cli()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child must end here, never in the server's loop
        traceback.print_exc()
        code = 1
    _close_duckdb()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # not the interpreter's teardown (about 2 s with these modules loaded)


def _close_duckdb() -> None:
    """Close dbt-duckdb's database before the child ends: DuckDB checkpoints the file when
    its connection closes. An exit without that would leave the last tables in the .wal file,
    where a copy of the database file would not have them."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None
    gc.collect()


def _answer(channel, reply: dict) -> None:
    channel.write(json.dumps(reply) + "\n")
    channel.flush()


def serve(repo: Path) -> None:
    """Warm up, then run one child per request line until stdin closes. Answers go to the
    original stdout; anything dbt prints in this process goes to stderr."""
    # The children end with os._exit, so multiprocessing's resource tracker (started here,
    # shared by the children) frees the semaphores dbt made in them, and would warn of each.
    os.environ["PYTHONWARNINGS"] = "ignore::UserWarning:multiprocessing.resource_tracker"
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _warm(repo)
    _answer(channel, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        _answer(channel, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _answer(channel, {"returncode": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
