"""Readable, rule-based segment names from centroids in original units.

What a name is made of comes from the feature set (see :class:`~.features.FeatureSet`):
``name_parts`` lists measures and categorical features in order. A measure contributes the
word for its level (:func:`measure_levels`: where the segment's customers rank among all
customers, against the measure's ``name_levels`` positions); a categorical feature
contributes the category that holds at least :data:`DOMINANT_SHARE` of the segment, or
"mixed <feature>s". Levels are shared with the recommended actions (:mod:`.actions`). Names
look like ``"Mid-value heavy viewers · YouTube · Rest of the World"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from customer_segmentation.features import Feature, FeatureSet

#: A region or channel names a segment when at least this share of it comes from there.
DOMINANT_SHARE = 0.5
#: The name when no measure is high or low and no categorical part applies.
TYPICAL = "Typical customers"


LEVELS = ("high", "mid", "low")
#: Without name_levels a measure is high when its segment's customers sit on average in the top
#: fifth of all customers (mean position >= 0.8) and low in the bottom fifth (<= 0.2).
DEFAULT_POSITIONS = (0.8, 0.2)


def _level(value: float, high_low: Sequence[float], words: Sequence[str] = LEVELS) -> str:
    high, low = high_low
    if value >= high:
        return words[0]
    if value <= low:
        return words[2]
    return words[1]


def measure_levels(positions: np.ndarray, features: FeatureSet) -> list[dict[str, str]]:
    """Per segment, each measure's level, ``high`` / ``mid`` / ``low``, from ranks.

    ``positions`` (k, d) is each segment's mean position of its customers among all customers
    (0..1, 0.5 = typical; see :meth:`.engines.base.Engine.mean_positions`). Ranks are robust:
    a few customers who spend a thousand times the median move a segment's mean a lot but its
    mean position by at most their share. A measure's ``name_levels`` (high, low) are these
    positions (default :data:`DEFAULT_POSITIONS`); one-hot and code columns get no level.
    A segment without customers (NaN) is ``mid``.
    """
    out = []
    for row in positions:
        levels = {}
        for j, feature in enumerate(features.features):
            if feature.kind != "numeric":
                continue
            position = 0.5 if np.isnan(row[j]) else float(row[j])
            levels[feature.name] = _level(position, feature.name_levels or DEFAULT_POSITIONS)
        out.append(levels)
    return out


def _dominant(shares: Mapping[str, float], fallback: str) -> str:
    if not shares:
        return fallback
    label, share = max(shares.items(), key=lambda item: (item[1], item[0]))
    return label if share >= DOMINANT_SHARE else fallback


def segment_names(
    levels: Sequence[dict[str, str]], centroids_original: np.ndarray, features: FeatureSet
) -> list[str]:
    """One unique name per centroid row.

    Parameters
    ----------
    levels : per row, each measure's level (:func:`measure_levels`).
    centroids_original : (k, d) centroids in original units; a one-hot feature's value is the
        segment's share of that category.
    features : the d fit features and the name recipe.
    """
    by_name = {f.name: f for f in features.features}
    names = [
        _row_name(row_levels, row, features, by_name)
        for row_levels, row in zip(levels, centroids_original, strict=True)
    ]
    return make_unique(names)


def _row_name(
    row_levels: dict[str, str], row: np.ndarray, features: FeatureSet, by_name: dict[str, Feature]
) -> str:
    """The name of one centroid ``row`` (d,): level words, then the dominant categories."""
    words: list[str] = []
    places: list[str] = []
    for part in features.name_parts:
        if part in by_name:
            word = _level_word(by_name[part], row_levels)
            if word:
                words.append(word)
        else:
            places.append(_dominant(_shares(row, features, part), f"mixed {part}s"))
    head = features.name_separator.join(words) or (TYPICAL if not places else "")
    name = " · ".join(p for p in [head, *places] if p)
    return name[:1].upper() + name[1:] if name else TYPICAL


def _level_word(feature: Feature, row_levels: dict[str, str]) -> str | None:
    """The feature's word for its level in this segment (empty or None when it has none)."""
    if not feature.name_words or feature.name not in row_levels:
        return ""
    return feature.name_words[LEVELS.index(row_levels[feature.name])]


def _shares(row: np.ndarray, features: FeatureSet, source: str) -> dict[str, float]:
    """Category label -> the segment's share of it, for the one-hot columns of ``source``."""
    return {
        f.label: row[j]
        for j, f in enumerate(features.features)
        if f.kind == "one_hot" and f.source == source
    }


def make_unique(names: Sequence[str]) -> list[str]:
    """Suffix repeats with " (2)", " (3)", … in order, so every name is unique."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique
