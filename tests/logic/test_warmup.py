from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.warmup import (
    WarmupPolicy,
    daily_cap,
    effective_day,
    settle_ends_at,
    settled,
    stage_label,
    warm_day,
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
    caps = [daily_cap(DEFAULT, day, hours_idle=0) for day in range(1, 15)]
    assert caps == [20, 30, 45, 50, 50, 50, 50, 75, 112, 168, 200, 200, 200, 200]
    assert daily_cap(DEFAULT, 0, 0) == 20  # not yet active counts as day 1
    assert warm_day(DEFAULT) == 11


def test_idle_restarts_the_ramp() -> None:
    assert daily_cap(DEFAULT, 30, hours_idle=71.9) == 200
    assert daily_cap(DEFAULT, 30, hours_idle=72) == 20
    assert effective_day(DEFAULT, 30, 72) == 1 and effective_day(DEFAULT, 30, 10) == 30


def test_bad_health_holds_the_previous_stage() -> None:
    assert daily_cap(DEFAULT, 3, 0, health_ok=False) == 30
    assert daily_cap(DEFAULT, 1, 0, health_ok=False) == 20
    assert daily_cap(DEFAULT, 40, 0, health_ok=False) == 200


@given(policies, st.integers(0, 60), st.floats(0, 500), st.booleans())
def test_ramp_properties(policy: WarmupPolicy, day: int, idle: float, health: bool) -> None:
    cap = daily_cap(policy, day, idle, health)
    assert 0 <= cap <= policy.max_daily
    if day <= 7:
        assert cap <= policy.first_week_cap
    assert cap <= daily_cap(policy, day, idle, True)  # bad health never allows more
    if idle < policy.idle_reset_hours:
        assert cap <= daily_cap(policy, day + 1, idle, health)  # monotone in active days
    else:
        assert cap == daily_cap(policy, 1, 0, True)


@given(policies)
def test_warm_day_is_the_plateau(policy: WarmupPolicy) -> None:
    day = warm_day(policy)
    plateau = daily_cap(policy, day, 0)
    assert all(daily_cap(policy, later, 0) == plateau for later in (day + 1, day + 10, day + 500))


def test_policy_validation_and_mapping() -> None:
    with pytest.raises(ValueError, match="growth"):
        WarmupPolicy(growth=0.9)
    with pytest.raises(ValueError, match="non-negative"):
        WarmupPolicy(day1=-1)
    assert WarmupPolicy.from_mapping(None) == DEFAULT
    assert WarmupPolicy.from_mapping({"day1": 10, "growth": None}) == WarmupPolicy(day1=10)
    with pytest.raises(ValueError, match="unknown"):
        WarmupPolicy.from_mapping({"speed": 3})


def test_absurd_policies_do_not_overflow() -> None:
    huge = WarmupPolicy(day1=0, growth=1000.0, max_daily=10**9)
    assert daily_cap(huge, 10_000, 0) == 0
    assert daily_cap(WarmupPolicy(growth=1000.0, max_daily=10**12), 10_000, 0) == 10**12


def test_stage_labels() -> None:
    assert stage_label(3) == "day 3 of warm-up"
    assert stage_label(0) == "day 1 of warm-up"
    assert stage_label(11) == "warm"
    assert stage_label(3, locale="pt-BR") == "dia 3 de aquecimento"
    assert stage_label(30, locale="pt-BR") == "aquecido"


def test_settle_time() -> None:
    paired = datetime(2024, 5, 6, 9, tzinfo=UTC)
    assert not settled(None, paired)
    assert not settled(paired, paired + timedelta(hours=11, minutes=59))
    assert settled(paired, paired + timedelta(hours=12))
    assert settled(paired, paired + timedelta(hours=6), repaired=True)
    assert settle_ends_at(paired) == paired + timedelta(hours=12)
