"""dbt's semantic layer through MetricFlow's own CLI (`mf`) on a real demo build: the configs
validate, and customers by segment are k rows adding up to the customer count.

Needs the `semantic` extra (`make semantic` installs it); skipped with a reason without it.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, assert_ok, dbt_env, run_dbt

pytestmark = [pytest.mark.semantic, pytest.mark.e2e]

MF = Path(sys.executable).parent / "mf"
#: What a dbt project root holds; mf reads <project root>/target/semantic_manifest.json only.
PROJECT_ENTRIES = ("dbt_project.yml", "dbt_project", "python_models", "seeds", "analysis", "tests")


@pytest.fixture(scope="module")
def semantic_build(tmp_path_factory):
    if not MF.exists():
        pytest.skip("MetricFlow (mf) not installed: `make semantic` installs the semantic extra")
    folder = tmp_path_factory.mktemp("semantic")
    database = folder / "semantic.duckdb"
    assert_ok(run_dbt(database, "build", dbt_vars={"n_init": 10}))
    # A project root of links to the repository, whose target/ is this build's.
    project = folder / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(REPO / entry)
    (project / "target").symlink_to(folder / "target")
    return database, project


def _mf(build: tuple[Path, Path], *args: str) -> subprocess.CompletedProcess:
    database, project = build
    env = dbt_env(database)
    return subprocess.run(
        [str(MF), *args], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )


def test_semantic_configs_validate(semantic_build):
    run = _mf(semantic_build, "validate-configs")
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "Successfully validated metrics against data warehouse" in run.stdout
    assert run.stdout.count("ERRORS: 0,") >= 5


def test_customers_by_segment_add_up(semantic_build, tmp_path):
    out = tmp_path / "by_segment.csv"
    run = _mf(
        semantic_build,
        "query",
        "--metrics",
        "customers,share_of_customers,mean_lifetime_value",
        "--group-by",
        "customer__segment_name",
        "--csv",
        str(out),
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    import duckdb

    with duckdb.connect(str(semantic_build[0]), read_only=True) as con:
        k, customers = con.execute(
            "select count(distinct segment_id), count(*) from marts.customer_segments"
        ).fetchall()[0]
        clv = dict(
            con.execute(
                "select segment_name, avg(customer_lifetime_value) from marts.customer_segments "
                "group by 1"
            ).fetchall()
        )
    assert len(rows) == k > 1
    assert sum(int(r["customers"]) for r in rows) == customers
    assert sum(float(r["share_of_customers"]) for r in rows) == pytest.approx(1.0)
    for row in rows:
        name = row["customer__segment_name"]
        assert float(row["mean_lifetime_value"]) == pytest.approx(clv[name], rel=1e-9)
