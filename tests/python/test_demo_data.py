"""Tests for the deterministic synthetic customer generator."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from demo.generate import (
    BAD_TRANSACTION_KINDS,
    CHANNEL_SHARES,
    CUSTOMER_TYPES,
    DUPLICATE_SHARE,
    HISTORY_DAYS,
    REGION_SHARES,
    TRANSACTIONS_END_DATE,
    _duplicate_rows,
    customer_schema,
    generate_customers,
    generate_transactions,
    inject_bad_rows,
    transaction_schema,
    write_customers,
    write_transactions,
)

REPO = Path(__file__).resolve().parents[2]
# `python -m demo.generate` from any folder: demo/ lives at the repository root, not in the wheel.
_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
}
DEMO_ROWS = 3834
VALUE_COLUMNS = ["minutes_watched", "CLV", "region", "channel"]


@pytest.fixture(scope="module")
def demo() -> pa.Table:
    """The demo-sized table (3,834 rows, seed 7)."""
    return generate_customers(DEMO_ROWS, seed=7)


def _minutes(table: pa.Table) -> np.ndarray:
    """minutes_watched as float64 with NaN for blanks, shape (rows,)."""
    return table.column("minutes_watched").to_numpy(zero_copy_only=False)


def _exact_duplicate_count(table: pa.Table) -> int:
    return int(table.select(VALUE_COLUMNS).to_pandas().duplicated().sum())


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("planted", [False, True])
def test_same_seed_gives_identical_table(planted: bool) -> None:
    a = generate_customers(2000, seed=11, planted=planted, with_ids=True)
    b = generate_customers(2000, seed=11, planted=planted, with_ids=True)
    assert a.equals(b)


def test_different_seed_gives_different_table() -> None:
    a = generate_customers(2000, seed=11)
    b = generate_customers(2000, seed=12)
    assert a.schema.equals(b.schema)
    assert not a.equals(b)
    # Not just a permutation or a tiny change: most CLV values differ position by position.
    diff = np.mean(a.column("CLV").to_numpy() != b.column("CLV").to_numpy())
    assert diff > 0.5


# --- columns, types and domains ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("planted", "with_ids", "names"),
    [
        (False, False, ["minutes_watched", "CLV", "region", "channel"]),
        (False, True, ["customer_id", "minutes_watched", "CLV", "region", "channel"]),
        (True, False, ["minutes_watched", "CLV", "region", "channel", "planted_segment"]),
        (
            True,
            True,
            ["customer_id", "minutes_watched", "CLV", "region", "channel", "planted_segment"],
        ),
    ],
)
def test_columns_and_types(planted: bool, with_ids: bool, names: list[str]) -> None:
    table = generate_customers(300, seed=1, planted=planted, with_ids=with_ids)
    assert table.num_rows == 300
    assert table.column_names == names
    expected_types = {
        "customer_id": pa.int64(),
        "minutes_watched": pa.float64(),
        "CLV": pa.float64(),
        "region": pa.int64(),
        "channel": pa.int64(),
        "planted_segment": pa.int64(),
    }
    for field in table.schema:
        assert field.type == expected_types[field.name], field.name
    assert table.schema.equals(customer_schema(planted=planted, with_ids=with_ids))
    if with_ids:
        assert table.column("customer_id").to_pylist() == list(range(1, 301))


def test_zero_rows_is_empty_with_schema() -> None:
    table = generate_customers(0, planted=True, with_ids=True)
    assert table.num_rows == 0
    assert table.schema.equals(customer_schema(planted=True, with_ids=True))


def test_negative_rows_rejected() -> None:
    with pytest.raises(ValueError, match="rows"):
        generate_customers(-1)


def test_value_domains(demo: pa.Table) -> None:
    minutes = _minutes(demo)
    watched = minutes[~np.isnan(minutes)]
    assert np.all(watched >= 0)
    assert np.all(watched == np.round(watched)), "minutes must be integral"

    clv = demo.column("CLV").to_numpy()
    assert demo.column("CLV").null_count == 0
    assert clv.min() >= 0
    assert np.allclose(clv * 100, np.round(clv * 100), atol=1e-6), "CLV must have <= 2 decimals"
    assert np.any(clv == np.round(clv)), "some CLV values should be whole numbers"
    assert np.any(np.isclose(np.round(clv * 100) % 100, 99)), "some CLV values should end .99"

    region = demo.column("region").to_numpy()
    channel = demo.column("channel").to_numpy()
    assert set(np.unique(region)) == {0, 1, 2}
    assert set(np.unique(channel)) == set(range(1, 9))


def test_planted_segment_domain() -> None:
    table = generate_customers(2000, seed=5, planted=True)
    segment = table.column("planted_segment").to_numpy()
    assert set(np.unique(segment)) == set(range(8))


# --- marginal shape ----------------------------------------------------------------------------


def test_blank_share(demo: pa.Table) -> None:
    share = demo.column("minutes_watched").null_count / demo.num_rows
    assert 0.015 <= share <= 0.045


def test_exact_duplicates_exist_and_are_kept() -> None:
    table = generate_customers(DEMO_ROWS, seed=7, with_ids=True)
    assert table.num_rows == DEMO_ROWS  # duplicates are kept, not dropped
    ids = table.column("customer_id").to_numpy()
    assert len(np.unique(ids)) == DEMO_ROWS  # ... and are different customers
    share = _exact_duplicate_count(table) / DEMO_ROWS
    assert 0.003 <= share <= 0.025
    # Over several seeds the share sits near the real 1.1 %, well above chance collisions alone.
    shares = [
        _exact_duplicate_count(generate_customers(DEMO_ROWS, s)) / DEMO_ROWS for s in range(5)
    ]
    assert 0.007 <= np.mean(shares) <= 0.018


def test_copies_come_from_earlier_rows_never_row_zero() -> None:
    # Tag each row with its own index: after duplication a copy holds its source's index.
    n = 200_000
    cols = {"tag": np.arange(n), "other": np.arange(n) * 10}
    _duplicate_rows(cols, np.random.Generator(np.random.PCG64(0)))
    tag = cols["tag"]
    assert tag[0] == 0
    assert np.all(tag <= np.arange(n)), "a row may only copy an earlier row"
    assert np.array_equal(cols["other"], tag * 10), "whole rows are copied together"
    copied = tag != np.arange(n)
    assert abs(copied.mean() - DUPLICATE_SHARE) < 0.002
    assert 0.006 <= copied.mean() <= 0.012  # ~1.1 % target, minus room for chance collisions
    assert not np.any(copied[tag[copied]]), "copies point at original rows"


def test_minutes_are_heavily_skewed(demo: pa.Table) -> None:
    minutes = np.nan_to_num(_minutes(demo), nan=0.0)
    median = np.median(minutes)
    assert median > 0
    assert minutes.mean() > 2 * median
    assert minutes.max() > 50 * median
    # Loose agreement with the published quantiles (p10=24, p50=480, p90=3888).
    assert 5 <= np.quantile(minutes, 0.10) <= 80
    assert 250 <= median <= 900
    assert 2000 <= np.quantile(minutes, 0.90) <= 7000


def test_clv_and_category_marginals(demo: pa.Table) -> None:
    clv = demo.column("CLV").to_numpy()
    assert 90 <= np.median(clv) <= 150  # target 119
    assert 90 <= clv.mean() <= 150  # target ~118
    region = demo.column("region").to_numpy()
    channel = demo.column("channel").to_numpy()
    region_share = np.bincount(region, minlength=3) / len(region)
    channel_share = np.bincount(channel, minlength=9)[1:] / len(channel)
    assert np.allclose(region_share, REGION_SHARES, atol=0.03)
    assert np.allclose(channel_share, CHANNEL_SHARES, atol=0.025)


def test_clv_mildly_correlated_with_minutes() -> None:
    table = generate_customers(20_000, seed=3)
    minutes = _minutes(table)
    keep = ~np.isnan(minutes)
    ranks_m = np.argsort(np.argsort(minutes[keep]))
    ranks_c = np.argsort(np.argsort(table.column("CLV").to_numpy()[keep]))
    rho = np.corrcoef(ranks_m, ranks_c)[0, 1]
    assert 0.2 <= rho <= 0.45


# --- writing -----------------------------------------------------------------------------------


def test_chunked_parquet_equals_in_memory(tmp_path: Path) -> None:
    path = write_customers(
        tmp_path / "sub" / "customers.parquet", 2500, seed=3, with_ids=True, chunk_rows=1000
    )
    assert path == tmp_path / "sub" / "customers.parquet"
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    on_disk = pq.read_table(path)
    in_memory = generate_customers(2500, seed=3, with_ids=True, chunk_rows=1000)
    assert on_disk.schema.equals(in_memory.schema)
    assert on_disk.equals(in_memory)
    # Chunks have their own random streams: the 2nd chunk is not a replay of the 1st.
    first = in_memory.slice(0, 1000).select(VALUE_COLUMNS)
    second = in_memory.slice(1000, 1000).select(VALUE_COLUMNS)
    assert not first.equals(second)
    assert not list(tmp_path.joinpath("sub").glob("*.tmp")), "temporary file left behind"


def test_planted_parquet_keeps_truth_column(tmp_path: Path) -> None:
    path = write_customers(tmp_path / "p.parquet", 700, seed=2, planted=True, chunk_rows=300)
    assert pq.read_table(path).equals(generate_customers(700, 2, planted=True, chunk_rows=300))


def test_csv_roundtrip(tmp_path: Path, demo: pa.Table) -> None:
    path = write_customers(tmp_path / "demo.csv", DEMO_ROWS, seed=7)
    raw = path.read_bytes()
    assert raw.startswith(b"minutes_watched,CLV,region,channel\n")
    assert b"\r" not in raw
    assert b'"' not in raw
    assert raw.count(b"\n") == DEMO_ROWS + 1

    con = duckdb.connect()
    rel = con.sql(f"select * from read_csv('{path.as_posix()}', all_varchar=true)")
    assert rel.columns == VALUE_COLUMNS
    rows = rel.fetchall()
    assert len(rows) == DEMO_ROWS
    minutes_text = [r[0] for r in rows]
    assert sum(m is None for m in minutes_text) == demo.column("minutes_watched").null_count
    assert not any(m is not None and "." in m for m in minutes_text), "minutes must be integers"
    clv_text = [r[1] for r in rows]
    assert all(len(c.partition(".")[2]) <= 2 for c in clv_text)
    # Values parse back to exactly the in-memory table.
    assert [None if m is None else float(m) for m in minutes_text] == demo.column(
        "minutes_watched"
    ).to_pylist()
    assert [float(c) for c in clv_text] == demo.column("CLV").to_pylist()
    assert [int(r[2]) for r in rows] == demo.column("region").to_pylist()
    assert [int(r[3]) for r in rows] == demo.column("channel").to_pylist()


def test_csv_header_with_ids_and_planted(tmp_path: Path) -> None:
    path = write_customers(
        tmp_path / "p.txt", 50, seed=1, planted=True, with_ids=True, fmt="csv", chunk_rows=20
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "customer_id,minutes_watched,CLV,region,channel,planted_segment"
    assert len(lines) == 51
    assert lines[1].startswith("1,") and lines[-1].startswith("50,")


def test_unknown_suffix_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        write_customers(tmp_path / "customers.json", 10)
    assert not list(tmp_path.iterdir())


# --- command line ------------------------------------------------------------------------------


def test_cli_writes_file_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "seeds" / "demo_customers.parquet"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo.generate",
            "--rows",
            "500",
            "--seed",
            "7",
            "--out",
            str(out),
            "--planted",
            "--with-ids",
        ],
        capture_output=True,
        env=_ENV,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert str(out) in lines[0] and "rows=500" in lines[0] and "seconds=" in lines[0]
    assert pq.read_table(out).equals(generate_customers(500, 7, planted=True, with_ids=True))


def test_cli_rejects_bad_suffix(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo.generate", "--out", "x.json"],
        capture_output=True,
        env=_ENV,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "format" in result.stderr


# --- planted segments --------------------------------------------------------------------------


def test_planted_segments_are_tight_and_spread_apart() -> None:
    df = generate_customers(8000, seed=4, planted=True).to_pandas()
    assert df["minutes_watched"].notna().all()
    stats = df.groupby("planted_segment")[["CLV", "minutes_watched"]].agg(["min", "max", "mean"])
    for col in ("CLV", "minutes_watched"):
        rel_width = (stats[(col, "max")] - stats[(col, "min")]) / stats[(col, "mean")]
        assert (rel_width <= 0.12).all(), f"{col} ranges must be tight"
        means = np.sort(stats[(col, "mean")].to_numpy())
        assert np.all(np.diff(means) / means[1:] > 0.1), f"{col} segment means must be apart"


def test_planted_segments_recovered_by_kmeans() -> None:
    table = generate_customers(20_000, seed=7, planted=True)
    truth = table.column("planted_segment").to_numpy()
    region = table.column("region").to_numpy()
    channel = table.column("channel").to_numpy()

    pairs = {(int(s), int(r), int(c)) for s, r, c in zip(truth, region, channel, strict=True)}
    assert len(pairs) == 8, "each planted segment has exactly one (region, channel) pair"
    assert len({(r, c) for _, r, c in pairs}) == 8, "the pairs are distinct"

    features = np.column_stack(
        [
            np.nan_to_num(_minutes(table), nan=0.0),
            table.column("CLV").to_numpy(),
            *[(region == r).astype(float) for r in range(3)],
            *[(channel == c).astype(float) for c in range(1, 9)],
        ]
    )
    assert features.shape == (20_000, 13)
    scaled = (features - features.mean(axis=0)) / features.std(axis=0)  # population std
    labels = KMeans(n_clusters=8, n_init=10, random_state=0).fit_predict(scaled)
    assert adjusted_rand_score(truth, labels) >= 0.95


# --- existing seed file ------------------------------------------------------------------------


def test_demo_customers_seed_is_reproducible(tmp_path: Path) -> None:
    seed_file = REPO / "seeds" / "demo_customers.csv"
    regenerated = write_customers(tmp_path / "demo_customers.csv", DEMO_ROWS, seed=7)
    assert regenerated.read_bytes() == seed_file.read_bytes(), (
        "seeds/demo_customers.csv differs from the generator: run "
        "python -m demo.generate --rows 3834 --seed 7 "
        "--out seeds/demo_customers.csv"
    )


# --- demo transactions (RFM) -------------------------------------------------------------------

TRANSACTION_COLUMNS = ["customer_id", "purchase_date", "amount", "quantity"]
RFM_FEATURES = ["recency_days", "frequency", "monetary", "mean_unit_cost"]


@pytest.fixture(scope="module")
def purchases() -> tuple[pa.Table, pa.Table]:
    """The default demo purchases and their truth (1,200 customers, seed 11)."""
    return generate_transactions()


def rfm(transactions: pa.Table) -> pd.DataFrame:
    """Per-customer RFM aggregates, indexed by customer_id (sorted).

    recency_days: days from the customer's last purchase to the latest date in the data;
    frequency: purchase lines; monetary: sum of amount; mean_unit_cost: mean of amount/quantity.
    """
    df = transactions.to_pandas()
    df["purchase_date"] = pd.to_datetime(df["purchase_date"])
    df["unit_cost"] = df["amount"] / df["quantity"]
    by_customer = df.groupby("customer_id")
    return pd.DataFrame(
        {
            "recency_days": (
                df["purchase_date"].max() - by_customer["purchase_date"].max()
            ).dt.days,
            "frequency": by_customer.size(),
            "monetary": by_customer["amount"].sum(),
            "mean_unit_cost": by_customer["unit_cost"].mean(),
        }
    ).sort_index()


def planted_ari(transactions: pa.Table, truth: pa.Table) -> float:
    """ARI of k-means (k = 4) on the standardised RFM aggregates against the planted types."""
    features = rfm(transactions)
    types = truth.to_pandas().set_index("customer_id").loc[features.index, "planted_type"]
    scaled = StandardScaler().fit_transform(features[RFM_FEATURES].to_numpy())
    labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit_predict(scaled)
    return adjusted_rand_score(types, labels)


def test_transactions_are_deterministic() -> None:
    a, truth_a = generate_transactions(300, seed=5)
    b, truth_b = generate_transactions(300, seed=5)
    assert a.equals(b) and truth_a.equals(truth_b)
    c, _ = generate_transactions(300, seed=6)
    assert not a.equals(c)


def test_transactions_shape_and_domains(purchases: tuple[pa.Table, pa.Table]) -> None:
    transactions, truth = purchases
    assert transactions.schema.equals(transaction_schema())
    assert transactions.column_names == TRANSACTION_COLUMNS
    assert 8_000 <= transactions.num_rows <= 15_000

    ids = transactions.column("customer_id").to_numpy()
    assert set(np.unique(ids)) == set(range(1, 1201)), "every customer buys at least once"
    dates = transactions.column("purchase_date").to_numpy().astype("datetime64[D]")
    assert dates.max() == TRANSACTIONS_END_DATE
    assert dates.min() >= TRANSACTIONS_END_DATE - (HISTORY_DAYS - 1)
    order = np.lexsort((ids, dates))
    assert np.array_equal(order, np.arange(len(ids))), "sorted by purchase_date, customer_id"

    amount = transactions.column("amount").to_numpy()
    quantity = transactions.column("quantity").to_numpy()
    assert np.all(amount > 0)
    assert np.allclose(amount * 100, np.round(amount * 100), atol=1e-6), "2 decimals at most"
    assert np.all(quantity >= 1)
    assert quantity.max() > 3, "bargain hunters buy several at a time"

    assert truth.column_names == ["customer_id", "planted_type"]
    assert truth.column("customer_id").to_pylist() == list(range(1, 1201))
    counts = pd.Series(truth.column("planted_type").to_pylist()).value_counts()
    for kind in CUSTOMER_TYPES:
        assert counts[kind.name] == round(1200 * kind.weight)


def test_planted_types_look_like_their_names(purchases: tuple[pa.Table, pa.Table]) -> None:
    transactions, truth = purchases
    features = rfm(transactions)
    features["type"] = truth.to_pandas().set_index("customer_id")["planted_type"]
    median = features.groupby("type")[RFM_FEATURES].median()
    assert median["monetary"].idxmax() == "vip"
    assert median["frequency"].idxmax() == "vip"
    assert median["mean_unit_cost"].idxmin() == "loyal_bargain_hunter"
    assert median["recency_days"].idxmax() == "lapsed"
    assert median["monetary"].idxmin() == "new_one_off"
    new = features[features["type"] == "new_one_off"]
    assert new["frequency"].max() <= 2
    lapsed = features[features["type"] == "lapsed"]
    assert lapsed["recency_days"].min() > new["recency_days"].max()


def test_planted_types_recovered_by_kmeans(purchases: tuple[pa.Table, pa.Table]) -> None:
    assert planted_ari(*purchases) >= 0.97
    for seed in (0, 1, 2):
        assert planted_ari(*generate_transactions(seed=seed)) >= 0.95


def test_transactions_edge_sizes() -> None:
    empty, truth = generate_transactions(0)
    assert empty.num_rows == 0 and truth.num_rows == 0
    assert empty.schema.equals(transaction_schema())
    one, truth = generate_transactions(1, seed=3)
    assert set(one.column("customer_id").to_pylist()) == {1}
    assert truth.num_rows == 1
    with pytest.raises(ValueError, match="customers"):
        generate_transactions(-1)


def test_inject_bad_rows_spoils_one_field_per_row(purchases: tuple[pa.Table, pa.Table]) -> None:
    transactions = purchases[0].slice(0, 500)
    bad = inject_bad_rows(transactions, with_kind=True)
    assert bad.num_rows == 500 + len(BAD_TRANSACTION_KINDS)
    assert bad.column_names == [*TRANSACTION_COLUMNS, "bad_row_kind"]
    assert all(bad.schema.field(c).type == pa.string() for c in bad.column_names)
    kinds = bad.column("bad_row_kind").to_pylist()
    assert sorted(k for k in kinds if k) == sorted(BAD_TRANSACTION_KINDS)

    rows = bad.select(TRANSACTION_COLUMNS).to_pylist()
    good = [row for row, kind in zip(rows, kinds, strict=True) if kind is None]
    expected_good = (
        pa.table({c: pc.cast(transactions.column(c), pa.string()) for c in TRANSACTION_COLUMNS})
    ).to_pylist()
    assert good == expected_good, "good rows keep their order and values"

    spoiled_field = {
        "blank_customer_id": "customer_id",
        "non_integer_customer_id": "customer_id",
        "blank_amount": "amount",
        "non_numeric_amount": "amount",
        "negative_amount": "amount",
        "zero_quantity": "quantity",
        "non_integer_quantity": "quantity",
        "unparseable_date": "purchase_date",
        "future_date": "purchase_date",
    }
    latest = pc.max(transactions.column("purchase_date")).as_py()  # of the input, not the window
    for row, kind in zip(rows, kinds, strict=True):
        if kind is None:
            continue
        field = spoiled_field[kind]
        # Some good row agrees with the bad row on every other field.
        others = [c for c in TRANSACTION_COLUMNS if c != field]
        assert any(all(g[c] == row[c] for c in others) for g in expected_good), kind
        value = row[field]
        if kind.startswith("blank"):
            assert value == ""
        elif kind == "non_integer_customer_id":
            assert not value.isdigit()
        elif kind == "non_numeric_amount":
            with pytest.raises(ValueError):
                float(value)
        elif kind == "negative_amount":
            assert float(value) < 0
        elif kind == "zero_quantity":
            assert int(value) == 0
        elif kind == "non_integer_quantity":
            assert float(value) != int(float(value))
        elif kind == "unparseable_date":
            with pytest.raises(ValueError):
                date.fromisoformat(value)
        elif kind == "future_date":
            assert (date.fromisoformat(value) - latest).days == 30
    positions = [i for i, k in enumerate(kinds) if k]
    assert positions[-1] - positions[0] > 100, "bad rows are spread through the file"


def test_inject_bad_rows_options(purchases: tuple[pa.Table, pa.Table]) -> None:
    transactions = purchases[0].slice(0, 50)
    some = inject_bad_rows(transactions, ["zero_quantity", "zero_quantity"], seed=4)
    assert some.num_rows == 52 and some.column_names == TRANSACTION_COLUMNS
    assert some.column("quantity").to_pylist().count("0") == 2
    assert inject_bad_rows(transactions, seed=4).equals(inject_bad_rows(transactions, seed=4))
    with pytest.raises(ValueError, match="unknown"):
        inject_bad_rows(transactions, ["bogus"])
    with pytest.raises(ValueError, match="at least one row"):
        inject_bad_rows(transactions.slice(0, 0))


def test_demo_transactions_seed_is_reproducible(tmp_path: Path) -> None:
    seed_file = REPO / "seeds" / "demo_transactions.csv"
    regenerated = write_transactions(tmp_path / "demo_transactions.csv")
    assert regenerated.read_bytes() == seed_file.read_bytes(), (
        "seeds/demo_transactions.csv differs from the generator: run "
        "python -m demo.generate transactions "
        "--out seeds/demo_transactions.csv"
    )
    assert seed_file.stat().st_size < 600_000


def test_transactions_csv_roundtrip(tmp_path: Path, purchases: tuple[pa.Table, pa.Table]) -> None:
    path = write_transactions(tmp_path / "t.csv", truth_path=tmp_path / "truth.parquet")
    raw = path.read_bytes()
    assert raw.startswith(b"customer_id,purchase_date,amount,quantity\n")
    assert b"\r" not in raw and b'"' not in raw
    con = duckdb.connect()
    back = con.sql(
        f"select * from read_csv('{path.as_posix()}', header = true, columns = "
        "{'customer_id': 'bigint', 'purchase_date': 'date', 'amount': 'double', "
        "'quantity': 'bigint'})"
    ).to_arrow_table()
    transactions, truth = purchases
    for name in TRANSACTION_COLUMNS:
        assert back.column(name).to_pylist() == transactions.column(name).to_pylist(), name
    assert pq.read_table(tmp_path / "truth.parquet").equals(truth)
    text = con.sql(f"select amount from read_csv('{path.as_posix()}', all_varchar = true)")
    assert all(len(a.partition(".")[2]) <= 2 for (a,) in text.fetchall())


def test_cli_transactions(tmp_path: Path) -> None:
    out, truth = tmp_path / "out" / "t.csv", tmp_path / "truth.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo.generate",
            "transactions",
            "--out",
            str(out),
            "--truth",
            str(truth),
            "--customers",
            "200",
            "--seed",
            "3",
        ],
        capture_output=True,
        env=_ENV,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    transactions, planted = generate_transactions(200, seed=3)
    line = result.stdout.strip()
    assert str(out) in line and f"rows={transactions.num_rows}" in line and "seconds=" in line
    assert out.read_bytes() == write_transactions(tmp_path / "direct.csv", 200, 3).read_bytes()
    assert truth.read_text().splitlines()[0] == "customer_id,planted_type"
    assert len(truth.read_text().splitlines()) == planted.num_rows + 1


def test_cli_transactions_bad_rows_and_customers_word(tmp_path: Path) -> None:
    module = [sys.executable, "-m", "demo.generate"]
    bad = tmp_path / "bad.csv"
    run = subprocess.run(
        [*module, "transactions", "--out", str(bad), "--customers", "100", "--bad-rows"],
        capture_output=True,
        env=_ENV,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    good_rows = generate_transactions(100)[0].num_rows
    assert len(bad.read_text().splitlines()) == 1 + good_rows + len(BAD_TRANSACTION_KINDS)
    # The optional "customers" word runs the customers generator exactly as before.
    with_word, without = tmp_path / "a.csv", tmp_path / "b.csv"
    for args in (["customers", "--rows", "50", "--out", str(with_word)],
                 ["--rows", "50", "--out", str(without)]):  # fmt: skip
        run = subprocess.run([*module, *args], capture_output=True, env=_ENV, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
    assert with_word.read_bytes() == without.read_bytes()
    bad_suffix = subprocess.run(
        [*module, "transactions", "--out", "x.json"],
        capture_output=True,
        env=_ENV,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert bad_suffix.returncode == 2 and "format" in bad_suffix.stderr
