"""Contract data types: one yml serves DuckDB and Spark, so every declared type must be a
spelling both engines read (a `varchar` passes on DuckDB and fails a Spark build with
DATATYPE_MISSING_SIZE, which only `make test-spark` would see)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
#: Types both engines read, as the marts yml header lists them.
PORTABLE = {"string", "integer", "bigint", "double", "boolean", "timestamp", "date"}
YMLS = sorted([*REPO.glob("dbt_project/models/*/_*.yml"), *REPO.glob("python_models/*/_*.yml")])


def _declared(path: Path) -> list[tuple[str, str, str]]:
    document = yaml.safe_load(path.read_text()) or {}
    return [
        (model["name"], column["name"], str(column["data_type"]))
        for model in document.get("models", [])
        for column in model.get("columns", [])
        if "data_type" in column
    ]


def test_the_yml_files_are_found():
    assert any(_declared(path) for path in YMLS), YMLS


@pytest.mark.parametrize("path", YMLS, ids=lambda p: p.name)
def test_every_contract_type_is_read_by_both_engines(path):
    wrong = [item for item in _declared(path) if item[2].lower() not in PORTABLE]
    assert wrong == [], f"{path.name}: not a type both engines read: {wrong}"
