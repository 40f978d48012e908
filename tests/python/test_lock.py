"""requirements.lock pins every dependency pyproject.toml declares, within its range.

A dependency added to pyproject without `make lock` would install unpinned (or, under the
lock's constraints, fail): this test names it first.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(text) for text in project["dependencies"]] + [
        Requirement(text) for group in extras.values() for text in group
    ]


@pytest.mark.parametrize("requirement", declared(), ids=str)
def test_every_declared_dependency_is_pinned_within_its_range(requirement):
    locked = pins()
    name = canonicalize_name(requirement.name)
    assert name in locked, f"{requirement.name} is not in requirements.lock: run make lock"
    assert requirement.specifier.contains(locked[name], prereleases=True), (
        f"requirements.lock pins {requirement.name}=={locked[name]}, outside {requirement}"
    )


def test_the_environment_runs_the_locked_versions():
    """The test environment was installed from the lock (make env), so what CI tests is
    what the lock pins."""
    locked = pins()
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "pandas", "scikit-learn", "pyarrow"):
        assert metadata.version(package) == locked[canonicalize_name(package)], package
    assert "customer-segmentation" not in locked
