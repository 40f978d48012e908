"""Former name of :mod:`customer_segmentation.spark.runner`, kept so that
``python -m customer_segmentation.spark.local <dbt command>`` still works; use
``customer-segmentation spark <dbt command>``."""

from __future__ import annotations

from customer_segmentation.spark.runner import main, register, run_dbt

__all__ = ["main", "register", "run_dbt"]

if __name__ == "__main__":
    raise SystemExit(main())
