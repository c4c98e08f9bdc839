from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic import actions
from mirage_app.logic.reputation import (
    BAN_COOLDOWN,
    COLD,
    COOLDOWN,
    COOLING_DOWN,
    HEALTHY,
    HYSTERESIS,
    LIMITS,
    RECHECK,
    WARMING,
    Signals,
    Standing,
    band_allows,
    band_caps,
    band_for,
    contributions,
    held_until,
    may_take,
    moved_most,
    next_standing,
    restrict,
    score,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
GOOD = ("delivered", "read", "answered", "age_days", "active_days")
BAD = ("failures", "disconnects", "ban_disconnects", "restrictions")


@st.composite
def signals(draw) -> Signals:
    sent = draw(st.integers(0, 500))
    delivered = draw(st.integers(0, sent))
    return Signals(
        sent=sent,
        delivered=delivered,
        read=draw(st.integers(0, delivered)),
        answered=draw(st.integers(0, sent)),
        failures=draw(st.integers(0, 30)),
        disconnects=draw(st.integers(0, 12)),
        ban_disconnects=draw(st.integers(0, 4)),
        restrictions=draw(st.integers(0, 3)),
        age_days=draw(st.integers(0, 400)),
        active_days=draw(st.integers(0, 7)),
    )


@given(signals())
def test_score_is_bounded(sig: Signals) -> None:
    assert 0.0 <= score(sig) <= 100.0


@given(signals(), st.sampled_from(GOOD), st.integers(1, 50))
def test_score_never_falls_when_a_good_signal_grows(sig: Signals, name: str, more: int) -> None:
    grown = replace(sig, **{name: getattr(sig, name) + more})
    if name in ("delivered", "answered"):
        grown = replace(grown, **{name: min(getattr(grown, name), sig.sent)})
    if name == "read":
        grown = replace(grown, read=min(grown.read, sig.delivered))
    assert score(grown) >= score(sig)


@given(signals(), st.sampled_from(BAD), st.integers(1, 10))
def test_score_never_rises_when_a_bad_signal_grows(sig: Signals, name: str, more: int) -> None:
    assert score(replace(sig, **{name: getattr(sig, name) + more})) <= score(sig)


def test_a_new_number_is_cold_and_a_mature_busy_one_healthy() -> None:
    assert next_standing(None, Signals(), NOW).band == COLD
    mature = Signals(sent=400, delivered=390, read=330, answered=250, age_days=90, active_days=7)
    assert next_standing(None, mature, NOW).band == HEALTHY
    week_old = Signals(sent=60, delivered=58, read=40, answered=30, age_days=7, active_days=6)
    assert next_standing(None, week_old, NOW).band == WARMING


def test_a_ban_like_disconnect_weighs_most() -> None:
    base = Signals(sent=100, delivered=95, read=70, answered=50, age_days=40, active_days=7)
    drops = {name: score(base) - score(replace(base, **{name: 1})) for name in BAD}
    assert drops["ban_disconnects"] > drops["disconnects"] > drops["failures"]


@given(st.sampled_from(((45.0, COLD, WARMING), (75.0, WARMING, HEALTHY))), st.floats(0, HYSTERESIS - 0.01))
def test_bands_are_stable_at_their_edges(edge: tuple[float, str, str], wobble: float) -> None:
    """A score wobbling within the margin around a threshold keeps whichever band the number had."""
    threshold, below, above = edge
    assert band_for(threshold + wobble, below) == below
    assert band_for(threshold - wobble, above) == above


@given(st.floats(0, 100), st.sampled_from((COLD, WARMING, HEALTHY)))
def test_a_band_changes_only_past_the_margin(value: float, previous: str) -> None:
    band = band_for(value, previous)
    if band != previous:
        assert band_for(value - HYSTERESIS, None) == band or band_for(value + HYSTERESIS, None) == band


def test_hysteresis_at_the_healthy_edge() -> None:
    assert band_for(76.0, WARMING) == WARMING  # just over the line: not yet
    assert band_for(79.5, WARMING) == HEALTHY
    assert band_for(73.0, HEALTHY) == HEALTHY  # just under: stays
    assert band_for(70.0, HEALTHY) == WARMING


@given(signals(), st.floats(15.1, 100))
def test_a_big_drop_cools_the_number_down_at_once(sig: Signals, drop: float) -> None:
    value = score(sig)
    if value + drop > 100:
        return
    previous = Standing(value + drop, HEALTHY)
    standing = next_standing(previous, sig, NOW)
    assert standing.band == COOLING_DOWN
    assert standing.cooldown_until == NOW + COOLDOWN
    assert LIMITS[standing.band].per_hour == 0 and LIMITS[standing.band].per_day == 0


def test_a_ban_signal_cools_down_longer_and_the_cooldown_holds_then_eases_back() -> None:
    mature = Signals(sent=400, delivered=390, read=330, answered=250, age_days=90, active_days=7)
    healthy = next_standing(None, mature, NOW)
    banned = next_standing(healthy, replace(mature, ban_disconnects=1), NOW, new_ban_signal=True)
    assert banned.band == COOLING_DOWN and banned.cooldown_until == NOW + BAN_COOLDOWN
    later = next_standing(banned, mature, NOW + timedelta(hours=23))
    assert later.band == COOLING_DOWN and later.cooldown_until == banned.cooldown_until
    after = next_standing(later, mature, NOW + BAN_COOLDOWN)
    assert after.band == WARMING and after.cooldown_until is None  # back at most warming


def test_band_limits_grow_with_the_band_and_forbid_actions() -> None:
    order = (COOLING_DOWN, COLD, WARMING, HEALTHY)
    for lower, higher in itertools.pairwise(order):
        assert LIMITS[lower].per_hour < LIMITS[higher].per_hour
        assert LIMITS[lower].per_day < LIMITS[higher].per_day
        assert LIMITS[lower].actions <= LIMITS[higher].actions  # warming and healthy differ by their caps
    assert not LIMITS[COLD].allows(actions.VOICE) and LIMITS[WARMING].allows(actions.VOICE)
    assert not LIMITS[COLD].allows(actions.STATUS) and LIMITS[WARMING].allows(actions.GROUP)


def test_moved_most_names_the_three_biggest_changes() -> None:
    now = contributions(Signals(sent=100, delivered=20, read=10, answered=50, age_days=40, active_days=7, failures=3))
    top = moved_most(now)
    assert [t["signal"] for t in top] == ["age", "delivery", "activity"]
    assert top[0]["points"] == 30.0 and top[1]["points"] < 0
    assert moved_most(contributions(Signals())) == []


def test_band_caps_take_the_tighter_limit_and_say_whose_it_is() -> None:
    assert band_caps(None, 20, None) == (20, None, {"daily_cap": "warmup_cap"})
    hourly, daily, codes = band_caps(COLD, 20, 8)
    assert (hourly, daily) == (LIMITS[COLD].per_hour, 8)
    assert codes == {"daily_cap": "warmup_cap", "hourly_cap": "reputation_hourly_cap"}
    assert band_caps(COOLING_DOWN, None, None)[:2] == (0, 0)


def test_a_cooling_number_is_held_until_its_cooldown_ends() -> None:
    assert held_until(HEALTHY, None, NOW) is None
    assert held_until(COOLING_DOWN, NOW + COOLDOWN, NOW) == NOW + COOLDOWN
    assert held_until(COOLING_DOWN, NOW - COOLDOWN, NOW) == NOW + RECHECK  # ended: until the recompute


def test_restrict_downgrades_what_the_band_forbids() -> None:
    plan = actions.TurnPlan(kind=actions.VOICE, react="👍", unreact=True, quote=True, typo=True)
    assert restrict(plan, None) == plan  # never computed: the phase rules alone decide
    assert restrict(plan, WARMING) == plan
    cold = restrict(plan, COLD)
    assert cold.kind == actions.TEXT and cold.react == "👍" and cold.quote
    assert restrict(plan, COOLING_DOWN) == actions.TurnPlan(kind=actions.TEXT)


def test_band_allows_groups_and_statuses_from_warming():
    for action in (actions.GROUP, actions.STATUS):
        assert all(band_allows(band, action) for band in ("healthy", "warming", None))
        assert not any(band_allows(band, action) for band in ("cold", "cooling_down"))
    assert band_allows("cold", actions.TEXT) and not band_allows("cooling_down", actions.TEXT)


@given(
    st.sampled_from(sorted(actions.ACTIONS)),
    st.integers(min_value=1, max_value=60),
    st.sampled_from([None, *sorted(LIMITS)]),
)
def test_an_action_needs_both_its_phase_and_its_band(action: str, day: int, band: str | None) -> None:
    rules = actions.ActionRules.default()
    assert may_take(action, rules, day, band) == (rules.allows(action, day) and band_allows(band, action))
    switched_off = actions.ActionRules.from_mapping({"off": [action]})
    assert action == actions.TEXT or not may_take(action, switched_off, day, band)
