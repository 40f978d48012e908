"""Python access to the segment tables as ibis tables, for notebooks.

    >>> from customer_segmentation import results
    >>> r = results("serving/customer_segmentation.duckdb")
    >>> r.segment_profiles.order_by("segment_id").to_pandas()

ibis expressions compile to SQL, so the same code runs on another backend holding the same
marts (e.g. ``ibis.connect(...)`` to Spark or Postgres) with :func:`results_from`.

:func:`results` attaches the file read-only to its own in-memory DuckDB, so it works in the
same process as a SQLAlchemy engine on :func:`serving_url` (duckdb_engine opens the file with
its own settings; DuckDB refuses a second direct connection to one file with other settings).
"""

from __future__ import annotations

from pathlib import Path

import ibis

from customer_segmentation.publish import SERVING_FILE

DEFAULT_PATHS = (Path("serving") / SERVING_FILE, Path("customer_segmentation.duckdb"))
CATALOG = "segments"


def serving_url(path: str | Path = Path("serving") / SERVING_FILE) -> str:
    """The SQLAlchemy URL a BI tool is given: absolute path, read-only through the URL."""
    return f"duckdb:///{Path(path).resolve()}?access_mode=read_only"


class Results:
    """The marts of one database as ibis tables: ``results.customer_segments`` etc."""

    def __init__(
        self, backend, schema: str = "marts", catalog: str | None = None, tables=None
    ) -> None:
        self.backend = backend
        self.schema = schema
        self.catalog = catalog
        self._tables = tuple(tables) if tables is not None else None

    def _database(self):
        return (self.catalog, self.schema) if self.catalog else self.schema

    @property
    def tables(self) -> tuple[str, ...]:
        """Names of the tables in the marts schema, sorted."""
        if self._tables is None:
            self._tables = tuple(sorted(self.backend.list_tables(database=self._database())))
        return self._tables

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self.tables:
            raise AttributeError(f"no mart {name!r}; marts are {', '.join(self.tables)}")
        return self.backend.table(name, database=self._database())

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.tables]


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
    backend = ibis.duckdb.connect()
    quoted = str(Path(path).resolve()).replace("'", "''")
    backend.raw_sql(f"attach '{quoted}' as {CATALOG} (read_only)")
    names = backend.raw_sql(
        "select table_name from duckdb_tables() "
        f"where database_name = '{CATALOG}' and schema_name = 'marts' order by table_name"
    ).fetchall()
    return Results(backend, "marts", CATALOG, [row[0] for row in names])


def results_from(backend, schema: str = "marts") -> Results:
    """The marts through any ibis backend already connected (another warehouse)."""
    return Results(backend, schema)
