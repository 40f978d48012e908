"""The tests' warm dbt launcher (dbt_server.py) behaves as the ``dbt`` command does."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import DBT, REPO, WARM_DBT, dbt_env, warm_dbt

pytestmark = pytest.mark.e2e

_STAMP = re.compile(r"\x1b\[[0-9;]*m|\d\d:\d\d:\d\d  ")


def _lines(output: str) -> list[str]:
    """dbt's console lines without colours and timestamps."""
    return [_STAMP.sub("", line).rstrip() for line in output.splitlines()]


@pytest.mark.skipif(not WARM_DBT, reason="the warm launcher is off (no fork, or turned off)")
def test_a_forked_dbt_gives_the_exit_code_and_lines_of_the_dbt_command(tmp_path):
    def argv(folder: str) -> list[str]:
        scratch = tmp_path / folder
        options = ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]
        return ["build", "--vars", json.dumps({"k": "eight"}), *options]

    env = dbt_env(tmp_path / "x.duckdb")
    plain = subprocess.run(
        [str(DBT), *argv("plain")], cwd=REPO, env=env, capture_output=True, text=True
    )
    returncode, output = warm_dbt().run(argv("forked"), env, timeout=300)
    assert plain.returncode == returncode == 2
    assert _lines(output) == _lines(plain.stdout + plain.stderr)
    assert "  var 'k': expected an integer, got 'eight'" in _lines(output)
    # The child wrote its log where its argv said.
    assert (tmp_path / "forked" / "logs" / "dbt.log").exists()
