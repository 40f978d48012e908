"""var input_path on Spark: CSV and Parquet files read by Spark itself, with DuckDB's checks,
quarantine rows and one-line stops, compared case by case with the same files on DuckDB.

Every case is one dbt invocation; all Spark invocations run in one process (one JVM start,
tests/spark/dbt_batch.py), and so do the DuckDB ones. Staging-only cases run
``stg_customer_input`` alone; one whole fit (``+customer_segments``) reads the demo customers
from their CSV file. The same process also builds two tiny projects: a 25,000-row seed (its
scan order) and models with enforced contracts (one holds, two must fail).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from spark_support import FIGURES, REPO, TIMINGS, VARS, require_spark

pytestmark = pytest.mark.spark

FIXTURES = REPO / "tests" / "fixtures" / "input"
HEADER = "customer_id,minutes_watched,CLV,region,channel"
STAGE = ["run", "--select", "stg_customer_input"]
FIT = ["build", "--select", "+customer_segments", "--indirect-selection", "cautious"]
COMPARED = [
    "source_row_number", "customer_id", "minutes_watched", "minutes_was_missing",
    "customer_lifetime_value", "region_code", "channel_code", "source_line",
]  # fmt: skip


def good_rows(count: int, seed: int, separator: str = ",", decimal: str = ".") -> list[str]:
    rng = random.Random(seed)
    return [
        separator.join(
            [
                f"C{i:05d}",
                str(rng.randint(0, 5000)),
                f"{rng.randint(10, 900)}{decimal}{rng.randint(0, 99):02d}",
                str(rng.randint(0, 2)),
                str(rng.randint(1, 8)),
            ]
        )
        for i in range(1, count + 1)
    ]


def write_inputs(folder: Path) -> dict[str, tuple[Path, dict]]:
    """case name -> (file, extra dbt vars)."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, lines: list[str], encoding: str = "utf-8") -> Path:
        path = folder / name
        path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        return path

    rows = good_rows(30, seed=1)
    rows[4] = "C00005,1,2,0,1,extra"  # too many fields
    rows[9] = "C00010,1"  # too few
    mixed = folder / "mixed.csv"
    data = "\n".join([HEADER, *rows, "C99999,5"]).encode() + b"\n"  # a short last line
    mixed.write_bytes(data.replace(rows[15].encode(), rows[15].encode().replace(b",", b"\xff,", 1)))
    accented = [HEADER] + [f"Ünï-{i}," + r.split(",", 1)[1] for i, r in enumerate(good_rows(20, 2))]
    parquet = folder / "customers.parquet"
    pq.write_table(pa_csv.read_csv(FIXTURES / "quarantine.csv"), parquet)
    return {
        "quarantine": (FIXTURES / "quarantine.csv", {}),
        "mixed": (mixed, {}),
        "ids": (FIXTURES / "customer_ids.csv", {}),
        "crlf_bom": (FIXTURES / "crlf_bom_extra_columns.csv", {}),
        # ";" found by the delimiter sniffing of both engines
        "decimal_comma": (
            write("comma.csv", [HEADER.replace(",", ";"), *good_rows(20, 5, ";", ",")]),
            {"input_decimal_separator": ","},
        ),
        "latin1": (write("latin1.csv", accented, "latin-1"), {"input_encoding": "latin-1"}),
        "utf16": (write("utf16.csv", accented, "utf-16"), {"input_encoding": "utf-16"}),
        "parquet": (parquet, {}),
    }


def fatal_inputs(folder: Path) -> dict[str, Path]:
    # A UTF-16 file read as UTF-8 (DuckDB's own test of this case uses accented ids too).
    utf16 = folder / "utf16_unset.csv"
    rows = [f"José-{i}," + r.split(",", 1)[1] for i, r in enumerate(good_rows(50, 6))]
    utf16.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("utf-16"))
    empty = folder / "empty.csv"
    empty.write_bytes(b"")
    return {
        "missing_file": folder / "nope.csv",
        "empty_file": empty,
        "missing_folder": folder / "no" / "such.csv",
        "missing_column": FIXTURES / "missing_clv_column.csv",
        "header_only": FIXTURES / "header_only.csv",
        "utf16_unset": utf16,
    }


def jobs(folder: Path) -> list[dict]:
    found = []
    found.append({"name": "lookups", "args": ["seed", "--select", "regions", "channels"]})
    seeds = seed_project(folder / "seed_order")
    found.append(
        {
            "name": "seed_order",
            "args": ["build", "--project-dir", str(seeds)],
            "tables": ["staging.scan_order"],
        }
    )
    contracts = contract_project(folder / "contracts")
    found.append(
        {
            "name": "contracts",
            "args": ["run", "--project-dir", str(contracts)],
        }
    )
    for name, (path, extra) in write_inputs(folder).items():
        found.append(
            {
                "name": name,
                "args": [*STAGE, "--vars", json.dumps({"input_path": str(path), **extra})],
                "tables": ["staging.stg_customer_input"],
            }
        )
    for name, path in fatal_inputs(folder).items():
        found.append(
            {"name": name, "args": [*STAGE, "--vars", json.dumps({"input_path": str(path)})]}
        )
    demo_csv = REPO / "seeds" / "demo_customers.csv"
    found.append(
        {
            "name": "fit_csv",
            "args": [*FIT, "--vars", json.dumps({**VARS, "input_path": str(demo_csv)})],
            "tables": ["marts.customer_segments"],
        }
    )
    return found


SEED_ROWS = 25_000


def seed_project(folder: Path) -> Path:
    """A project with one generated seed of :data:`SEED_ROWS` rows (ids in a shuffled order, so
    file order is not id order) and a model numbering its rows in scan order with this
    project's macros (the seed loader and scan_row_number, copied from the repository)."""
    (folder / "seeds").mkdir(parents=True)
    (folder / "models").mkdir()
    (folder / "macros").mkdir()
    for macro in (
        "seeds/spark_seed_rows.sql",
        "cross_db/scan_row_number.sql",
        "generate_schema_name.sql",
    ):
        shutil.copy(REPO / "dbt_project" / "macros" / macro, folder / "macros")
    ids = list(range(1, SEED_ROWS + 1))
    random.Random(8).shuffle(ids)
    lines = ["customer_id,minutes_watched"] + [f"K{i},{i % 977}" for i in ids]
    (folder / "seeds" / "big_customers.csv").write_text("\n".join(lines) + "\n")
    (folder / "models" / "scan_order.sql").write_text(
        "select customer_id, {{ scan_row_number() }} as source_row_number"
        " from {{ ref('big_customers') }}"
    )
    (folder / "dbt_project.yml").write_text(
        "name: customer_segmentation\nversion: '1.0'\nconfig-version: 2\n"
        "profile: customer_segmentation\n"
        "models:\n  +materialized: table\n  +schema: staging\nseeds:\n  +schema: raw\n"
    )
    return folder


CONTRACT_MODELS = {
    # name: (SQL, declared columns as (name, data_type)); the yml's types are the project's
    # (string, integer, bigint, double, boolean, timestamp: spellings both engines accept)
    "kept": (
        "select cast(1 as integer) as segment_id, 'a' as segment_name,"
        " cast(2.5 as double) as share",
        [("segment_id", "integer"), ("segment_name", "string"), ("share", "double")],
    ),
    "wrong_type": (
        "select 'x' as segment_id, 'a' as segment_name",
        [("segment_id", "integer"), ("segment_name", "string")],
    ),
    "missing_column": (
        "select cast(1 as integer) as segment_id",
        [("segment_id", "integer"), ("segment_name", "string")],
    ),
}


def contract_project(folder: Path) -> Path:
    """A project whose models enforce contracts written like _marts__models.yml: one that
    holds, one with a text column declared integer, one without a declared column."""
    (folder / "models").mkdir(parents=True)
    (folder / "macros").mkdir()
    shutil.copy(REPO / "dbt_project" / "macros" / "generate_schema_name.sql", folder / "macros")
    yml = ["version: 2", "models:"]
    for name, (sql, columns) in CONTRACT_MODELS.items():
        (folder / "models" / f"{name}.sql").write_text(sql + "\n")
        yml += [f"  - name: {name}", "    config:", "      contract: {enforced: true}"]
        yml += ["    columns:"]
        yml += [f"      - {{name: {c}, data_type: {t}}}" for c, t in columns]
    (folder / "models" / "_contracts__models.yml").write_text("\n".join(yml) + "\n")
    (folder / "dbt_project.yml").write_text(
        "name: customer_segmentation\nversion: '1.0'\nconfig-version: 2\n"
        "profile: customer_segmentation\n"
        "models:\n  +materialized: table\n  +schema: marts\n"
    )
    return folder


def run_batch(target: str, scratch: Path, env: dict[str, str]) -> dict[str, dict]:
    spec = scratch / "spec.json"
    out = scratch / "out.json"
    job_list = jobs(scratch / "inputs")
    for job in job_list:
        job["args"] += [
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
        ]
    spec.write_text(json.dumps({"target": target, "jobs": job_list, "out": str(out)}))
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "spark" / "dbt_batch.py"), str(spec)],
        cwd=REPO,
        env={**os.environ, "DBT_PROFILES_DIR": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return {job["name"]: job for job in json.loads(out.read_text())}


@pytest.fixture(scope="module")
def on_spark(tmp_path_factory) -> dict[str, dict]:
    require_spark()
    scratch = tmp_path_factory.mktemp("input_path_spark")
    started = time.perf_counter()
    results = run_batch("spark", scratch, {"CUSTOMER_SEGMENTATION_SPARK_DIR": str(scratch)})
    TIMINGS[
        "Spark: 12 input_path staging runs, a fit, a 25,000-row seed, contracts; one process"
    ] = time.perf_counter() - started
    return results


@pytest.fixture(scope="module")
def on_duckdb(tmp_path_factory) -> dict[str, dict]:
    scratch = tmp_path_factory.mktemp("input_path_duckdb")
    return run_batch("dev", scratch, {"CUSTOMER_SEGMENTATION_DB": str(scratch / "w.duckdb")})


def staged(result: dict) -> list[dict]:
    assert result["success"], result["messages"]
    return sorted(
        result["tables"]["staging.stg_customer_input"], key=lambda r: r["source_row_number"]
    )


def reason_class(reason: str | None) -> str | None:
    """A parse error's line and class ("line 6: too many columns"): the words in parentheses
    are each engine's own; a value's reason is compared whole."""
    if reason and reason.startswith("line "):
        return reason.split(" (")[0]
    return reason


CASES = ["quarantine", "mixed", "ids", "crlf_bom", "decimal_comma", "latin1", "utf16", "parquet"]


@pytest.mark.parametrize("case", CASES)
def test_staged_rows_and_quarantine_match_duckdb(on_spark, on_duckdb, case):
    spark_rows, duckdb_rows = staged(on_spark[case]), staged(on_duckdb[case])
    assert len(spark_rows) == len(duckdb_rows) > 0
    for left, right in zip(spark_rows, duckdb_rows, strict=True):
        for column in COMPARED:
            assert left[column] == right[column], (case, column, left, right)
        assert reason_class(left["rejection_reason"]) == reason_class(right["rejection_reason"])


def test_bad_lines_are_quarantined_with_their_line_numbers(on_spark):
    rows = {r["source_row_number"]: r for r in staged(on_spark["mixed"])}
    rejected = {n: r["rejection_reason"] for n, r in rows.items() if r["rejection_reason"]}
    assert sorted(rejected) == [5, 10, 16, 31]
    assert rejected[5] == "line 6: too many columns (expected 5 fields, found 6)"
    assert rejected[10] == "line 11: missing columns (expected 5 fields, found 2)"
    assert rejected[16].startswith("line 17: invalid encoding")
    assert rows[31]["raw_line"] == "C99999,5" and rows[31]["source_line"] == 32
    assert rows[17]["customer_id"] == "C00017" and rows[17]["rejection_reason"] is None


def test_text_ids_duplicates_and_encodings_as_on_duckdb(on_spark):
    rejected = {
        r["source_row_number"]: r["rejection_reason"]
        for r in staged(on_spark["ids"])
        if r["rejection_reason"]
    }
    assert rejected == {21: "customer_id: duplicate of row 2", 22: "customer_id: missing"}
    for case in ("latin1", "utf16"):
        ids = {r["customer_id"] for r in staged(on_spark[case])}
        assert ids == {f"Ünï-{i}" for i in range(20)}, case


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing_column", "required column 'CLV' is missing (columns found: minutes_watched, "),
        ("header_only", "no data rows (header only)"),
        ("utf16_unset", "starts with a UTF-16 byte order mark; set input_encoding: utf-16"),
    ],
)  # fmt: skip
def test_fatal_input_stops_with_the_same_line_as_on_duckdb(on_spark, on_duckdb, case, expected):
    for result in (on_spark[case], on_duckdb[case]):
        assert not result["success"]
        assert any(expected in message for message in result["messages"]), result["messages"]


def test_a_missing_file_stops_with_the_same_line_as_on_duckdb(on_spark, on_duckdb):
    """The file's folder is listed on Spark: no such name is DuckDB's "file not found"."""
    for result in (on_spark["missing_file"], on_duckdb["missing_file"]):
        assert not result["success"]
        messages = " ".join(result["messages"])
        assert "file not found (relative paths start at the repository root)" in messages
        assert "nope.csv" in messages


def test_an_empty_file_stops_with_one_line(on_spark, on_duckdb):
    """Spark lists no 0-byte file, so its line says both; DuckDB tells them apart."""
    assert not on_spark["empty_file"]["success"] and not on_duckdb["empty_file"]["success"]
    assert "or empty (0 bytes" in " ".join(on_spark["empty_file"]["messages"])
    assert "file is empty (0 bytes)" in " ".join(on_duckdb["empty_file"]["messages"])


def test_a_missing_folder_stops_with_sparks_own_line(on_spark, on_duckdb):
    """A folder that does not exist cannot be listed: Spark's PATH_NOT_FOUND line names it."""
    spark_messages = " ".join(on_spark["missing_folder"]["messages"])
    assert not on_spark["missing_folder"]["success"]
    assert "[PATH_NOT_FOUND] Path does not exist" in spark_messages
    assert "/no" in spark_messages
    assert "file not found" in " ".join(on_duckdb["missing_folder"]["messages"])


def test_a_csv_file_gets_the_same_segments_on_both_engines(on_spark, on_duckdb):
    """The demo customers read from their CSV file, fitted on each engine. (A Parquet file's
    staged rows equal DuckDB's above, and the fit reads nothing else: one fit keeps the
    module's cost down.)"""
    case = "fit_csv"
    segments = []
    for result in (on_spark[case], on_duckdb[case]):
        assert result["success"], result["messages"]
        rows = result["tables"]["marts.customer_segments"]
        segments.append({r["customer_id"]: r["segment_id"] for r in rows})
    same = sum(segments[0].get(key) == value for key, value in segments[1].items())
    FIGURES["input_path CSV: customers with the same segment id on both engines"] = same
    assert len(segments[0]) == len(segments[1]) == 3834
    assert same == 3834


def test_a_large_seed_keeps_the_file_order_on_both_engines(on_spark, on_duckdb):
    """Above 10,000 rows dbt-spark's own loader wrote several files that Spark scanned largest
    first; the project's loader writes one, so every row has its file position on both."""
    orders = []
    for result in (on_spark["seed_order"], on_duckdb["seed_order"]):
        assert result["success"], result["messages"]
        rows = result["tables"]["staging.scan_order"]
        orders.append({r["customer_id"]: r["source_row_number"] for r in rows})
    assert len(orders[0]) == len(orders[1]) == SEED_ROWS
    assert orders[0] == orders[1]
    ids = list(range(1, SEED_ROWS + 1))
    random.Random(8).shuffle(ids)
    assert [orders[0][f"K{i}"] for i in ids] == list(range(1, SEED_ROWS + 1))


def test_contracts_hold_on_both_engines_and_a_wrong_one_fails_the_model(on_spark, on_duckdb):
    for result in (on_spark["contracts"], on_duckdb["contracts"]):
        assert not result["success"]
        status = {m.split(":")[0]: m for m in result["messages"] if not m.startswith("exception")}
        assert set(status) == set(CONTRACT_MODELS)
        assert status["kept"].startswith("kept: success")
        for name, reason in (("wrong_type", "data type mismatch"), ("missing_column", "missing")):
            assert status[name].startswith(f"{name}: error"), status[name]
            assert "This model has an enforced contract that failed" in status[name]
            assert reason in status[name], status[name]
