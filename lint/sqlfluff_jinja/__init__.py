"""Jinja context for sqlfluff: `var()` answers from dbt_project.yml as dbt would, and `target`
is the DuckDB target.

sqlfluff's own dbt emulation returns a placeholder for every var, but the models generate
their columns from the feature set in the `feature_sets` var, so the linter needs the real
value to render them. Vars not in dbt_project.yml get their default, as in dbt.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"

#: The models are linted as DuckDB SQL (macros in cross_db.sql branch on target.type).
target = SimpleNamespace(type="duckdb", name="dev", schema="main")


@cache
def _project_vars() -> dict[str, Any]:
    return yaml.safe_load(PROJECT.read_text())["vars"]


def var(name: str, default: Any = None) -> Any:
    value = _project_vars().get(name, default)
    return default if value is None else value
