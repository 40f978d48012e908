"""Warehouse-native customer segmentation: dbt + DuckDB models, and the library they call."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["results"]


def __getattr__(name: str):
    # Importing ibis costs about a second; only pay for it when results() is used.
    if name == "results":
        from customer_segmentation.access import results

        return results
    raise AttributeError(name)
