"""The serving file through the clients BI users have: the oldest supported DuckDB engine in its
own environment, SQLAlchemy reflection as BI tools call it, pandas, and ``results()`` beside
the SQLAlchemy URL in one process."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import duckdb
import pytest
import sqlalchemy as sa

from customer_segmentation.access import serving_url
from customer_segmentation.publish import OLDEST_TESTED_READER, RUN_ID_COLUMN, publish

pytestmark = pytest.mark.e2e

OLD_READER_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [r[0] for r in con.execute(
    "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
out = {"version": duckdb.__version__, "tables": {}}
for t in tables:
    rows = con.execute(f'select * from marts."{t}"').fetchall()
    comments = con.execute(
        "select count(comment) from duckdb_columns() where schema_name = 'marts' "
        "and table_name = ?", [t]).fetchall()[0][0]
    out["tables"][t] = {"rows": len(rows), "commented_columns": comments}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def published(demo_build, tmp_path_factory):
    return publish(demo_build.database, tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="module")
def old_duckdb_python(tmp_path_factory):
    """A Python with duckdb==OLDEST_TESTED_READER only (its own venv, from the package index)."""
    venv = tmp_path_factory.mktemp("old-duckdb") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"duckdb=={OLDEST_TESTED_READER}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        pytest.skip(
            f"pip could not install duckdb=={OLDEST_TESTED_READER}: {install.stderr[-300:]}"
        )
    return python


def test_the_oldest_supported_engine_reads_every_table(published, old_duckdb_python):
    run = subprocess.run(
        [str(old_duckdb_python), "-c", OLD_READER_SCRIPT, str(published.serving_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert seen["version"] == OLDEST_TESTED_READER
    assert sorted(seen["tables"]) == sorted(published.rows)
    for table, rows in published.rows.items():
        assert seen["tables"][table]["rows"] == rows, table
        assert seen["tables"][table]["commented_columns"] > 0, table


@pytest.fixture
def engine(published):
    engine = sa.create_engine(serving_url(published.serving_file))
    yield engine
    engine.dispose()


def test_sqlalchemy_reflection_the_way_bi_tools_call_it(published, engine):
    inspector = sa.inspect(engine)
    # duckdb_engine names schemas <catalog>.<schema>; the catalog is the file's stem.
    assert f"{published.serving_file.stem}.marts" in inspector.get_schema_names()
    assert sorted(inspector.get_table_names(schema="marts")) == sorted(published.rows)
    assert inspector.get_view_names(schema="marts") == []
    columns = {c["name"]: c for c in inspector.get_columns("segment_profiles", schema="marts")}
    assert isinstance(columns["segment_id"]["type"], sa.Integer)
    assert isinstance(columns["segment_name"]["type"], sa.String)
    assert isinstance(columns["count_customers"]["type"], sa.BigInteger)
    assert all(c["comment"] for c in columns.values()), [n for n, c in columns.items() if not c]
    assert RUN_ID_COLUMN in columns
    table_comment = inspector.get_table_comment("segment_profiles", schema="marts")["text"]
    assert table_comment and table_comment.startswith("One row per segment")


def test_pandas_and_table_autoload_on_the_serving_url(published, engine):
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duckdb_engine: no reflection of indexes
        frame = pd.read_sql_table("segment_profiles", engine, schema="marts")
        table = sa.Table("customer_segments", sa.MetaData(), schema="marts", autoload_with=engine)
    assert len(frame) == published.rows["segment_profiles"]
    assert frame["count_customers"].sum() == published.rows["customer_segments"]
    assert "segment_id" in table.c and table.comment
    with engine.connect() as con:
        count = con.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        assert count == published.rows["customer_segments"]
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("create table marts.scratch as select 1 as x"))


def test_results_and_the_url_in_one_process(published, engine):
    from customer_segmentation import results

    with engine.connect() as con:  # a BI connection first ...
        before = con.execute(sa.text("select count(*) from marts.segment_profiles")).scalar()
        r = results(published.serving_file)  # ... then results(), while it is open
        profiles = r.segment_profiles.order_by("segment_id").to_pandas()
        cs = r.customer_segments
        per_segment = cs.group_by("segment_id").agg(n=cs.count()).to_pandas()
    assert before == len(profiles) == published.rows["segment_profiles"]
    assert per_segment["n"].sum() == published.rows["customer_segments"]
    assert sorted(r.tables) == sorted(published.rows)
    with pytest.raises(AttributeError, match="no mart"):
        r.not_a_table  # noqa: B018
    # And the other order: results() open, then a new engine and a plain read-only connection.
    other = sa.create_engine(serving_url(published.serving_file))
    with other.connect() as con:
        assert con.execute(sa.text("select count(*) from marts.segment_profiles")).scalar()
    other.dispose()
    engine.dispose()  # no SQLAlchemy connection left: a plain connection with other settings
    with duckdb.connect(str(published.serving_file), read_only=True) as plain:
        assert plain.execute("select count(*) from marts.segment_profiles").fetchall()
