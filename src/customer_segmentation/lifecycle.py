"""Segment lifecycle: an id keeps its meaning forever, whatever k does.

A new fit's segments are paired with the previous run's (Hungarian method) and a pair only
continues the old id when the two are really the same segment:

- **on shared customers** (the previous run's assignments are known and some customers are
  in both runs): the pairing maximises the customers the pairs share, and a pair continues
  when *more than half* of the new segment's returning customers were in the old segment;
- **on centroids** (no previous assignments, e.g. the first run after an upgrade): the
  pairing minimises squared centroid distances (today's z units), and a pair continues when
  the old centroid is the nearest old centroid to the new one.

Customer overlap is preferred because it is what a BI user means by "the same segment" (the
same people), it does not depend on the scale of the z units, and it separates a split from
a drift: a split's two halves both sit near the old centroid, but only one of them can hold
most of the old segment's customers. Every other new segment gets an id never used before
(the previous run's highest issued id + 1, + 2, ... in canonical order): ``split`` when its
main source (most shared customers, or the nearest old centroid) continues in another
segment, ``born`` otherwise. Old ids that no segment continues are retired and never
reused, because new ids only ever count up from the highest one issued.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.optimize import linear_sum_assignment

from customer_segmentation.clustering import match_to_previous

#: A pair continues on shared customers when more than this share of the new segment's
#: returning customers were in the old segment.
MIN_SHARED_SHARE = 0.5

#: Columns of an overlap table (:meth:`Engine.overlap`): customers in both runs per new
#: segment (0-based position in the new fit's order) and previous segment id.
OVERLAP_SCHEMA = pa.schema(
    [
        ("segment_position", pa.int32()),
        ("previous_segment_id", pa.int32()),
        ("count_customers", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Lineage:
    """Where each of k new segments (in the new fit's order) comes from.

    Attributes
    ----------
    ids : (k,) segment ids: a continued old id, or a newly issued one.
    events : ``continued``, ``split`` or ``born`` per segment.
    related_ids : the old id a segment continues or split from; None when born.
    shifts : distance (z units) from the new centroid to the related old one; None if born.
    shares : on shared customers, the share of the segment's returning customers that were
        in the related old segment (0..1); None on centroids or when born.
    basis : ``customers``, ``centroids`` or ``none`` (fresh database or not comparable).
    max_issued : the highest id ever issued, this run's included.
    """

    ids: np.ndarray
    events: list[str]
    related_ids: list[int | None]
    shifts: list[float | None]
    shares: list[float | None]
    basis: str
    max_issued: int

    def summary(self) -> str:
        """E.g. ``6 continued, 1 split, 1 born``."""
        counts = {e: self.events.count(e) for e in ("continued", "split", "born")}
        return ", ".join(f"{n} {event}" for event, n in counts.items())


def fresh_lineage(k: int, max_issued: int = 0) -> Lineage:
    """Every segment born, ids ``max_issued + 1 .. max_issued + k`` (1..k on a fresh
    database)."""
    none: list = [None] * k
    ids = np.arange(max_issued + 1, max_issued + k + 1)
    return Lineage(ids, ["born"] * k, none, none, none, "none", max_issued + k)


def overlap_matrix(cells: pa.Table | None, k: int, previous_ids: list[int]) -> np.ndarray | None:
    """(k, k_prev) customers shared by new segment i and previous segment ``previous_ids[m]``
    from an :data:`OVERLAP_SCHEMA` table; None when no customer is in both runs."""
    if cells is None or cells.num_rows == 0:
        return None
    column = {segment: m for m, segment in enumerate(previous_ids)}
    matrix = np.zeros((k, len(previous_ids)), dtype=np.int64)
    for row in cells.to_pylist():
        m = column.get(row["previous_segment_id"])
        if m is not None:
            matrix[row["segment_position"], m] += row["count_customers"]
    return matrix if matrix.sum() > 0 else None


def _pairs(centroids: np.ndarray, previous: np.ndarray, overlap: np.ndarray | None) -> np.ndarray:
    """match (k,): the old row new segment i is paired with, -1 when it has none (Hungarian:
    most shared customers, else least total squared centroid distance)."""
    if overlap is None:
        return match_to_previous(centroids, previous)
    rows, cols = linear_sum_assignment(-overlap.astype(np.float64))
    match = np.full(centroids.shape[0], -1, dtype=np.int64)
    match[rows] = cols
    return match


def _sources(distance: np.ndarray, overlap: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each new segment's main old segment and the share of its returning customers from it
    (on centroids: the nearest old centroid, share NaN). Ties go to the lower index."""
    if overlap is None:
        return distance.argmin(axis=1), np.full(distance.shape[0], np.nan)
    totals = overlap.sum(axis=1)
    source = overlap.argmax(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = overlap[np.arange(len(source)), source] / totals
    return np.where(totals > 0, source, -1), share


def _is_same(i: int, m: int, source: np.ndarray, share: np.ndarray, on_customers: bool) -> bool:
    if on_customers:
        return bool(source[i] == m and share[i] > MIN_SHARED_SHARE)
    return bool(source[i] == m)


def _origins(
    match: np.ndarray, source: np.ndarray, share: np.ndarray, on_customers: bool
) -> list[tuple[int, str]]:
    """(old row, event) per new segment: the old segment it continues, the kept old segment
    it split from, or (-1, ``born``)."""
    continued = [
        m >= 0 and _is_same(i, int(m), source, share, on_customers) for i, m in enumerate(match)
    ]
    kept = {int(m) for m, same in zip(match, continued, strict=True) if same}
    origins = []
    for i, m in enumerate(match):
        if continued[i]:
            origins.append((int(m), "continued"))
        elif source[i] >= 0 and int(source[i]) in kept:
            origins.append((int(source[i]), "split"))
        else:
            origins.append((-1, "born"))
    return origins


def _issue_ids(origins: list[tuple[int, str]], previous_ids: list[int], issued: int):
    """(ids, highest issued): a continued segment keeps its old id, every other one gets the
    next id never issued, in canonical order."""
    ids = []
    for old, event in origins:
        if event != "continued":
            issued += 1
        ids.append(previous_ids[old] if event == "continued" else issued)
    return np.asarray(ids), issued


def lineage(
    centroids: np.ndarray,
    previous_centroids: np.ndarray,
    previous_ids: list[int],
    max_issued: int,
    overlap: np.ndarray | None = None,
) -> Lineage:
    """Ids for k new segments (``centroids`` (k, d), z units, canonical order) given the
    previous run's (k_prev, d) centroids in the same z units, their ids, the highest id ever
    issued and, when known, the (k, k_prev) shared-customer counts (see the module text)."""
    distance = np.sqrt(((centroids[:, None, :] - previous_centroids[None, :, :]) ** 2).sum(axis=2))
    source, share = _sources(distance, overlap)
    origins = _origins(
        _pairs(centroids, previous_centroids, overlap), source, share, overlap is not None
    )
    ids, issued = _issue_ids(origins, previous_ids, max(max_issued, max(previous_ids, default=0)))
    related, shifts, shares = [], [], []
    for i, (old, _) in enumerate(origins):
        found = old >= 0
        related.append(previous_ids[old] if found else None)
        shifts.append(float(distance[i, old]) if found else None)
        on_customers = found and overlap is not None
        shares.append(float(overlap[i, old] / overlap[i].sum()) if on_customers else None)
    basis = "customers" if overlap is not None else "centroids"
    events = [event for _, event in origins]
    return Lineage(ids, events, related, shifts, shares, basis, issued)
