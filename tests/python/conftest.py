"""Shared fixtures: a real dbt runner (subprocess, temp DuckDB file) and built databases."""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "input"
REAL_DATA = REPO.parent / "shared" / "data" / "customer_segmentation_data.csv"
DBT = Path(sys.executable).parent / "dbt"


@dataclass
class DbtRun:
    returncode: int
    output: str
    database: Path

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]

    def tables(self) -> set[str]:
        rows = self.query("select table_schema || '.' || table_name from information_schema.tables")
        return {row[0] for row in rows}


#: Builds that check nothing of the bootstrap stability skip its refits (about 5 s of every
#: demo-sized build); the demo build, the lifecycle chain and the report's builds keep the
#: default (``stability=True``), and those tests check the figures.
NO_STABILITY = {"stability_resamples": 0}


def dbt_env(database: Path) -> dict[str, str]:
    """The environment of a dbt command (or a command that runs dbt) on ``database``: the
    repository's profiles.yml, no usage stats (else dbt writes .user.yml into REPO)."""
    return {
        **os.environ,
        "CUSTOMER_SEGMENTATION_DB": str(database),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(
    database: Path,
    *args: str,
    dbt_vars: dict | None = None,
    work_dir: Path | None = None,
    stability: bool = False,
) -> DbtRun:
    """Run the dbt CLI for real, in a subprocess, against ``database``.

    Target and log folders go to a temp folder beside the database, so tests never touch
    the developer's target/ or each other's. Unless ``stability`` (or the vars set
    stability_resamples), a build turns the bootstrap stability off (a ``run``, e.g. of
    the settings view, keeps the defaults).
    """
    scratch = work_dir or database.parent
    if not stability and args[:1] == ("build",):
        dbt_vars = {**NO_STABILITY, **(dbt_vars or {})}
    command = [
        str(DBT),
        *args,
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    env = dbt_env(database)
    if WARM_DBT:
        returncode, output = warm_dbt().run(command[1:], env, timeout=900)
        return DbtRun(returncode, output, database)
    completed = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, database)


#: ``run_dbt`` runs dbt through one warm launcher per test process (``dbt_server.py``: dbt and
#: the library imported once, each command in a forked child that is the dbt CLI), which saves
#: about 7 s of start-up per build. CUSTOMER_SEGMENTATION_TEST_DBT=subprocess runs each
#: command as its own ``dbt`` process instead.
WARM_DBT = hasattr(os, "fork") and os.environ.get("CUSTOMER_SEGMENTATION_TEST_DBT") != "subprocess"


class WarmDbt:
    """The client of one ``dbt_server.py`` process (started on first use)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("dbt_server.py")), str(REPO)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pending = b""
        assert self._reply(timeout=300) == {"ready": True}

    def _reply(self, timeout: float) -> dict:
        """The server's next answer line (read unbuffered, so select sees every line)."""
        fd = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired("dbt_server.py", timeout)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"dbt_server.py ended (exit code {self.process.poll()})")
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return json.loads(line)

    def run(self, argv: list[str], env: dict, timeout: float) -> tuple[int, str]:
        """``dbt <argv>`` in REPO with ``env``: its exit code and its stdout + stderr."""
        with tempfile.NamedTemporaryFile("r", suffix=".txt", errors="replace") as output:
            request = {"argv": argv, "cwd": str(REPO), "env": env, "output": output.name}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            pid = self._reply(timeout=60)["pid"]
            try:
                returncode = self._reply(timeout=timeout)["returncode"]
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                raise
            return returncode, output.read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


_launcher: WarmDbt | None = None


def warm_dbt() -> WarmDbt:
    """This process's launcher (one per pytest worker)."""
    global _launcher
    if _launcher is None or _launcher.process.poll() is not None:
        _launcher = WarmDbt()
        atexit.register(_launcher.close)
    return _launcher


def build(tmp: Path, name: str = "warehouse", stability: bool = False, **dbt_vars) -> DbtRun:
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"{name}.duckdb"
    return run_dbt(database, "build", dbt_vars=dbt_vars or None, stability=stability)


def assert_ok(run: DbtRun) -> DbtRun:
    assert run.returncode == 0, run.output[-6000:]
    return run


def copy_build(run: DbtRun, folder: Path) -> DbtRun:
    """A copy of a built database in ``folder``, for a test that runs dbt on it (dbt opens
    the file read-write, which a shared build must never be)."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / run.database.name
    shutil.copyfile(run.database, database)
    return DbtRun(run.returncode, run.output, database)


def _shared_root(tmp_path_factory) -> Path:
    """The folder all workers of one run see: under pytest-xdist each worker's basetemp is
    ``<run>/popen-gw<n>``, so their parent; in one process, the basetemp itself."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return root / "shared-builds"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (blocks until the holder releases)."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_build(tmp_path_factory, name: str, stability: bool = False, **dbt_vars) -> DbtRun:
    """One build per test run, whichever worker asks first; the others wait and read it.

    Tests only read a shared build (read-only connections, its target/ manifest); one that runs
    dbt on it, or changes it, works on ``copy_build``. The build's output is kept beside it, so
    every worker's ``DbtRun`` has the same ``output``.
    """
    root = _shared_root(tmp_path_factory)
    root.mkdir(parents=True, exist_ok=True)
    folder, record = root / name, root / f"{name}.output"
    with _locked(root / f"{name}.lock"):
        if record.exists():
            return DbtRun(0, record.read_text(), folder / f"{name}.duckdb")
        shutil.rmtree(folder, ignore_errors=True)  # a build that failed in another worker
        run = assert_ok(build(root, name, stability=stability, **dbt_vars))
        record.write_text(run.output)
        return run


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> DbtRun:
    """The demo seed built once for the whole run with default settings."""
    return shared_build(tmp_path_factory, "demo", stability=True)


@pytest.fixture(scope="session")
def real_data_path() -> Path:
    if not REAL_DATA.exists():
        pytest.skip(f"real case-study data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_build(tmp_path_factory, real_data_path) -> DbtRun:
    """The real case-study file through input_path, default preset."""
    return shared_build(tmp_path_factory, "real", input_path=str(real_data_path))


@pytest.fixture(scope="session")
def case_study_build(tmp_path_factory, real_data_path) -> DbtRun:
    """The real case-study file with the case_study preset and its default settings."""
    return shared_build(
        tmp_path_factory, "case_study", input_path=str(real_data_path), preset="case_study"
    )


@pytest.fixture(scope="session")
def rfm_build(tmp_path_factory) -> DbtRun:
    """The demo purchases seed through the rfm preset (n_init 10 keeps it quick), with the
    bootstrap stability (the report's rfm page shows its chart)."""
    return shared_build(tmp_path_factory, "rfm", stability=True, preset="rfm", n_init=10)
