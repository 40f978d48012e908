"""Tests for the deterministic synthetic customer generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.demo_data import (
    CHANNEL_SHARES,
    DUPLICATE_SHARE,
    REGION_SHARES,
    _duplicate_rows,
    customer_schema,
    generate_customers,
    write_customers,
)

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
            "customer_segmentation.demo_data",
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
        [sys.executable, "-m", "customer_segmentation.demo_data", "--out", "x.json"],
        capture_output=True,
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
