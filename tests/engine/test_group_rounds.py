"""Who speaks in a warming group's round: old enough by the phase rules, and a reputation band that allows groups."""

from __future__ import annotations

import random

from mirage_app.engine.group_rounds import plan_group_round
from mirage_app.logic.actions import ActionRules


def _member(number_id: str, band: str | None, days: int = 30) -> dict:
    return {"kind": "bot", "number_id": number_id, "active_days": days, "band": band, "habits": None}


def test_only_members_whose_band_allows_groups_speak():
    group = {"state": "active", "left": []}
    members = [_member("a", "warming"), _member("b", None), _member("c", "cold"), _member("d", "cooling_down")]
    plan = plan_group_round(group, members, ActionRules.default(), random.Random(1))
    assert plan.speakers and {p["number_id"] for p in plan.speakers} <= {"a", "b"}  # no band yet: the phase decides
    alone = plan_group_round(group, [members[0], members[2]], ActionRules.default(), random.Random(1))
    assert not alone.speakers and alone.skip == "group_phase_too_early"
