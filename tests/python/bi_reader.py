"""A BI-style reader for the concurrency tests: polls the serving file until a stop file appears,
one fresh read-only connection per poll, and writes one JSON line per poll.

Each poll reads the run id of every table in ``marts`` (a mix of runs would show as several
ids) and the customer count. Usage: ``bi_reader.py SERVING_FILE STOP_FILE LOG_FILE``.
"""

import json
import sys
import time
from pathlib import Path

import duckdb


def poll_once(serving_file: str) -> dict:
    """One read through a new connection: {"run_ids": {table: [ids]}, "customers": n}."""
    with duckdb.connect(serving_file, read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "order by table_name"
            ).fetchall()
        ]
        run_ids = {
            table: [
                row[0]
                for row in con.execute(
                    f'select distinct published_run_id from marts."{table}" '
                    "where published_run_id is not null"
                ).fetchall()
            ]
            for table in tables
        }
        customers = con.execute("select count(*) from marts.customer_segments").fetchall()[0][0]
    return {"run_ids": run_ids, "customers": customers}


def main(serving_file: str, stop_file: str, log_file: str) -> None:
    stop = Path(stop_file)
    with open(log_file, "w") as log:
        while not stop.exists():
            poll = {"time": time.time()}
            try:
                poll.update(poll_once(serving_file))
            except Exception as error:  # the tests assert there are none
                poll["error"] = f"{type(error).__name__}: {error}"
            log.write(json.dumps(poll) + "\n")
            log.flush()
            time.sleep(0.01)


if __name__ == "__main__":
    main(*sys.argv[1:4])
