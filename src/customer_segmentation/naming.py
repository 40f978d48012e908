"""Readable, rule-based segment names from centroids in original units."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Segment mean / overall mean at or above HIGH is "high", at or below LOW is "low".
CLV_LEVELS = (1.1, 0.9)
MINUTES_LEVELS = (1.25, 0.75)
#: A region or channel names a segment when at least this share of it comes from there.
DOMINANT_SHARE = 0.5


def _level(ratio: float, high_low: tuple[float, float], words: tuple[str, str, str]) -> str:
    high, low = high_low
    if ratio >= high:
        return words[0]
    if ratio <= low:
        return words[2]
    return words[1]


def _dominant(shares: Mapping[str, float], fallback: str) -> str:
    if not shares:
        return fallback
    label, share = max(shares.items(), key=lambda item: (item[1], item[0]))
    return label if share >= DOMINANT_SHARE else fallback


def segment_names(
    centroids_original: np.ndarray,
    feature_names: Sequence[str],
    overall_mean: np.ndarray,
    labels: Mapping[str, str],
) -> list[str]:
    """One unique name per centroid row, e.g. ``"High-value heavy viewers · YouTube · Rest of
    the World"``.

    Parameters
    ----------
    centroids_original : (k, d) centroids in original units; a one-hot feature's value is the
        segment's share of that region or channel.
    feature_names : the d feature names.
    overall_mean : (d,) means over all customers, original units.
    labels : display label per one-hot feature name (``is_channel_youtube`` -> ``"YouTube"``).
    """
    position = {name: j for j, name in enumerate(feature_names)}
    clv_j, minutes_j = position["customer_lifetime_value"], position["minutes_watched"]
    names: list[str] = []
    for row in centroids_original:
        value = _level(
            row[clv_j] / overall_mean[clv_j] if overall_mean[clv_j] else 1.0,
            CLV_LEVELS,
            ("High-value", "Mid-value", "Low-value"),
        )
        viewing = _level(
            row[minutes_j] / overall_mean[minutes_j] if overall_mean[minutes_j] else 1.0,
            MINUTES_LEVELS,
            ("heavy viewers", "regular viewers", "light viewers"),
        )
        channel = _dominant(
            {labels.get(f, f): row[j] for f, j in position.items() if f.startswith("is_channel_")},
            "mixed channels",
        )
        region = _dominant(
            {labels.get(f, f): row[j] for f, j in position.items() if f.startswith("is_region_")},
            "mixed regions",
        )
        names.append(f"{value} {viewing} · {channel} · {region}")
    return make_unique(names)


def make_unique(names: Sequence[str]) -> list[str]:
    """Suffix repeats with " (2)", " (3)", … in order, so every name is unique."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique
