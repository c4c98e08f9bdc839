"""Rounds of a `group` conversation: who speaks at each turn in its warming group (the scheduler's part).

Only members whose warm-up phase and reputation band allow groups take part (logic.actions rule `group`,
logic.reputation.may_take), members who left are out, and most members mostly read:
`logic.actions.group_speakers` weights each by its persona's `group_talk`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from mirage_app.logic import actions, reputation
from mirage_app.logic.actions import ActionRules, Habits

NEEDS_SETUP = "group_being_created"


@dataclass(frozen=True)
class GroupRound:
    """Either why no round starts now (`skip`, and whether the group must be created first) or the speakers."""

    skip: str | None = None
    setup: bool = False
    speakers: list[dict[str, Any]] = field(default_factory=list)


def plan_group_round(group: dict | None, eligible: list[dict], rules: ActionRules, rng: random.Random) -> GroupRound:
    """`group`: the conversation's warming group (state, members who left); `eligible`: the participants the
    scheduler found able to talk now."""
    if group is None or group.get("state") == "pending":
        return GroupRound(NEEDS_SETUP, setup=True)
    if group.get("state") != "active":
        return GroupRound(f"group_{group.get('state')}")
    left = set(group.get("left") or ())
    present = [p for p in eligible if p["kind"] == "bot" and p["number_id"] not in left]
    if len(present) < 2:
        return GroupRound("group_members_left")
    # Old enough for groups by the phase rules, and a reputation band that allows them.
    mature = [
        p
        for p in present
        if reputation.may_take(actions.GROUP, rules, max(1, int(p.get("active_days") or 0)), p.get("band"))
    ]
    if len(mature) < 2:
        return GroupRound("group_phase_too_early")
    members = [(p["number_id"], Habits.from_mapping_or_default(p.get("habits"))) for p in mature]
    turns = 2 * rng.randint(2, 4)
    by_id = {p["number_id"]: p for p in mature}
    order = actions.group_speakers(members, turns, rng)
    return GroupRound(speakers=[by_id[number_id] for number_id in order])
