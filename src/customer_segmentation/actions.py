"""A recommended marketing action per segment, from documented rules over its profile.

A segment's level on a measure is the one its name uses (:func:`.naming.measure_levels`: where
the segment's customers rank among all customers, high in the top fifth on average and low
in the bottom fifth unless the measure's ``name_levels`` say otherwise). Ranks keep a few
extreme spenders from making the typical regular buyer look small. Measures take part through their
``role`` in the feature set: ``value`` (e.g. CLV), ``engagement`` (minutes watched),
``recency`` (days since the last purchase: high is long ago), ``frequency`` and ``monetary``.
:data:`RULES` is read top to bottom and the first rule whose conditions all hold gives the
action; a rule that names a role the feature set lacks does not apply. The seed
``segment_action_overrides`` replaces any segment's action in SQL (int_segment_names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from customer_segmentation.features import FeatureSet


@dataclass(frozen=True)
class ActionRule:
    """``when`` maps a role to the levels it must have; ``action`` is what marketing does."""

    when: dict[str, tuple[str, ...]]
    action: str


#: First match wins. Transaction (RFM) rules come first, then the viewing-platform rules.
RULES: tuple[ActionRule, ...] = (
    ActionRule(
        {"recency": ("low", "mid"), "frequency": ("high",), "monetary": ("high",)},
        "VIP programme: early access, dedicated support, referral rewards",
    ),
    ActionRule(
        {"recency": ("high",), "frequency": ("low", "mid")},
        "Reactivation campaign: win-back offer with a deadline",
    ),
    ActionRule(
        {"recency": ("high",), "frequency": ("high",)},
        "Win-back: personal outreach to former best customers",
    ),
    ActionRule(
        {"recency": ("low", "mid"), "frequency": ("low",)},
        "Onboarding: welcome series and a second-purchase incentive",
    ),
    ActionRule(
        {"frequency": ("high",), "monetary": ("low",)},
        "Upsell: bundles and volume discounts to raise basket value",
    ),
    ActionRule(
        {"recency": ("low", "mid"), "frequency": ("mid", "high")},
        "Loyalty programme: points and member rewards to keep regular buyers coming back",
    ),
    ActionRule(
        {"value": ("high",), "engagement": ("high",)},
        "VIP programme: loyalty perks and early access to new content",
    ),
    ActionRule(
        {"value": ("high",), "engagement": ("low", "mid")},
        "Re-engage: personalised content recommendations to protect revenue",
    ),
    ActionRule(
        {"value": ("low", "mid"), "engagement": ("high",)},
        "Convert: upgrade offer for engaged customers who pay little",
    ),
    ActionRule(
        {"value": ("low",), "engagement": ("low",)},
        "Low-cost nurture: automated email, no paid spend",
    ),
)
DEFAULT_ACTION = "Maintain: regular newsletter, no special treatment"


def recommend_actions(
    levels: Sequence[dict[str, str]], features: FeatureSet
) -> list[tuple[str, str]]:
    """(action, reason) per segment, from each segment's measure levels (feature name ->
    high / mid / low, see :func:`.naming.measure_levels`).

    The reason lists the levels the matching rule looked at, e.g. ``"recency low, frequency
    high, monetary high"``.
    """
    roles = {f.role: f.name for f in features.features if f.role and f.kind == "numeric"}
    return [
        _action({role: row[name] for role, name in roles.items() if name in row}) for row in levels
    ]


def _action(by_role: dict[str, str]) -> tuple[str, str]:
    """(action, reason) of the first rule that matches one segment's levels by role."""
    for rule in RULES:
        if all(by_role.get(role) in allowed for role, allowed in rule.when.items()):
            return rule.action, ", ".join(f"{role} {by_role[role]}" for role in rule.when)
    shown = ", ".join(f"{role} {lvl}" for role, lvl in by_role.items()) or "no roles"
    return DEFAULT_ACTION, f"no rule matched ({shown})"
