"""Smoke run of the benchmark harness: `bench/run.py --quick` end to end, in a temp folder."""

import re
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"\d[\d,]*\.\d+")


def test_quick_bench_prints_numeric_tables_and_writes_the_report(tmp_path):
    out = tmp_path / "results.md"
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--quick",
            "--out",
            str(out),
            "--work-dir",
            str(tmp_path / "work"),
            "--data-dir",
            str(tmp_path / "data"),
            "--timeout-per-build",
            "120",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    printed = completed.stdout
    for heading in ("## a. Real data", "## b. Synthetic", "## c. SQL scoring", "## d. Quality"):
        assert heading in printed

    table_rows = [line for line in printed.splitlines() if line.startswith("| ")]
    assert len(table_rows) > 20
    wall = next(line for line in table_rows if line.startswith("| `dbt build`, full project"))
    assert NUMBER.search(wall), wall
    stage_row = next(line for line in table_rows if line.startswith("| 2,000 | ok |"))
    assert len(NUMBER.findall(stage_row)) >= 10, stage_row
    ari = next(line for line in table_rows if line.startswith("| ARI k-means segment_id"))
    assert re.search(r"\| [01]\.\d{4} \|", ari), ari

    written = out.read_text()
    assert "os.cpu_count()" in written and "MemTotal" not in written
    assert "dbt-duckdb" in written and "## d. Quality" in written
    assert "timeout after" not in written and "error:" not in written
