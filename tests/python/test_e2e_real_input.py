"""Real customer exports through real dbt builds: text ids, bad lines, other encodings and
delimiters, decimal commas, huge values, spreadsheets, hostile vars, the reject-share guard
and the one-line stop. Each case asserts the exact outcome: rows segmented, rows rejected with
which reason, or the message."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, assert_ok, build, dbt_env, run_dbt

pytestmark = pytest.mark.e2e

HEADER = "customer_id,minutes_watched,CLV,region,channel"
SMALL = {"k": 3, "k_max": 4, "n_init": 10}
#: Only the input side: staging, the reject mart and the checks on them (seconds, not a fit).
STAGING = (
    "--select",
    "+stg_customers",
    "rejected_customer_rows",
    "--indirect-selection",
    "cautious",
)


def good_rows(count: int, ids=None, seed: int = 0) -> list[str]:
    """``count`` valid data lines: ids (default C00001...), minutes, CLV, region, channel."""
    rng = random.Random(seed)
    ids = ids or [f"C{i:05d}" for i in range(1, count + 1)]
    return [
        f"{ids[i]},{rng.randint(0, 5000)},{rng.randint(10, 900)}.{rng.randint(0, 99):02d},"
        f"{rng.randint(0, 2)},{rng.randint(1, 8)}"
        for i in range(count)
    ]


def write(folder: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def stage(tmp_path: Path, path: Path, name: str = "stage", **dbt_vars):
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    return run_dbt(
        folder / f"{name}.duckdb", "build", *STAGING, dbt_vars={"input_path": str(path), **dbt_vars}
    )


def counts(run) -> tuple[int, int, int]:
    """(input rows, usable rows, rejected rows) as staging recorded them."""
    return (
        run.scalar("select count(*) from staging.stg_customer_input"),
        run.scalar("select count(*) from staging.stg_customers"),
        run.scalar("select count(*) from marts.rejected_customer_rows"),
    )


def reasons(run) -> dict[int, str]:
    return dict(
        run.query("select source_row_number, rejection_reason from marts.rejected_customer_rows")
    )


def test_text_ids_are_kept_as_the_file_has_them(tmp_path):
    ids = [
        "C00764",
        "00764",
        "764",
        "u-001",
        "6f1c2a4e-9b7d-4c1e-8f3a-2d5b6c7e8f90",
        "ana@example.com",
        "  padded  ",
        "Ünïcode-7",
    ] + [f"X{i}" for i in range(40)]
    path = write(tmp_path, "ids.csv", [HEADER, *good_rows(len(ids), ids)])
    run = assert_ok(build(tmp_path, "textids", input_path=str(path), **SMALL))
    found = {row[0] for row in run.query("select customer_id from marts.customer_segments")}
    # Trimmed, otherwise unchanged: leading zeros and case survive, so BI joins back.
    assert found == {i.strip() for i in ids}
    types = run.query(
        "select distinct data_type from information_schema.columns "
        "where column_name = 'customer_id' and table_schema = 'marts'"
    )
    assert types == [("VARCHAR",)]
    assert run.scalar("select count(*) from marts.rejected_customer_rows") == 0


def test_text_ids_in_a_purchase_file_with_the_rfm_preset(tmp_path):
    rng = random.Random(4)
    lines = ["customer_id,purchase_date,amount,quantity"]
    for customer in range(60):
        for _ in range(1 + customer % 5):
            day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            lines.append(f"cust-{customer:03d},{day},{rng.randint(5, 400)}.50,{rng.randint(1, 3)}")
    path = write(tmp_path, "purchases.csv", lines)
    run = assert_ok(build(tmp_path, "rfmtext", input_path=str(path), preset="rfm", n_init=10))
    found = {row[0] for row in run.query("select customer_id from marts.customer_segments")}
    assert found == {f"cust-{c:03d}" for c in range(60)}
    assert run.scalar("select sum(frequency) from marts.customer_segments") == len(lines) - 1


def test_a_short_last_line_costs_that_line_only(tmp_path):
    path = write(tmp_path, "short.csv", [HEADER, *good_rows(200), "C99999,5"])
    run = assert_ok(stage(tmp_path, path))
    assert counts(run) == (201, 200, 1)
    ((row, reason),) = reasons(run).items()
    assert row == 201
    assert reason.startswith("line 202: missing columns (Expected Number of Columns: 5 Found: ")
    line = run.query("select source_line, raw_line from marts.rejected_customer_rows")
    assert line == [(202, "C99999,5")]


def test_bad_lines_keep_every_other_line_with_its_line_number(tmp_path):
    rows = good_rows(30)
    rows[4] = "C00005,1,2,0,1,extra"  # too many fields
    rows[9] = "C00010,1"  # too few
    path = tmp_path / "mixed.csv"
    body = [HEADER, *rows]
    data = "\n".join(body).encode() + b"\n"
    # Invalid UTF-8 bytes in line 17 (data row 16).
    data = data.replace(rows[15].encode(), rows[15].encode().replace(b",", b"\xff,", 1))
    path.write_bytes(data)
    run = assert_ok(stage(tmp_path, path))
    assert counts(run) == (30, 27, 3)
    found = reasons(run)
    assert set(found) == {5, 10, 16}
    assert found[5].startswith("line 6: too many columns")
    assert found[10].startswith("line 11: missing columns")
    assert found[16].startswith("line 17: invalid encoding")
    # Good rows after a bad line keep their own line numbers.
    numbered = run.query(
        "select source_row_number, customer_id from staging.stg_customers "
        "where source_row_number in (4, 6, 11, 17, 30) order by 1"
    )
    assert numbered == [
        (4, "C00004"),
        (6, "C00006"),
        (11, "C00011"),
        (17, "C00017"),
        (30, "C00030"),
    ]


def test_a_value_the_marts_cannot_hold_is_rejected_in_staging(tmp_path):
    rows = good_rows(40)
    rows[7] = "C00008,10,1e300,0,1"
    rows[8] = "C00009,-1e16,10,0,1"
    path = write(tmp_path, "huge.csv", [HEADER, *rows])
    run = assert_ok(build(tmp_path, "huge", input_path=str(path), **SMALL))
    assert reasons(run) == {
        8: "CLV: beyond the supported magnitude 1e15 ('1e300')",
        9: "minutes_watched: beyond the supported magnitude 1e15 ('-1e16')",
    }
    assert run.scalar("select count(*) from marts.customer_segments") == 38
    assert run.scalar("select sum(count_customers) from marts.segment_profiles") == 38


def decimal_comma_file(folder: Path) -> Path:
    lines = ["customer_id;minutes_watched;CLV;region;channel"]
    for i, row in enumerate(good_rows(200)):
        ident, minutes, clv, region, channel = row.split(",")
        if i % 9 == 0:
            clv = clv.split(".")[0]  # a whole amount has no decimal comma
        lines.append(";".join([ident, minutes, clv.replace(".", ","), region, channel]))
    return write(folder, "decimal_comma.csv", lines)


def test_a_decimal_comma_file_stops_with_the_hint_then_reads_with_the_var(tmp_path):
    path = decimal_comma_file(tmp_path)
    run = stage(tmp_path, path, "comma")
    assert run.returncode != 0
    assert (
        f"input_path '{path}': 177 of 200 rows (88.5 %) rejected, above max_rejected_share 0.1; "
        "most common reason: CLV: not a number ("
    ) in run.output
    assert "is it a decimal-comma file? set input_decimal_separator: ','" in run.output
    run = assert_ok(stage(tmp_path, path, "comma_ok", input_decimal_separator=","))
    assert counts(run) == (200, 200, 0)
    first = run.scalar("select customer_lifetime_value from staging.stg_customers order by 1 desc")
    expected = max(float(r.split(",")[2]) for r in good_rows(200))
    assert first == pytest.approx(max(expected, 0))


def test_below_the_share_a_warning_names_the_count_and_reasons(tmp_path):
    rows = good_rows(100)
    rows[3] = "C00004,abc,10,0,1"
    path = write(tmp_path, "few_bad.csv", [HEADER, *rows])
    run = assert_ok(stage(tmp_path, path))
    assert (
        f"warning: input_path '{path}': 1 of 100 rows (1.0 %) rejected "
        "(see marts.rejected_customer_rows); top reasons: minutes_watched: not a number (1)"
    ) in run.output


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_other_encodings_are_read_with_input_encoding(tmp_path, encoding):
    ids = [f"José-{i}" for i in range(50)]
    path = write(tmp_path, f"{encoding}.csv", [HEADER, *good_rows(50, ids)], encoding)
    refused = stage(tmp_path, path, f"{encoding}_default")
    assert refused.returncode != 0
    expected = {
        "latin-1": "rejected all 50 lines (invalid encoding): is the file not UTF-8? "
        "set input_encoding (latin-1 or utf-16)",
        "utf-16": "rejected all 51 lines (missing columns): the file starts with a UTF-16 byte "
        "order mark; set input_encoding: utf-16",
    }[encoding]
    assert f"input_path '{path}': no line could be read: DuckDB {expected}" in refused.output
    run = assert_ok(stage(tmp_path, path, f"{encoding}_set", input_encoding=encoding))
    assert counts(run) == (50, 50, 0)
    found = {r[0] for r in run.query("select customer_id from staging.stg_customers")}
    assert found == set(ids)


def test_a_delimiter_var_and_a_bad_one(tmp_path):
    rows = [HEADER.replace(",", "|"), *(r.replace(",", "|") for r in good_rows(20))]
    path = write(tmp_path, "pipes.csv", rows)
    assert counts(assert_ok(stage(tmp_path, path, "pipes", input_delimiter="|"))) == (20, 20, 0)
    bad = stage(tmp_path, path, "pipes_bad", input_delimiter="||")
    assert bad.returncode != 0
    assert "var 'input_delimiter': expected auto or one character" in bad.output


def test_an_excel_workbook_is_converted_by_the_build_command_or_refused_by_dbt(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    for row in good_rows(30):
        ident, minutes, clv, region, channel = row.split(",")
        sheet.append([ident, int(minutes), float(clv), int(region), int(channel)])
    sheet.append(["C00031", "lots", 5.0, 0, 1])
    path = tmp_path / "customers.xlsx"
    workbook.save(path)

    refused = stage(tmp_path, path, "xlsx_dbt")
    assert refused.returncode != 0
    assert f"input_path '{path}': Excel workbooks are not read by dbt here" in refused.output

    folder = tmp_path / "xlsx_cli"
    folder.mkdir()
    command = [
        str(Path(sys.executable).parent / "customer-segmentation"),
        "build",
        *STAGING,
        "--vars",
        f"{{input_path: '{path}'}}",
        "--target-path",
        str(folder / "target"),
        "--log-path",
        str(folder / "logs"),
    ]
    env = dbt_env(folder / "x.duckdb")
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    parquet = folder / "target" / "inputs" / "customers.parquet"
    assert f"{path}: converted to {parquet} (31 rows)" in done.stdout
    with duckdb.connect(str(folder / "x.duckdb"), read_only=True) as con:
        rejected = con.execute(
            "select source_row_number, rejection_reason from marts.rejected_customer_rows"
        ).fetchall()
        usable = con.execute("select count(*) from staging.stg_customers").fetchone()[0]
    assert (usable, rejected) == (30, [(31, "minutes_watched: not a number ('lots')")])


def test_a_pattern_in_the_file_name_and_a_repeated_column_are_refused(tmp_path):
    star = write(tmp_path, "customers*.csv", [HEADER, *good_rows(10)])
    run = stage(tmp_path, star, "star")
    assert run.returncode != 0
    assert "the file name contains '*'" in run.output
    twice = write(tmp_path, "twice.csv", [HEADER + ",clv", *(r + ",1" for r in good_rows(10))])
    run = stage(tmp_path, twice, "twice")
    assert run.returncode != 0
    assert f"input_path '{twice}': the header names column 'clv' twice" in run.output


def test_input_relation_is_never_spliced_into_sql(tmp_path):
    folder = tmp_path / "inject"
    folder.mkdir()
    database = folder / "inject.duckdb"
    hostile = "x'); create table injected as select 42 as v; select 1; --"
    run = run_dbt(database, "build", *STAGING, dbt_vars={"input_relation": hostile})
    assert run.returncode != 0
    assert "var 'input_relation': expected a table name like raw.customers" in run.output
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as con:
            tables = {
                r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()
            }
        assert "injected" not in tables
    bad_date = run_dbt(
        database, "build", *STAGING, dbt_vars={"preset": "rfm", "reference_date": "x'; --"}
    )
    assert "var 'reference_date': expected a date as yyyy-mm-dd" in bad_date.output


def cli_build(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dbt_env(folder / "cli.duckdb")
    command = [
        str(Path(sys.executable).parent / "customer-segmentation"),
        "build",
        *args,
        "--target-path",
        str(folder / "target"),
        "--log-path",
        str(folder / "logs"),
    ]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)


def test_an_expected_stop_ends_with_one_line_and_no_traceback(tmp_path):
    path = decimal_comma_file(tmp_path)
    done = cli_build(tmp_path, *STAGING, "--vars", f"{{input_path: '{path}'}}")
    assert done.returncode != 0
    tail = done.stdout.splitlines()[-2:]
    assert tail[0] == "build stopped: 1 error"
    assert tail[1].startswith(f"  model stg_customers: input_path '{path}': 177 of 200 rows")
    assert "Traceback" not in done.stdout + done.stderr
    # The full context stays in dbt's log.
    assert "check_rejected_share" in (tmp_path / "logs" / "dbt.log").read_text()


def test_a_bad_var_ends_the_command_with_the_var_line(tmp_path):
    done = cli_build(tmp_path, *STAGING, "--vars", "{k: eight}")
    assert done.returncode != 0
    assert done.stdout.splitlines()[-2:] == [
        "build stopped:",
        "  var 'k': expected an integer, got 'eight'",
    ]
    assert "Traceback" not in done.stdout + done.stderr


def test_a_locked_database_names_the_process_that_holds_it(tmp_path):
    database = tmp_path / "cli.duckdb"
    duckdb.connect(str(database)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(database)!r}); print('open', "
            "flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        done = cli_build(tmp_path, *STAGING)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode != 0
    program = os.path.realpath(sys.executable)  # DuckDB names the executable, links resolved
    assert done.stdout.splitlines()[-2:] == [
        "build stopped:",
        f"  {database} is open in another process (PID {holder.pid}, {program}): "
        "close that program (a notebook, a BI tool, another dbt run) or set "
        "CUSTOMER_SEGMENTATION_DB to another file, then run again",
    ]


CORRUPTIONS = ("cut", "garbage", "wrong_type", "huge", "extra_field", "blank_id", "quote")


def corrupt(rows: list[str], rng: random.Random, count: int) -> list[str]:
    """``count`` random corruptions of distinct data rows, of the kinds in CORRUPTIONS."""
    rows = list(rows)
    for index in rng.sample(range(len(rows)), count):
        kind = rng.choice(CORRUPTIONS)
        fields = rows[index].split(",")
        if kind == "cut":
            rows[index] = ",".join(fields[: rng.randint(1, 4)])
        elif kind == "garbage":
            rows[index] = rows[index][:3] + "\udcff\udcfe" + rows[index][3:]
        elif kind == "wrong_type":
            fields[rng.randint(1, 4)] = rng.choice(["abc", "1,5", "--", "0x1F", "NaN"])
            rows[index] = ",".join(fields)
        elif kind == "huge":
            fields[rng.choice([1, 2])] = rng.choice(["1e300", "9e99", "-1e400"])
            rows[index] = ",".join(fields)
        elif kind == "extra_field":
            rows[index] += ",surplus"
        elif kind == "blank_id":
            rows[index] = "," + ",".join(fields[1:])
        else:
            rows[index] = '"' + rows[index]
    return rows


@pytest.mark.parametrize("seed", range(4))
def test_random_corruptions_never_lose_a_row_or_end_in_a_traceback(tmp_path, seed):
    rng = random.Random(seed)
    rows = corrupt(good_rows(120, seed=seed), rng, count=rng.randint(3, 12))
    path = tmp_path / "corrupt.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("utf-8", "surrogateescape"))
    run = stage(tmp_path, path, f"corrupt{seed}", max_rejected_share=1)
    assert run.returncode == 0, run.output[-3000:]
    assert "Traceback" not in run.output
    total, usable, rejected = counts(run)
    # Rows in = rows usable + rows rejected; every data line is a row.
    assert total == 120
    assert usable + rejected == total
    assert rejected >= 1
    assert (
        run.scalar(
            "select count(*) from staging.stg_customer_input where rejection_reason "
            "is not null and rejection_reason = ''"
        )
        == 0
    )
