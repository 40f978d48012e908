"""Python access to the segment tables as ibis tables, for notebooks.

    >>> from customer_segmentation import results
    >>> r = results("serving/customer_segmentation.duckdb")
    >>> r.segment_profiles.order_by("segment_id").to_pandas()

ibis expressions compile to SQL, so the same code runs on another backend holding the same
marts (e.g. ``ibis.connect(...)`` to Spark or Postgres) with :func:`results_from`.
"""

from __future__ import annotations

from pathlib import Path

import ibis

from customer_segmentation.publish import MARTS, SERVING_FILE

DEFAULT_PATHS = (Path("serving") / SERVING_FILE, Path("customer_segmentation.duckdb"))


class Results:
    """The marts of one database as ibis tables: ``results.customer_segments`` etc."""

    def __init__(self, backend, schema: str = "marts") -> None:
        self.backend = backend
        self.schema = schema

    def __getattr__(self, name: str):
        if name not in MARTS:
            raise AttributeError(f"no mart {name!r}; marts are {', '.join(MARTS)}")
        return self.backend.table(name, database=self.schema)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *MARTS]

    @property
    def tables(self) -> tuple[str, ...]:
        return MARTS


def results(path: str | Path | None = None) -> Results:
    """ibis tables of the marts in a DuckDB file, opened read-only.

    Without a path: the published serving file if there is one, else the build database.
    """
    if path is None:
        path = next((p for p in DEFAULT_PATHS if p.exists()), None)
        if path is None:
            raise FileNotFoundError(
                "no serving/customer_segmentation.duckdb or customer_segmentation.duckdb here; "
                "run `make demo` first or pass a path"
            )
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such database")
    return Results(ibis.duckdb.connect(str(path), read_only=True))


def results_from(backend, schema: str = "marts") -> Results:
    """The marts through any ibis backend already connected (another warehouse)."""
    return Results(backend, schema)
