"""Bad input through real dbt builds: fatal errors name the input and column; bad rows are
quarantined with a reason; the counts always add up."""

import pytest
from conftest import FIXTURES, assert_ok, build

pytestmark = pytest.mark.e2e

SMALL = {"k": 3, "k_max": 4, "n_init": 10}
SEGMENT_TABLES = {"marts.customer_segments", "marts.segment_profiles"}


def fatal(tmp_path, path: str, expected: str, **extra):
    run = build(tmp_path, "fatal", input_path=path, **extra)
    assert run.returncode != 0
    assert expected in run.output, run.output[-4000:]
    if run.database.exists():
        assert not SEGMENT_TABLES & run.tables()
    return run


def test_missing_file(tmp_path):
    fatal(tmp_path, "no/such/customers.csv", "input_path 'no/such/customers.csv': file not found")


def test_empty_file(tmp_path):
    path = str(FIXTURES / "empty.csv")
    fatal(tmp_path, path, f"input_path '{path}': file is empty (0 bytes)")


def test_header_only(tmp_path):
    path = str(FIXTURES / "header_only.csv")
    fatal(tmp_path, path, f"input_path '{path}': no data rows (header only)")


def test_required_column_missing(tmp_path):
    path = str(FIXTURES / "missing_clv_column.csv")
    fatal(
        tmp_path,
        path,
        f"input_path '{path}': required column 'CLV' is missing "
        "(columns found: minutes_watched, region, channel)",
    )


def test_fewer_usable_rows_than_k(tmp_path):
    path = str(FIXTURES / "too_few_usable_rows.csv")
    run = fatal(
        tmp_path,
        path,
        f"input_path '{path}': 5 usable customer rows, fewer than k = 8 segments",
        max_rejected_share=1,
    )
    # Stopped before any fit: no Python model ran.
    assert "ml_feature_scaler" not in {t.split(".")[-1] for t in run.tables()}


def test_fewer_distinct_feature_rows_than_k(tmp_path):
    path = tmp_path / "same.csv"
    path.write_text("minutes_watched,CLV,region,channel\n" + "10,100,0,1\n20,200,1,2\n" * 20)
    fatal(
        tmp_path,
        str(path),
        f"input_path '{path}': 40 usable customer rows but only 2 distinct feature rows, "
        "fewer than k = 3 segments (identical customers always share a segment); lower k",
        k=3,
    )


def test_one_usable_customer_is_one_message(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("minutes_watched,CLV,region,channel\n10,100,0,1\n")
    run = fatal(
        tmp_path,
        str(path),
        f"input_path '{path}': 1 usable customer row, fewer than k = 8 segments",
        max_rejected_share=1,
    )
    assert "Traceback" not in run.output


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    path = str(FIXTURES / "quarantine.csv")
    # A third of this file is bad on purpose: above the default max_rejected_share.
    run = assert_ok(build(tmp_path, "quarantine", input_path=path, max_rejected_share=1, **SMALL))
    reasons = dict(
        run.query("select source_row_number, rejection_reason from marts.rejected_customer_rows")
    )
    assert reasons == {
        25: "minutes_watched: not a number ('abc')",
        26: "minutes_watched: negative ('-5')",
        27: "CLV: negative ('-20.5')",
        28: "CLV: missing",
        29: "CLV: not a number ('12x')",
        30: "region: unknown code ('7')",
        31: "region: missing",
        32: "channel: unknown code ('9')",
        33: "channel: unknown code ('tv')",
        34: "CLV: not finite ('inf')",
        35: "minutes_watched: not a number ('x'); CLV: negative ('-1'); "
        "region: unknown code ('3'); channel: unknown code ('0')",
        36: "region: unknown code ('1.5')",
    }
    assert run.scalar("select count(*) from marts.customer_segments") == 24
    assert run.scalar("select count(*) from staging.stg_customer_input") == 36
    assert run.scalar("select max(source_row_number) from marts.customer_segments") == 24


def test_crlf_bom_mixed_case_headers_and_extra_columns_work(tmp_path):
    path = str(FIXTURES / "crlf_bom_extra_columns.csv")
    run = assert_ok(build(tmp_path, "crlf", input_path=path, **SMALL))
    assert run.scalar("select count(*) from marts.customer_segments") == 30
    assert run.scalar("select count(*) from marts.rejected_customer_rows") == 0
    assert run.scalar("select count_if(minutes_was_missing) from marts.customer_segments") == 4


def test_customer_id_column_is_used_and_checked(tmp_path):
    path = str(FIXTURES / "customer_ids.csv")
    run = assert_ok(build(tmp_path, "ids", input_path=path, **SMALL))
    ids = {r[0] for r in run.query("select customer_id from marts.customer_segments")}
    # Ids are text as the file has them: a letter or a fraction is a valid key, not a reject.
    assert ids == {str(1000 + i * 7) for i in range(20)} | {"C-77", "1140.5"}
    reasons = dict(
        run.query("select source_row_number, rejection_reason from marts.rejected_customer_rows")
    )
    assert reasons == {
        21: "customer_id: duplicate of row 2",
        22: "customer_id: missing",
    }


def test_parquet_input_and_a_path_with_a_quote(tmp_path):
    from demo.generate import write_customers

    target = tmp_path / "it's here" / "customers.parquet"
    write_customers(target, rows=300, seed=3, with_ids=True)
    run = assert_ok(build(tmp_path, "parquet", input_path=str(target), **SMALL))
    assert run.scalar("select count(*) from marts.customer_segments") == 300
    first = run.query(
        "select customer_id, source_row_number from marts.customer_segments order by 2"
    )
    assert first[0] == ("1", 1)


def test_an_existing_table_as_input(tmp_path):
    import duckdb

    folder = tmp_path / "relation"
    folder.mkdir()
    database = folder / "relation.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema landing")
        con.execute(
            f"""
            create table landing.customers as
            select * from read_csv('{FIXTURES / "quarantine.csv"}', all_varchar = true)
            """
        )
    from conftest import run_dbt

    run = assert_ok(
        run_dbt(
            database,
            "build",
            dbt_vars={"input_relation": "landing.customers", "max_rejected_share": 1, **SMALL},
        )
    )
    assert run.scalar("select count(*) from marts.customer_segments") == 24
    assert run.scalar("select count(*) from marts.rejected_customer_rows") == 12


def test_a_missing_table_is_named(tmp_path):
    run = build(tmp_path, "norel", input_relation="landing.nothing")
    assert run.returncode != 0
    assert "input_relation 'landing.nothing': table or view not found" in run.output
