from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.warmup import (
    WarmupPolicy,
    daily_cap,
    day_today,
    effective_day,
    idle_reset,
    settle_ends_at,
    settled,
    streak_days,
    warm_day,
    warmed_up,
)

DEFAULT = WarmupPolicy()

policies = st.builds(
    WarmupPolicy,
    day1=st.integers(0, 100),
    growth=st.floats(1.0, 3.0),
    first_week_cap=st.integers(0, 150),
    max_daily=st.integers(0, 1000),
    idle_reset_hours=st.floats(1, 200),
)


def test_default_ramp() -> None:
    caps = [daily_cap(DEFAULT, day) for day in range(1, 15)]
    assert caps == [20, 30, 45, 50, 50, 50, 50, 75, 112, 168, 200, 200, 200, 200]
    assert daily_cap(DEFAULT, 0) == 20  # not yet active counts as day 1
    assert warm_day(DEFAULT) == 11


def test_idle_restarts_the_ramp() -> None:
    assert not idle_reset(DEFAULT, 71.9) and idle_reset(DEFAULT, 72)
    assert daily_cap(DEFAULT, effective_day(DEFAULT, 30, 71.9)) == 200
    assert daily_cap(DEFAULT, effective_day(DEFAULT, 30, 72)) == 20
    assert effective_day(DEFAULT, 30, 72) == 1 and effective_day(DEFAULT, 30, 10) == 30


def test_bad_health_holds_the_previous_stage() -> None:
    assert daily_cap(DEFAULT, 3, health_ok=False) == 30
    assert daily_cap(DEFAULT, 1, health_ok=False) == 20
    assert daily_cap(DEFAULT, 40, health_ok=False) == 200


@given(policies, st.integers(0, 60), st.floats(0, 500), st.booleans())
def test_ramp_properties(policy: WarmupPolicy, day: int, idle: float, health: bool) -> None:
    cap = daily_cap(policy, effective_day(policy, day, idle), health)
    assert 0 <= cap <= policy.max_daily
    if day <= 7:
        assert cap <= policy.first_week_cap
    assert cap <= daily_cap(policy, effective_day(policy, day, idle), True)  # bad health never allows more
    if not idle_reset(policy, idle):
        assert cap <= daily_cap(policy, day + 1, health)  # monotone in active days
    else:
        assert cap == daily_cap(policy, 1, True)


@given(policies)
def test_warm_day_is_the_plateau(policy: WarmupPolicy) -> None:
    day = warm_day(policy)
    plateau = daily_cap(policy, day)
    assert all(daily_cap(policy, later) == plateau for later in (day + 1, day + 10, day + 500))


def test_policy_validation_and_mapping() -> None:
    with pytest.raises(ValueError, match="growth"):
        WarmupPolicy(growth=0.9)
    with pytest.raises(ValueError, match="non-negative"):
        WarmupPolicy(day1=-1)
    assert WarmupPolicy.from_mapping(None) == DEFAULT
    assert WarmupPolicy.from_mapping({"day1": 10, "growth": None}) == WarmupPolicy(day1=10)
    with pytest.raises(ValueError, match="unknown"):
        WarmupPolicy.from_mapping({"speed": 3})
    # What the engine reads: a hand-edited value that does not read falls back to the defaults.
    assert WarmupPolicy.from_mapping_or_default({"speed": 3}) == DEFAULT
    assert WarmupPolicy.from_mapping_or_default({"growth": 0.5}) == DEFAULT
    assert WarmupPolicy.from_mapping_or_default({"day1": 10}) == WarmupPolicy(day1=10)


def test_absurd_policies_do_not_overflow() -> None:
    huge = WarmupPolicy(day1=0, growth=1000.0, max_daily=10**9)
    assert daily_cap(huge, 10_000) == 0
    assert daily_cap(WarmupPolicy(growth=1000.0, max_daily=10**12), 10_000) == 10**12


def test_warmed_up_from_the_last_ramp_day() -> None:
    assert not warmed_up(10) and warmed_up(11) and warmed_up(30)


NOW = datetime(2026, 12, 6, 15, tzinfo=UTC)


def test_day_today() -> None:
    yesterday = NOW - timedelta(days=1)
    assert day_today(DEFAULT, 0, False, None, NOW) == 1  # never sent
    assert day_today(DEFAULT, 4, True, yesterday, NOW) == 4  # today already counted
    assert day_today(DEFAULT, 0, True, None, NOW) == 1
    assert day_today(DEFAULT, 4, False, yesterday, NOW) == 5  # the first send today opens day 5
    assert day_today(DEFAULT, 4, False, NOW - timedelta(hours=72), NOW) == 1  # idle too long: again


def _engine_rule(policy, active_days, sent_today, last_before_today, now):
    """The rule the send pipeline and the round planner each wrote inline before `day_today`."""
    if sent_today:
        return max(1, active_days)
    idle_h = (now - last_before_today).total_seconds() / 3600 if last_before_today is not None else None
    return 1 if idle_h is None or idle_h >= policy.idle_reset_hours else active_days + 1


@given(
    policies,
    st.integers(0, 400),
    st.booleans(),
    st.one_of(st.none(), st.floats(0, 500).map(lambda h: NOW - timedelta(hours=h))),
)
def test_day_today_is_the_engine_rule(policy, active_days, sent_today, last) -> None:
    assert day_today(policy, active_days, sent_today, last, NOW) == _engine_rule(
        policy, active_days, sent_today, last, NOW
    )


def _days(*offsets: int) -> list[tuple[datetime, datetime]]:
    """One send a day at 10:00 and 18:00, `offsets` days before NOW (oldest first)."""
    base = NOW.replace(hour=10)
    return [(base - timedelta(days=d), base - timedelta(days=d) + timedelta(hours=8)) for d in offsets]


def test_streak_days_counts_the_current_streak() -> None:
    assert streak_days([]) == 0
    assert streak_days(_days(1)) == 1
    assert streak_days(_days(7, 6, 5, 4, 3, 2, 1)) == 7  # a week of history: day 8 with the next send
    assert streak_days(_days(7, 6, 5, 2, 1)) == 5  # a 2-day gap stays under 72 h of idleness
    assert streak_days(_days(12, 11, 10, 3, 2, 1)) == 3  # a week off started the ramp again


@given(st.lists(st.integers(0, 60), unique=True, max_size=40), policies)
def test_streak_days_is_bounded_by_the_active_days(offsets, policy) -> None:
    spans = _days(*sorted(offsets, reverse=True))
    n = streak_days(spans, policy)
    assert (n == 0) == (not spans)
    assert n <= len(spans)
    if spans and policy.idle_reset_hours > 16:  # a send the next day (16 h after the last) continues the streak
        first, last = spans[-1]
        assert streak_days([*spans, (first + timedelta(days=1), last + timedelta(days=1))], policy) == n + 1


def test_settle_time() -> None:
    paired = datetime(2024, 5, 6, 9, tzinfo=UTC)
    assert not settled(None, paired)
    assert not settled(paired, paired + timedelta(hours=11, minutes=59))
    assert settled(paired, paired + timedelta(hours=12))
    assert settled(paired, paired + timedelta(hours=6), repaired=True)
    assert settle_ends_at(paired) == paired + timedelta(hours=12)
