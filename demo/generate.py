"""Deterministic synthetic customers for an online learning platform.

The generator produces the project's demo seed and large benchmark inputs. It copies no real
records: it only mimics the *shape* of the real ``minutes_watched,CLV,region,channel`` table from
a handful of published summary statistics (skewed watch time with ~2.8 % blanks, price-point
shaped customer lifetime value, region and acquisition-channel mix, ~1.1 % exact repeats at
the demo size).

Rows come from a mixture of latent customer *personas* (see :data:`PERSONAS`), each with its own
watch-time and CLV level and its own region/channel preferences, so clustering finds some
structure. Within a persona CLV and (log) minutes are mildly correlated.

With ``planted=True`` the generator instead draws from eight well-separated *planted segments*
(see :data:`PLANTED_SEGMENTS`), each with its own (region, channel) pair and tight CLV/minutes
ranges; the extra ``planted_segment`` column holds the truth so tests can check that clustering
recovers them.

Generation is chunked: chunk ``i`` is drawn from a ``PCG64`` generator seeded with child ``i`` of
``np.random.SeedSequence(seed)``, so the output depends only on ``(rows, seed, planted,
chunk_rows)`` and a file written chunk by chunk equals the in-memory table. Memory use is bounded
by one chunk (default :data:`CHUNK_ROWS` rows).

The module also makes demo *purchases* for recency / frequency / monetary segmentation:
:func:`generate_transactions` draws purchase lines (customer, date, amount, quantity) of four
planted customer types (:data:`CUSTOMER_TYPES`: VIP, loyal bargain hunters, lapsed, new
one-off) over the two years ending :data:`TRANSACTIONS_END_DATE`, and
:func:`inject_bad_rows` adds deliberately broken rows (:data:`BAD_TRANSACTION_KINDS`) for
tests of input handling.

Command line::

    python -m demo.generate [customers] --rows 3834 --seed 7 \\
        --out seeds/demo_customers.csv [--planted] [--with-ids]
    python -m demo.generate transactions \\
        --out seeds/demo_transactions.csv [--truth PATH] [--customers 1200] [--seed 11] \\
        [--bad-rows]
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = [
    "BAD_TRANSACTION_KINDS",
    "CHANNEL_SHARES",
    "CHUNK_ROWS",
    "CUSTOMER_TYPES",
    "DUPLICATE_SHARE",
    "HISTORY_DAYS",
    "PERSONAS",
    "PLANTED_SEGMENTS",
    "REGION_SHARES",
    "TRANSACTIONS_END_DATE",
    "CustomerType",
    "Persona",
    "PlantedSegment",
    "customer_schema",
    "generate_customers",
    "generate_transactions",
    "inject_bad_rows",
    "iter_customer_batches",
    "main",
    "transaction_schema",
    "write_customers",
    "write_transactions",
]

#: Rows generated per chunk; each chunk has its own spawned random stream.
CHUNK_ROWS = 1_000_000

#: Probability that a row (other than a chunk's first) is an exact copy of an earlier row of the
#: same chunk: different customers, identical values. Chance collisions (blank or small minutes
#: with price-point CLV) add to this, giving ~1.1 % exact repeats at 3,834 rows like the real
#: table (43 of 3,834); chance collisions grow with the row count (~8 % of rows at 500,000).
DUPLICATE_SHARE = 0.0085

#: Target share of each region code 0..2 (0 USA/Canada/UK/Australia, 1 Western Europe, 2 RoW).
REGION_SHARES: tuple[float, ...] = (0.36, 0.12, 0.52)

#: Target share of each channel code 1..8 (Google, Facebook, YouTube, LinkedIn, Twitter,
#: Instagram, Friend, Other), from the real counts out of 3,834 rows.
CHANNEL_SHARES: tuple[float, ...] = tuple(
    c / 3834 for c in (671, 306, 1094, 650, 58, 289, 478, 288)
)

#: Upper cap on watch time in minutes (one year of continuous watching).
MINUTES_CAP = 525_600.0

#: Upper cap on CLV in currency units.
CLV_CAP = 2_500.0

# fmt: off
#: Catalogue-like prices that some CLV values snap to (whole numbers and ``.99`` endings).
PRICE_POINTS: tuple[float, ...] = (
    29.0, 36.0, 49.99, 59.0, 79.0, 99.0, 119.0, 149.99, 179.99, 199.0, 240.0, 299.0, 399.0,
)
# fmt: on

# Shares of the CLV "shapes": exactly zero, snapped to a price point, ``x.99``, whole number;
# the remainder keeps two decimals.
_CLV_ZERO = 0.006
_CLV_PRICE_POINT = 0.22
_CLV_NINETY_NINE = 0.20
_CLV_WHOLE = 0.22

# Within-persona correlation between log minutes and log CLV.
_CLV_MINUTES_RHO = 0.15


@dataclass(frozen=True)
class Persona:
    """A latent customer type in the default (non-planted) mixture.

    Attributes
    ----------
    name : str
        Short label, for documentation only.
    weight : float
        Mixture weight (weights sum to 1).
    minutes_median, minutes_sigma : float
        Watch time is log-normal: median in minutes, sigma on the natural-log scale.
    clv_median, clv_sigma : float
        CLV is log-normal before price shaping: median in currency units, log-scale sigma.
    blank_prob : float
        Probability that ``minutes_watched`` is blank (never watched).
    region_tilt : tuple of float, length 3
        Relative preference for regions 0..2; rebalanced so the mixture hits
        :data:`REGION_SHARES`.
    channel_tilt : tuple of float, length 8
        Relative preference for channels 1..8; rebalanced so the mixture hits
        :data:`CHANNEL_SHARES`.
    """

    name: str
    weight: float
    minutes_median: float
    minutes_sigma: float
    clv_median: float
    clv_sigma: float
    blank_prob: float
    region_tilt: tuple[float, float, float]
    channel_tilt: tuple[float, float, float, float, float, float, float, float]


# fmt: off
#: The default persona mixture. Region tilt order: (anglo, W. Europe, RoW); channel tilt order:
#: (Google, Facebook, YouTube, LinkedIn, Twitter, Instagram, Friend, Other).
PERSONAS: tuple[Persona, ...] = (
    Persona("trial_dabbler", 0.14, 24.0, 1.30, 40.0, 0.45, 0.110,
            (0.7, 0.8, 1.4), (0.8, 2.0, 1.0, 0.4, 1.0, 2.0, 0.5, 1.5)),
    Persona("casual_browser", 0.18, 150.0, 1.10, 120.0, 0.45, 0.035,
            (0.9, 1.0, 1.1), (1.0, 1.3, 1.2, 0.7, 1.0, 1.3, 0.8, 1.0)),
    Persona("steady_subscriber", 0.22, 380.0, 0.95, 119.0, 0.20, 0.012,
            (1.0, 1.0, 1.0), (1.2, 0.9, 1.0, 1.0, 1.0, 0.9, 1.0, 1.0)),
    Persona("committed_annual", 0.16, 1100.0, 0.85, 150.0, 0.18, 0.008,
            (1.3, 1.2, 0.8), (1.3, 0.7, 0.9, 1.3, 1.0, 0.7, 1.0, 0.9)),
    Persona("power_learner", 0.08, 4000.0, 1.30, 165.0, 0.20, 0.004,
            (1.1, 1.0, 1.0), (1.0, 0.6, 1.5, 1.0, 1.5, 0.6, 0.8, 0.7)),
    Persona("career_switcher", 0.06, 1500.0, 1.00, 215.0, 0.25, 0.010,
            (1.6, 1.5, 0.5), (0.8, 0.4, 0.5, 3.5, 1.5, 0.4, 0.7, 0.8)),
    Persona("referred_friend", 0.07, 900.0, 1.10, 70.0, 0.35, 0.020,
            (1.0, 1.0, 1.0), (0.3, 0.5, 0.4, 0.5, 0.5, 0.5, 6.0, 0.8)),
    Persona("bargain_binger", 0.09, 2500.0, 1.10, 45.0, 0.40, 0.020,
            (0.4, 0.6, 1.6), (0.5, 0.7, 3.0, 0.3, 1.0, 1.0, 0.6, 1.0)),
)
# fmt: on


@dataclass(frozen=True)
class PlantedSegment:
    """A well-separated segment used with ``planted=True``.

    Attributes
    ----------
    region : int
        Region code 0..2 shared by every row of the segment.
    channel : int
        Channel code 1..8; distinct per segment, so every (region, channel) pair is distinct.
    clv_center : float
        Segment CLV centre in currency units; rows vary by +/- ``spread`` relative.
    minutes_center : float
        Segment watch-time centre in minutes; rows vary by +/- ``spread`` relative.
    """

    region: int
    channel: int
    clv_center: float
    minutes_center: float


#: Relative half-width of the uniform CLV/minutes ranges of planted segments.
PLANTED_SPREAD = 0.05

#: Eight planted segments with distinct (region, channel) pairs and spread-out centres.
PLANTED_SEGMENTS: tuple[PlantedSegment, ...] = (
    PlantedSegment(2, 3, 25.0, 6000.0),
    PlantedSegment(0, 1, 60.0, 150.0),
    PlantedSegment(2, 2, 95.0, 2400.0),
    PlantedSegment(1, 4, 130.0, 600.0),
    PlantedSegment(0, 7, 165.0, 4200.0),
    PlantedSegment(2, 6, 200.0, 1200.0),
    PlantedSegment(0, 5, 240.0, 300.0),
    PlantedSegment(1, 8, 290.0, 3000.0),
)


def customer_schema(*, planted: bool = False, with_ids: bool = False) -> pa.Schema:
    """Arrow schema of the generated table.

    Parameters
    ----------
    planted : bool
        Append the ``planted_segment`` (int64, 0..7) column.
    with_ids : bool
        Prepend the ``customer_id`` (int64, 1..rows) column.

    Returns
    -------
    pyarrow.Schema
        ``[customer_id], minutes_watched (float64, nullable), CLV (float64), region (int64),
        channel (int64), [planted_segment]``.
    """
    fields = []
    if with_ids:
        fields.append(pa.field("customer_id", pa.int64(), nullable=False))
    fields += [
        pa.field("minutes_watched", pa.float64(), nullable=True),
        pa.field("CLV", pa.float64(), nullable=False),
        pa.field("region", pa.int64(), nullable=False),
        pa.field("channel", pa.int64(), nullable=False),
    ]
    if planted:
        fields.append(pa.field("planted_segment", pa.int64(), nullable=False))
    return pa.schema(fields)


def _balance(
    weights: np.ndarray, tilts: np.ndarray, marginal: np.ndarray, iterations: int = 2000
) -> np.ndarray:
    """Per-persona category probabilities that respect tilts and hit a target marginal.

    Sinkhorn scaling of the joint matrix ``weights[k] * marginal[c] * tilts[k, c]`` to row sums
    ``weights`` and column sums ``marginal``.

    Parameters
    ----------
    weights : ndarray, shape (K,)
        Persona weights, summing to 1.
    tilts : ndarray, shape (K, C)
        Positive relative preferences.
    marginal : ndarray, shape (C,)
        Target overall category shares, summing to 1.

    Returns
    -------
    ndarray, shape (K, C)
        Row-stochastic matrix ``P`` with ``weights @ P == marginal`` (to ~1e-12).
    """
    joint = weights[:, None] * marginal[None, :] * tilts
    for _ in range(iterations):
        joint *= (weights / joint.sum(axis=1))[:, None]
        joint *= (marginal / joint.sum(axis=0))[None, :]
        if np.allclose(joint.sum(axis=1), weights, rtol=0, atol=1e-13):
            break
    return joint / joint.sum(axis=1, keepdims=True)


@functools.cache
def _persona_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cached ``(weights (K,), region CDFs (K, 3), channel CDFs (K, 8))`` of :data:`PERSONAS`."""
    weights = np.array([p.weight for p in PERSONAS])
    weights = weights / weights.sum()
    region_p = _balance(
        weights, np.array([p.region_tilt for p in PERSONAS]), np.array(REGION_SHARES)
    )
    channel_shares = np.array(CHANNEL_SHARES)
    channel_p = _balance(
        weights,
        np.array([p.channel_tilt for p in PERSONAS]),
        channel_shares / channel_shares.sum(),
    )
    return weights, np.cumsum(region_p, axis=1), np.cumsum(channel_p, axis=1)


def _draw_category(u: np.ndarray, group: np.ndarray, cdfs: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of a category index 0..C-1 per row, using the CDF row of its group."""
    out = np.empty(u.shape[0], dtype=np.int64)
    for k in range(cdfs.shape[0]):
        mask = group == k
        cdf = cdfs[k].copy()
        cdf[-1] = np.inf  # guard against round-off in the last cumulative sum
        out[mask] = np.searchsorted(cdf, u[mask], side="right")
    return out


def _shape_clv(value: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Turn continuous CLV draws into money values with price-like endings.

    Parameters
    ----------
    value : ndarray of float64, shape (n,)
        Positive continuous CLV draws in currency units.
    u : ndarray of float64, shape (n,)
        Uniform(0, 1) draws choosing the shape of each value.

    Returns
    -------
    ndarray of float64, shape (n,)
        Values >= 0 with at most 2 decimals: some exactly 0, some snapped to
        :data:`PRICE_POINTS`, some ending in ``.99``, some whole, the rest rounded to cents.
    """
    prices = np.array(PRICE_POINTS)
    mids = (prices[1:] + prices[:-1]) / 2
    nearest_price = prices[np.searchsorted(mids, value)]
    floor = np.floor(value)
    ninety_nine = np.where(floor >= 1, floor - 0.01, np.round(value, 2))
    edges = np.cumsum([_CLV_ZERO, _CLV_PRICE_POINT, _CLV_NINETY_NINE, _CLV_WHOLE])
    shape = np.searchsorted(edges, u, side="right")
    out = np.select(
        [shape == 0, shape == 1, shape == 2, shape == 3],
        [np.zeros_like(value), nearest_price, ninety_nine, np.round(value)],
        default=np.round(value, 2),
    )
    return np.round(out, 2)


def _persona_chunk(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``n`` rows from the persona mixture (before duplication). Arrays of shape (n,)."""
    weights, region_cdf, channel_cdf = _persona_tables()
    persona = np.searchsorted(np.cumsum(weights)[:-1], rng.random(n), side="right")
    region = _draw_category(rng.random(n), persona, region_cdf)
    channel = _draw_category(rng.random(n), persona, channel_cdf) + 1

    z_minutes = rng.standard_normal(n)
    z_clv = _CLV_MINUTES_RHO * z_minutes + np.sqrt(1 - _CLV_MINUTES_RHO**2) * rng.standard_normal(n)
    blank_u = rng.random(n)
    shape_u = rng.random(n)

    def param(attr: str) -> np.ndarray:
        return np.array([getattr(p, attr) for p in PERSONAS])[persona]

    minutes = np.round(param("minutes_median") * np.exp(param("minutes_sigma") * z_minutes))
    minutes = np.minimum(minutes, MINUTES_CAP)
    minutes[blank_u < param("blank_prob")] = np.nan
    clv = np.minimum(param("clv_median") * np.exp(param("clv_sigma") * z_clv), CLV_CAP)
    return {
        "minutes_watched": minutes,
        "CLV": _shape_clv(clv, shape_u),
        "region": region,
        "channel": channel,
    }


def _planted_chunk(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``n`` rows from the planted segments (before duplication). Arrays of shape (n,)."""
    segs = PLANTED_SEGMENTS
    segment = rng.integers(0, len(segs), size=n, dtype=np.int64)
    region = np.array([s.region for s in segs], dtype=np.int64)[segment]
    channel = np.array([s.channel for s in segs], dtype=np.int64)[segment]
    clv_c = np.array([s.clv_center for s in segs])[segment]
    min_c = np.array([s.minutes_center for s in segs])[segment]
    clv = np.round(clv_c * (1 + rng.uniform(-PLANTED_SPREAD, PLANTED_SPREAD, n)), 2)
    minutes = np.round(min_c * (1 + rng.uniform(-PLANTED_SPREAD, PLANTED_SPREAD, n)))
    return {
        "minutes_watched": minutes,
        "CLV": clv,
        "region": region,
        "channel": channel,
        "planted_segment": segment,
    }


def _duplicate_rows(cols: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Overwrite ~:data:`DUPLICATE_SHARE` of rows (never row 0) with copies of earlier rows.

    Modifies ``cols`` in place; every array has the same length ``n``.
    """
    n = len(next(iter(cols.values())))
    if n < 2:
        return
    idx = np.arange(n)
    is_copy = rng.random(n) < DUPLICATE_SHARE
    is_copy[0] = False
    source = idx.copy()
    source[is_copy] = np.floor(rng.random(int(is_copy.sum())) * idx[is_copy]).astype(np.int64)
    while True:  # follow copy-of-copy chains to an original row (source < row, so this ends)
        nxt = source[source]
        if np.array_equal(nxt, source):
            break
        source = nxt
    for name, arr in cols.items():
        cols[name] = arr[source]


def _chunk_batch(
    n: int, rng: np.random.Generator, first_id: int, *, planted: bool, with_ids: bool
) -> pa.RecordBatch:
    cols = _planted_chunk(n, rng) if planted else _persona_chunk(n, rng)
    _duplicate_rows(cols, rng)
    arrays: dict[str, pa.Array] = {}
    if with_ids:
        arrays["customer_id"] = pa.array(np.arange(first_id, first_id + n, dtype=np.int64))
    minutes = cols.pop("minutes_watched")
    arrays["minutes_watched"] = pa.array(minutes, type=pa.float64(), mask=np.isnan(minutes))
    for name, arr in cols.items():
        arrays[name] = pa.array(arr)
    schema = customer_schema(planted=planted, with_ids=with_ids)
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)


def iter_customer_batches(
    rows: int,
    seed: int = 7,
    *,
    planted: bool = False,
    with_ids: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Yield the synthetic customers chunk by chunk.

    Parameters
    ----------
    rows : int
        Total number of rows (>= 0).
    seed : int
        Root seed; chunk ``i`` uses ``PCG64(np.random.SeedSequence(seed).spawn(k)[i])``.
    planted, with_ids : bool
        See :func:`generate_customers`.
    chunk_rows : int
        Rows per chunk (> 0); the last chunk may be shorter. Part of the output's identity:
        the same ``(rows, seed, planted, chunk_rows)`` always gives the same rows.

    Yields
    ------
    pyarrow.RecordBatch
        ``min(chunk_rows, remaining)`` rows each, schema :func:`customer_schema`.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if chunk_rows <= 0:
        raise ValueError(f"chunk_rows must be > 0, got {chunk_rows}")
    n_chunks = -(-rows // chunk_rows)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    for i, child in enumerate(children):
        start = i * chunk_rows
        n = min(chunk_rows, rows - start)
        rng = np.random.Generator(np.random.PCG64(child))
        yield _chunk_batch(n, rng, start + 1, planted=planted, with_ids=with_ids)


def generate_customers(
    rows: int,
    seed: int = 7,
    *,
    planted: bool = False,
    with_ids: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> pa.Table:
    """Generate synthetic customers in memory.

    Parameters
    ----------
    rows : int
        Number of rows (>= 0).
    seed : int
        Root seed; same ``(rows, seed, planted, chunk_rows)`` gives an identical table.
    planted : bool
        Draw from :data:`PLANTED_SEGMENTS` instead of the persona mixture and add the
        ``planted_segment`` truth column.
    with_ids : bool
        Add ``customer_id`` = 1..rows as the first column.
    chunk_rows : int
        Rows per independently seeded chunk (see :func:`iter_customer_batches`).

    Returns
    -------
    pyarrow.Table
        ``rows`` rows with columns, in order:

        - ``customer_id`` : int64, 1..rows (only if ``with_ids``)
        - ``minutes_watched`` : float64 minutes, integral values, null = never watched
        - ``CLV`` : float64 customer lifetime value in currency units, >= 0, 2 decimals
        - ``region`` : int64 in 0..2
        - ``channel`` : int64 in 1..8
        - ``planted_segment`` : int64 in 0..7 (only if ``planted``)
    """
    schema = customer_schema(planted=planted, with_ids=with_ids)
    batches = list(
        iter_customer_batches(rows, seed, planted=planted, with_ids=with_ids, chunk_rows=chunk_rows)
    )
    return pa.Table.from_batches(batches, schema=schema)


def _infer_format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        suffix = path.suffix.lower()
        fmt = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix)
        if fmt is None:
            raise ValueError(f"cannot infer format from suffix {suffix!r}; pass fmt=")
    fmt = fmt.lower()
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    return fmt


def _csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Minutes as nullable int64 so CSV shows ``480`` rather than ``480.0``."""
    i = batch.schema.get_field_index("minutes_watched")
    return batch.set_column(
        i, pa.field("minutes_watched", pa.int64()), pc.cast(batch.column(i), pa.int64())
    )


def write_customers(
    path: str | Path,
    rows: int,
    seed: int = 7,
    *,
    planted: bool = False,
    with_ids: bool = False,
    fmt: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Path:
    """Write synthetic customers to CSV or Parquet, one chunk at a time.

    Parameters
    ----------
    path : str or Path
        Output file; parent directories are created. Written via a temporary sibling file and
        renamed into place when complete.
    rows, seed, planted, with_ids, chunk_rows
        As for :func:`generate_customers`; the file holds exactly that table.
    fmt : {'csv', 'parquet'}, optional
        Defaults to the suffix of ``path`` (``.csv``, ``.parquet`` or ``.pq``).

    Returns
    -------
    Path
        The written path.

    Notes
    -----
    CSV: header ``[customer_id,]minutes_watched,CLV,region,channel[,planted_segment]``, LF line
    endings, no quoting, blank field for missing minutes, minutes as integers, CLV in shortest
    form with at most 2 decimals (``119``, ``62.5``, ``149.99``). Parquet keeps the Arrow types
    of :func:`customer_schema` (zstd compressed, one row group per chunk).
    """
    path = Path(path)
    fmt = _infer_format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = customer_schema(planted=planted, with_ids=with_ids)
    batches = iter_customer_batches(
        rows, seed, planted=planted, with_ids=with_ids, chunk_rows=chunk_rows
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                for batch in batches:
                    writer.write_batch(batch, row_group_size=max(len(batch), 1))
        else:
            with open(tmp, "wb") as fh:
                fh.write((",".join(schema.names) + "\n").encode())
                options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
                csv_schema = schema.set(
                    schema.get_field_index("minutes_watched"),
                    pa.field("minutes_watched", pa.int64()),
                )
                with pa_csv.CSVWriter(fh, csv_schema, write_options=options) as writer:
                    for batch in batches:
                        writer.write_batch(_csv_batch(batch))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# --- demo purchases for recency / frequency / monetary segmentation -------------------------

#: Last day of the demo purchase history: recency is counted back from here.
TRANSACTIONS_END_DATE = np.datetime64("2026-06-30", "D")

#: Days of purchase history: 2024-07-01 .. 2026-06-30 (first purchases are at most
#: ``HISTORY_DAYS - 1`` days before :data:`TRANSACTIONS_END_DATE`).
HISTORY_DAYS = 730


@dataclass(frozen=True)
class CustomerType:
    """A planted customer type of the demo purchases (see :data:`CUSTOMER_TYPES`).

    Every draw is uniform over an inclusive integer range unless stated otherwise.

    Attributes
    ----------
    name : str
        The truth label (``planted_type``).
    weight : float
        Share of customers (the shares of :data:`CUSTOMER_TYPES` sum to 1).
    purchases : (int, int)
        Range of the number of purchase lines per customer (the frequency).
    recency_days : (int, int)
        Range of days from the customer's last purchase to :data:`TRANSACTIONS_END_DATE`.
    tenure_days : (int, int)
        Range of days from the customer's first purchase to :data:`TRANSACTIONS_END_DATE`;
        raised to the recency where it would fall short, and equal to it for a single purchase.
        The purchases in between fall on uniformly drawn days between the two.
    unit_cost_median : float
        Median across customers of a customer's typical unit price, in currency units; the
        typical price is log-normal with log-scale sigma ``unit_cost_sigma``.
    unit_cost_sigma : float
        Log-scale sigma of the typical unit price across customers of the type.
    line_sigma : float
        Log-scale sigma of a line's unit price around the customer's typical price.
    extra_quantity : float
        A line's quantity is ``1 + Poisson(extra_quantity)``.
    """

    name: str
    weight: float
    purchases: tuple[int, int]
    recency_days: tuple[int, int]
    tenure_days: tuple[int, int]
    unit_cost_median: float
    unit_cost_sigma: float
    line_sigma: float
    extra_quantity: float


# fmt: off
#: The four planted types, with what the defaults give. VIP: recent, frequent, expensive items
#: (median spend ~3,300). Loyal bargain hunters: recent and frequent, but cheap items bought
#: several at a time (median spend ~500, unit cost ~9). Lapsed (at risk): bought moderately for
#: a while, nothing for the last 200-500 days. New one-off: one or two purchases in the last
#: two months, median spend ~50.
CUSTOMER_TYPES: tuple[CustomerType, ...] = (
    CustomerType("vip", 0.15, (16, 36), (0, 30), (540, 729), 80.0, 0.20, 0.10, 0.6),
    CustomerType("loyal_bargain_hunter", 0.30, (9, 24), (0, 40), (420, 729), 9.0, 0.25, 0.15,
                 2.5),
    CustomerType("lapsed", 0.25, (3, 10), (200, 500), (560, 729), 30.0, 0.25, 0.15, 0.5),
    CustomerType("new_one_off", 0.30, (1, 2), (0, 60), (0, 80), 28.0, 0.30, 0.10, 0.2),
)
# fmt: on

#: Kinds of deliberately bad rows made by :func:`inject_bad_rows`, each with what is wrong.
#: Every bad row is a copy of a good row with exactly one field spoiled.
BAD_TRANSACTION_KINDS: dict[str, str] = {
    "blank_customer_id": "customer_id is empty",
    "non_integer_customer_id": "customer_id is not an integer ('C' + the id, e.g. 'C1042')",
    "blank_amount": "amount is empty",
    "non_numeric_amount": "amount is not a number ('n/a')",
    "negative_amount": "amount below zero (the line's amount negated; a refund is not a sale)",
    "zero_quantity": "quantity is 0, so the unit cost amount / quantity is undefined",
    "non_integer_quantity": "quantity is not a whole number ('1.5')",
    "unparseable_date": "purchase_date is not a calendar date ('2025-02-30')",
    "future_date": (
        "purchase_date 30 days after the latest date of the input: a valid date, but a "
        "pipeline that measures recency from the latest purchase would shift every customer"
    ),
}


def transaction_schema() -> pa.Schema:
    """Arrow schema of :func:`generate_transactions`' transactions.

    Returns
    -------
    pyarrow.Schema
        ``customer_id`` (int64), ``purchase_date`` (date32), ``amount`` (float64, currency
        units, 2 decimals), ``quantity`` (int64, >= 1); none nullable.
    """
    return pa.schema(
        [
            pa.field("customer_id", pa.int64(), nullable=False),
            pa.field("purchase_date", pa.date32(), nullable=False),
            pa.field("amount", pa.float64(), nullable=False),
            pa.field("quantity", pa.int64(), nullable=False),
        ]
    )


def _type_counts(customers: int, weights: np.ndarray) -> np.ndarray:
    """Customers per type (K,), summing to ``customers``: largest remainders of the shares."""
    exact = customers * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: customers - counts.sum()]] += 1
    return counts


def generate_transactions(customers: int = 1200, seed: int = 11) -> tuple[pa.Table, pa.Table]:
    """Demo purchase lines with four planted customer types, for RFM segmentation.

    Customer types (:data:`CUSTOMER_TYPES`) are shuffled over ids ``1..customers`` in exact
    proportions (largest remainders). Per customer the generator draws a number of purchases,
    the days before :data:`TRANSACTIONS_END_DATE` of the last and first purchase, and a
    typical unit price; per line, a unit price around the typical one (rounded to cents) and a
    quantity. With the defaults this gives 13,164 lines; k-means with k = 4 on the
    standardised per-customer recency, frequency, monetary value and mean unit cost recovers
    the planted types (adjusted Rand index 0.996; at least 0.99 for seeds 0..19).

    Parameters
    ----------
    customers : int
        Number of customers (>= 0); every customer has at least one purchase.
    seed : int
        Seed of the ``PCG64`` generator; the same ``(customers, seed)`` always gives the same
        tables.

    Returns
    -------
    transactions : pyarrow.Table
        One row per purchase line, schema :func:`transaction_schema`, sorted by
        ``purchase_date`` then ``customer_id`` (lines of one customer on one day keep their
        generation order):

        - ``customer_id`` : int64 in 1..customers
        - ``purchase_date`` : date32, within the :data:`HISTORY_DAYS` days ending
          :data:`TRANSACTIONS_END_DATE`
        - ``amount`` : float64, total paid for the line in currency units, > 0, 2 decimals
        - ``quantity`` : int64 >= 1 (unit cost = amount / quantity)
    truth : pyarrow.Table
        One row per customer, sorted by id: ``customer_id`` (int64) and ``planted_type``
        (string, a :attr:`CustomerType.name`).
    """
    if customers < 0:
        raise ValueError(f"customers must be >= 0, got {customers}")
    rng = np.random.Generator(np.random.PCG64(seed))
    types = CUSTOMER_TYPES

    def param(values: list, kind: np.ndarray) -> np.ndarray:
        return np.asarray(values)[kind]

    counts = _type_counts(customers, np.array([t.weight for t in types]))
    kind = rng.permutation(np.repeat(np.arange(len(types)), counts))

    low, high = np.array([t.purchases for t in types]).T
    frequency = rng.integers(param(low, kind), param(high, kind) + 1)
    low, high = np.array([t.recency_days for t in types]).T
    recency = rng.integers(param(low, kind), param(high, kind) + 1)
    low, high = np.array([t.tenure_days for t in types]).T
    tenure = np.maximum(rng.integers(param(low, kind), param(high, kind) + 1), recency)
    tenure = np.where(frequency == 1, recency, tenure)
    typical_price = param([t.unit_cost_median for t in types], kind) * np.exp(
        param([t.unit_cost_sigma for t in types], kind) * rng.standard_normal(customers)
    )

    # One entry per line: its customer (index) and its position among the customer's lines.
    owner = np.repeat(np.arange(customers), frequency)
    position = np.arange(owner.size) - np.repeat(np.cumsum(frequency) - frequency, frequency)
    lines = owner.size
    days_before_end = recency[owner] + np.floor(
        rng.random(lines) * (tenure[owner] - recency[owner] + 1)
    ).astype(np.int64)
    days_before_end[position == 0] = tenure[owner[position == 0]]
    is_last = position == frequency[owner] - 1
    days_before_end[is_last] = recency[owner[is_last]]

    line_kind = kind[owner]
    unit_price = typical_price[owner] * np.exp(
        param([t.line_sigma for t in types], line_kind) * rng.standard_normal(lines)
    )
    unit_price = np.maximum(np.round(unit_price, 2), 0.5)
    quantity = 1 + rng.poisson(param([t.extra_quantity for t in types], line_kind))
    amount = np.round(unit_price * quantity, 2)

    customer_id = owner + 1
    purchase_date = TRANSACTIONS_END_DATE - days_before_end
    order = np.lexsort((np.arange(lines), customer_id, purchase_date))
    transactions = pa.table(
        [
            pa.array(customer_id[order], pa.int64()),
            pa.array(purchase_date[order], pa.date32()),
            pa.array(amount[order], pa.float64()),
            pa.array(quantity[order], pa.int64()),
        ],
        schema=transaction_schema(),
    )
    truth = pa.table(
        {
            "customer_id": pa.array(np.arange(1, customers + 1), pa.int64()),
            "planted_type": pa.array([types[k].name for k in kind], pa.string()),
        }
    )
    return transactions, truth


def _as_text(table: pa.Table) -> pa.Table:
    """Every column cast to string, written as in the CSV files (``119`` for 119.0)."""
    return pa.table({name: pc.cast(table.column(name), pa.string()) for name in table.column_names})


def inject_bad_rows(
    transactions: pa.Table,
    kinds: Sequence[str] | None = None,
    *,
    seed: int = 0,
    with_kind: bool = False,
) -> pa.Table:
    """A copy of ``transactions`` as text with one deliberately bad row per kind inserted.

    Each bad row copies a randomly chosen good row and spoils one field as described in
    :data:`BAD_TRANSACTION_KINDS`; it is inserted at a random position, so bad rows are spread
    through the file rather than appended. The good rows keep their order and values.

    Parameters
    ----------
    transactions : pyarrow.Table
        As returned by :func:`generate_transactions` (at least one row).
    kinds : sequence of str, optional
        Keys of :data:`BAD_TRANSACTION_KINDS`, in the order to draw them; default all of them.
    seed : int
        Seed choosing the copied rows and the insert positions.
    with_kind : bool
        Append a ``bad_row_kind`` column: the kind for a bad row, null for a good one.

    Returns
    -------
    pyarrow.Table
        ``transactions.num_rows + len(kinds)`` rows; the four transaction columns as strings
        (ISO dates, amounts in shortest form, empty string for a blank field), plus
        ``bad_row_kind`` if ``with_kind``.
    """
    kinds = list(BAD_TRANSACTION_KINDS) if kinds is None else list(kinds)
    unknown = [k for k in kinds if k not in BAD_TRANSACTION_KINDS]
    if unknown:
        raise ValueError(f"unknown bad row kinds {unknown}; known: {list(BAD_TRANSACTION_KINDS)}")
    if transactions.num_rows == 0:
        raise ValueError("transactions must have at least one row to copy")
    rng = np.random.Generator(np.random.PCG64(seed))
    text = _as_text(transactions.select(transaction_schema().names)).to_pydict()
    latest = pc.max(transactions.column("purchase_date")).as_py()
    future = str(np.datetime64(latest, "D") + 30)
    spoil = {
        "blank_customer_id": ("customer_id", lambda v: ""),
        "non_integer_customer_id": ("customer_id", lambda v: f"C{v}"),
        "blank_amount": ("amount", lambda v: ""),
        "non_numeric_amount": ("amount", lambda v: "n/a"),
        "negative_amount": ("amount", lambda v: f"-{v}"),
        "zero_quantity": ("quantity", lambda v: "0"),
        "non_integer_quantity": ("quantity", lambda v: "1.5"),
        "unparseable_date": ("purchase_date", lambda v: "2025-02-30"),
        "future_date": ("purchase_date", lambda v: future),
    }
    good_rows = transactions.num_rows
    sources = rng.integers(0, good_rows, size=len(kinds))
    # Final positions of the bad rows in the output, distinct and sorted.
    positions = np.sort(rng.choice(good_rows + len(kinds), size=len(kinds), replace=False))
    bad_at = dict(zip(positions.tolist(), zip(kinds, sources.tolist(), strict=True), strict=True))
    columns: dict[str, list] = {name: [] for name in text}
    column_kind: list[str | None] = []
    next_good = 0
    for row in range(good_rows + len(kinds)):
        if row in bad_at:
            kind, source = bad_at[row]
            field, change = spoil[kind]
            for name in text:
                value = text[name][source]
                columns[name].append(change(value) if name == field else value)
            column_kind.append(kind)
        else:
            for name in text:
                columns[name].append(text[name][next_good])
            column_kind.append(None)
            next_good += 1
    if with_kind:
        columns["bad_row_kind"] = column_kind
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def _write_table(path: Path, table: pa.Table, fmt: str) -> Path:
    """Write ``table`` to CSV (LF, no quoting, plain header) or Parquet via a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "parquet":
            pq.write_table(table, tmp, compression="zstd")
        else:
            with open(tmp, "wb") as fh:
                fh.write((",".join(table.column_names) + "\n").encode())
                options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
                pa_csv.write_csv(table, fh, write_options=options)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_transactions(
    path: str | Path,
    customers: int = 1200,
    seed: int = 11,
    *,
    truth_path: str | Path | None = None,
    bad_rows: bool = False,
    fmt: str | None = None,
) -> Path:
    """Write :func:`generate_transactions`' purchases (and optionally the truth) to a file.

    Parameters
    ----------
    path : str or Path
        Output file; parent directories are created; written via a temporary sibling file.
    customers, seed
        As for :func:`generate_transactions`.
    truth_path : str or Path, optional
        Also write the truth table (``customer_id,planted_type``) here, format by suffix.
    bad_rows : bool
        Insert one bad row of every kind (:func:`inject_bad_rows`, seed 0); every column is
        then text.
    fmt : {'csv', 'parquet'}, optional
        Defaults to the suffix of ``path``.

    Returns
    -------
    Path
        The written transactions path.

    Notes
    -----
    CSV: header ``customer_id,purchase_date,amount,quantity``, LF line endings, no quoting,
    ISO dates, amounts in shortest form with at most 2 decimals (``119``, ``12.5``, ``8.99``).
    """
    path = Path(path)
    fmt = _infer_format(path, fmt)
    truth_path = None if truth_path is None else Path(truth_path)
    truth_fmt = None if truth_path is None else _infer_format(truth_path, None)
    transactions, truth = generate_transactions(customers, seed)
    if bad_rows:
        transactions = inject_bad_rows(transactions)
    _write_table(path, transactions, fmt)
    if truth_path is not None:
        _write_table(truth_path, truth, truth_fmt)
    return path


def _transactions_main(argv: Sequence[str]) -> int:
    """``transactions`` subcommand; prints ``<path> rows=<n> customers=<m> seconds=<s>``."""
    parser = argparse.ArgumentParser(
        prog="python -m demo.generate transactions",
        description="Write deterministic demo purchases with four planted RFM customer types.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output .csv or .parquet path")
    parser.add_argument("--truth", type=Path, default=None, help="also write the planted types")
    parser.add_argument("--customers", type=int, default=1200, help="customers (default 1200)")
    parser.add_argument("--seed", type=int, default=11, help="random seed (default 11)")
    parser.add_argument(
        "--bad-rows", action="store_true", help="insert one bad row of every kind (all text)"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default=None,
        dest="fmt",
        help="override the format inferred from the --out suffix",
    )
    args = parser.parse_args(argv)
    if args.customers < 0:
        parser.error("--customers must be >= 0")
    start = time.perf_counter()
    try:
        path = write_transactions(
            args.out,
            args.customers,
            args.seed,
            truth_path=args.truth,
            bad_rows=args.bad_rows,
            fmt=args.fmt,
        )
    except ValueError as exc:
        parser.error(str(exc))
    rows = generate_transactions(args.customers, args.seed)[0].num_rows
    rows += len(BAD_TRANSACTION_KINDS) if args.bad_rows else 0
    seconds = time.perf_counter() - start
    print(f"{path} rows={rows} customers={args.customers} seconds={seconds:.3f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints ``<path> rows=<n> ... seconds=<s>``.

    ``[customers] --out PATH [--rows N --seed S ...]`` writes customers (the word
    ``customers`` is optional, so older command lines keep working); ``transactions --out PATH
    [--truth PATH ...]`` writes the demo purchases (see :func:`write_transactions`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["transactions"]:
        return _transactions_main(args[1:])
    if args[:1] == ["customers"]:
        args = args[1:]
    parser = argparse.ArgumentParser(
        prog="python -m demo.generate [customers]",
        description="Write deterministic synthetic learning-platform customers (CSV or Parquet).",
        epilog="Demo purchases: python -m demo.generate transactions --help",
    )
    parser.add_argument("--rows", type=int, default=3834, help="number of rows (default 3834)")
    parser.add_argument("--seed", type=int, default=7, help="root random seed (default 7)")
    parser.add_argument("--out", required=True, type=Path, help="output .csv or .parquet path")
    parser.add_argument("--planted", action="store_true", help="planted segments + truth column")
    parser.add_argument("--with-ids", action="store_true", help="add customer_id first column")
    parser.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default=None,
        dest="fmt",
        help="override the format inferred from the --out suffix",
    )
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help=argparse.SUPPRESS)
    args = parser.parse_args(args)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    start = time.perf_counter()
    try:
        path = write_customers(
            args.out,
            args.rows,
            args.seed,
            planted=args.planted,
            with_ids=args.with_ids,
            fmt=args.fmt,
            chunk_rows=args.chunk_rows,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{path} rows={args.rows} seconds={time.perf_counter() - start:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
