"""A BI-style reader for the concurrency test: polls every published mart until a stop file
appears, one fresh read-only connection per poll, and writes one JSON line per poll."""

import json
import sys
import time
from pathlib import Path

import duckdb

from customer_segmentation.publish import MARTS


def main(serving_file: str, stop_file: str, log_file: str) -> None:
    stop = Path(stop_file)
    with open(log_file, "w") as log:
        while not stop.exists():
            poll = {"time": time.time()}
            try:
                with duckdb.connect(serving_file, read_only=True) as con:
                    poll["run_ids"] = {
                        mart: [
                            row[0]
                            for row in con.execute(
                                f"select distinct published_run_id from marts.{mart}"
                            ).fetchall()
                        ]
                        for mart in MARTS
                    }
                    poll["customers"] = con.execute(
                        "select count(*) from marts.customer_segments"
                    ).fetchall()[0][0]
            except Exception as error:  # the test asserts there are none
                poll["error"] = f"{type(error).__name__}: {error}"
            log.write(json.dumps(poll) + "\n")
            log.flush()
            time.sleep(0.02)


if __name__ == "__main__":
    main(*sys.argv[1:4])
