"""Versions of everything that can change a fit, recorded with every run."""

from __future__ import annotations

import platform
from importlib import metadata

import pyarrow as pa

PACKAGES = (
    "customer_segmentation",
    "scikit-learn",
    "scipy",
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def environment_table() -> pa.Table:
    """One row per component: component, version."""
    found = versions()
    return pa.table(
        {
            "component": pa.array(list(found), pa.string()),
            "version": pa.array(list(found.values()), pa.string()),
        }
    )
