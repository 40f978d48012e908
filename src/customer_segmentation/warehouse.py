"""Small reads of the warehouse that a dbt Python model needs beyond dbt.ref()."""

from __future__ import annotations

import pyarrow as pa


def quoted_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (embedded quotes doubled): for names that
    come from configuration, the feature set or dbt."""
    return '"' + name.replace('"', '""') + '"'


def existing_table(con, database: str, schema: str, identifier: str) -> pa.Table | None:
    """The current contents of a table, or None when it does not exist yet.

    A model reads its own previous output this way (``dbt.this``) before dbt replaces it: the
    previous run's centroids keep segment ids stable across runs.
    """
    found = con.execute(
        """
        select count(*) from information_schema.tables
        where table_catalog = ? and table_schema = ? and table_name = ?
        """,
        [database, schema, identifier],
    ).fetchall()[0][0]
    if not found:
        return None
    name = ".".join(quoted_identifier(part) for part in (database, schema, identifier))
    return con.sql(f"select * from {name}").to_arrow_table()
