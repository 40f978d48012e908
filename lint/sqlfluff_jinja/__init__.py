"""Jinja context for sqlfluff: `var()` answers from dbt_project.yml as dbt would, `target`
is the DuckDB target, `adapter.dispatch` picks a macro's DuckDB spelling, and `dbt.datediff`
renders as dbt-duckdb writes it.

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
from jinja2 import pass_context
from jinja2.runtime import Context

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"

#: The models are linted as DuckDB SQL (engine-specific macros go through adapter.dispatch).
target = SimpleNamespace(type="duckdb", name="dev", schema="main")


class _Adapter:
    """The part of dbt's `adapter` the macros use when a model is linted: `dispatch`."""

    @pass_context
    def dispatch(self, context: Context, macro_name: str, macro_namespace: str | None = None):
        """The macro dbt would pick on DuckDB: duckdb__<name>, else default__<name>."""
        for prefix in ("duckdb__", "default__"):
            macro = context.resolve_or_missing(prefix + macro_name)
            if callable(macro):
                return macro
        raise KeyError(f"adapter.dispatch: no duckdb__ or default__ macro for {macro_name!r}")


adapter = _Adapter()


@cache
def _project_vars() -> dict[str, Any]:
    return yaml.safe_load(PROJECT.read_text())["vars"]


def var(name: str, default: Any = None) -> Any:
    value = _project_vars().get(name, default)
    return default if value is None else value


def _datediff(first_date: str, second_date: str, datepart: str) -> str:
    """dbt's cross-database datediff as dbt-duckdb spells it (whole datepart units)."""
    return f"(date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp))"


#: The `dbt` namespace of dbt's cross-database macros the models call.
dbt = SimpleNamespace(datediff=_datediff)
