"""Readable, rule-based segment names from centroids in original units.

What a name is made of comes from the feature set (see :class:`~.features.FeatureSet`):
``name_parts`` lists measures and categorical features in order. A measure contributes the
word for its level, the ratio of the segment's centroid to the overall mean against its
``name_levels`` (high, low) thresholds; a categorical feature contributes the category that
holds at least :data:`DOMINANT_SHARE` of the segment, or "mixed <feature>s". Levels are
shared with the recommended actions (:mod:`.actions`). The case-study
sets give names like ``"High-value heavy viewers · YouTube · Rest of the World"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from customer_segmentation.features import FeatureSet

#: A region or channel names a segment when at least this share of it comes from there.
DOMINANT_SHARE = 0.5
#: The name when no measure is high or low and no categorical part applies.
TYPICAL = "Typical customers"


LEVELS = ("high", "mid", "low")
#: Without name_levels a measure's level is read in z units: high at or above +0.5 standard
#: deviations from the overall mean, low at or below -0.5.
Z_LEVELS = (0.5, -0.5)


def _level(value: float, high_low: Sequence[float], words: Sequence[str] = LEVELS) -> str:
    high, low = high_low
    if value >= high:
        return words[0]
    if value <= low:
        return words[2]
    return words[1]


def measure_levels(
    centroids_original: np.ndarray,
    centroids_z: np.ndarray,
    features: FeatureSet,
    overall_mean: np.ndarray,
) -> list[dict[str, str]]:
    """Per centroid row, each measure's level, ``high`` / ``mid`` / ``low``.

    A measure with ``name_levels`` is judged as its name word is: the ratio of the segment's
    centroid to the overall mean (original units) against those thresholds, so a "High-value"
    segment has value level high. Other measures use :data:`Z_LEVELS` on the z centroid.
    Shapes: centroids (k, d), overall_mean (d,).
    """
    out = []
    for row, row_z in zip(centroids_original, centroids_z, strict=True):
        levels = {}
        for j, feature in enumerate(features.features):
            if feature.kind != "numeric":
                continue
            if feature.name_levels:
                ratio = row[j] / overall_mean[j] if overall_mean[j] else 1.0
                levels[feature.name] = _level(ratio, feature.name_levels)
            else:
                levels[feature.name] = _level(float(row_z[j]), Z_LEVELS)
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
    names: list[str] = []
    for row_levels, row in zip(levels, centroids_original, strict=True):
        words: list[str] = []
        places: list[str] = []
        for part in features.name_parts:
            if part in by_name:
                feature = by_name[part]
                if feature.name_words and part in row_levels:
                    word = feature.name_words[LEVELS.index(row_levels[part])]
                    if word:
                        words.append(word)
            else:
                shares = {
                    f.label: row[j]
                    for j, f in enumerate(features.features)
                    if f.kind == "one_hot" and f.source == part
                }
                places.append(_dominant(shares, f"mixed {part}s"))
        head = features.name_separator.join(words) or (TYPICAL if not places else "")
        name = " · ".join(p for p in [head, *places] if p)
        names.append(name[:1].upper() + name[1:] if name else TYPICAL)
    return make_unique(names)


def make_unique(names: Sequence[str]) -> list[str]:
    """Suffix repeats with " (2)", " (3)", … in order, so every name is unique."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique
