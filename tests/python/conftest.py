"""Shared fixtures: a real dbt runner (subprocess, temp DuckDB file) and built databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    env = {
        **os.environ,
        "CUSTOMER_SEGMENTATION_DB": str(database),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, database)


def build(tmp: Path, name: str = "warehouse", stability: bool = False, **dbt_vars) -> DbtRun:
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"{name}.duckdb"
    return run_dbt(database, "build", dbt_vars=dbt_vars or None, stability=stability)


def assert_ok(run: DbtRun) -> DbtRun:
    assert run.returncode == 0, run.output[-6000:]
    return run


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> DbtRun:
    """The demo seed built once for the whole session with default settings."""
    return assert_ok(build(tmp_path_factory.mktemp("demo"), stability=True))


@pytest.fixture(scope="session")
def real_data_path() -> Path:
    if not REAL_DATA.exists():
        pytest.skip(f"real case-study data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_build(tmp_path_factory, real_data_path) -> DbtRun:
    """The real case-study file through input_path, default preset."""
    return assert_ok(build(tmp_path_factory.mktemp("real"), input_path=str(real_data_path)))
