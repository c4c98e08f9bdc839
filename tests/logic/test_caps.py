from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_app.logic.caps import (
    DAILY_CAP,
    HOURLY_CAP,
    MIN_GAP,
    QUIET_HOURS,
    CapState,
    check_send,
    local_day_bounds,
    rolling_hour_start,
    tightest_limit,
)
from mirage_app.logic.dayparts import QuietHours, at_local, to_local, zone

SP = "America/Sao_Paulo"
NY = "America/New_York"


def sp(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return at_local(date(y, mo, d), time(h, mi), zone(SP)).astimezone(UTC)


NOON = sp(2024, 5, 6, 12)


def test_allowed_under_every_limit() -> None:
    state = CapState(sent_last_hour=3, sent_today=10, last_sent_at=NOON - timedelta(minutes=5))
    decision = check_send(NOON, state, 5, 20, timedelta(minutes=2), QuietHours(), SP)
    assert decision.allowed and decision.reason is None and decision.retry_at is None


def test_quiet_hours_block_until_they_end() -> None:
    decision = check_send(sp(2024, 5, 6, 23), CapState(), 5, 20, quiet_hours=QuietHours(), tz_name=SP)
    assert (decision.allowed, decision.reason) == (False, QUIET_HOURS)
    assert decision.retry_at == sp(2024, 5, 7, 8)


def test_no_quiet_hours_when_none() -> None:
    assert check_send(sp(2024, 5, 6, 23), CapState(), None, None, quiet_hours=None, tz_name=SP).allowed


def test_daily_cap_retries_at_the_next_local_midnight() -> None:
    decision = check_send(NOON, CapState(sent_today=20), 5, 20, tz_name=SP)
    assert decision.reason == DAILY_CAP
    assert decision.retry_at == sp(2024, 5, 7, 0) == datetime(2024, 5, 7, 3, tzinfo=UTC)


def test_hourly_cap_uses_the_rolling_window() -> None:
    plain = check_send(NOON, CapState(sent_last_hour=5), 5, 20, tz_name=SP)
    assert plain.reason == HOURLY_CAP and plain.retry_at == NOON + timedelta(hours=1)
    precise = check_send(
        NOON, CapState(sent_last_hour=5, oldest_in_hour_at=NOON - timedelta(minutes=40)), 5, 20, tz_name=SP
    )
    assert precise.retry_at == NOON + timedelta(minutes=20)


def test_min_gap() -> None:
    state = CapState(last_sent_at=NOON - timedelta(minutes=3))
    decision = check_send(NOON, state, None, None, timedelta(minutes=10), tz_name=SP)
    assert decision.reason == MIN_GAP and decision.retry_at == NOON + timedelta(minutes=7)
    assert check_send(NOON, state, None, None, timedelta(minutes=3), tz_name=SP).allowed


def test_a_block_lifting_inside_quiet_hours_waits_for_their_end() -> None:
    decision = check_send(sp(2024, 5, 6, 21), CapState(sent_today=20), None, 20, quiet_hours=QuietHours(), tz_name=SP)
    assert decision.reasons == (DAILY_CAP,)
    assert decision.retry_at == sp(2024, 5, 7, 8)  # midnight would still be quiet


def test_several_blocks_report_all_and_wait_for_the_last() -> None:
    now = sp(2024, 5, 6, 23, 30)
    state = CapState(sent_last_hour=9, sent_today=50, last_sent_at=now - timedelta(seconds=5))
    decision = check_send(now, state, 5, 50, timedelta(minutes=1), QuietHours(), SP)
    assert decision.reasons == (QUIET_HOURS, DAILY_CAP, HOURLY_CAP, MIN_GAP)
    assert decision.reason == QUIET_HOURS
    assert decision.retry_at == sp(2024, 5, 7, 8)


def test_unlimited_and_zero_limits() -> None:
    busy = CapState(sent_last_hour=10_000, sent_today=10_000)
    assert check_send(NOON, busy, None, None, tz_name=SP).allowed
    blocked = check_send(NOON, CapState(), 0, None, tz_name=SP)
    assert blocked.reason == HOURLY_CAP and blocked.retry_at == NOON + timedelta(hours=1)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        check_send(datetime(2024, 5, 6, 12), CapState(), 1, 1)


def test_window_helpers() -> None:
    assert rolling_hour_start(NOON) == NOON - timedelta(hours=1)
    start, end = local_day_bounds(NOON, SP)
    assert (start, end) == (sp(2024, 5, 6), sp(2024, 5, 7))
    # DST days are 23 and 25 hours long in New York
    spring = local_day_bounds(datetime(2024, 3, 10, 15, tzinfo=UTC), NY)
    fall = local_day_bounds(datetime(2024, 11, 3, 15, tzinfo=UTC), NY)
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert fall[1] - fall[0] == timedelta(hours=25)


def test_tightest_limit() -> None:
    assert tightest_limit(50, None, 30) == 30
    assert tightest_limit(None, None) is None
    assert tightest_limit() is None


@settings(max_examples=300)
@given(
    st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2032, 1, 1), timezones=st.just(UTC)),
    st.sampled_from([SP, NY, "Europe/Lisbon", "Asia/Tokyo"]),
    st.integers(0, 30),
    st.integers(0, 300),
    st.integers(0, 120),
    st.one_of(st.none(), st.integers(0, 20)),
    st.one_of(st.none(), st.integers(0, 200)),
    st.integers(0, 60),
)
def test_decisions_are_consistent(
    now: datetime,
    tz: str,
    last_hour: int,
    today: int,
    minutes_ago: int,
    hourly: int | None,
    daily: int | None,
    gap_minutes: int,
) -> None:
    state = CapState(last_hour, today, now - timedelta(minutes=minutes_ago))
    quiet = QuietHours()
    decision = check_send(now, state, hourly, daily, timedelta(minutes=gap_minutes), quiet, tz)
    expected = []
    if quiet.contains(to_local(now, tz).time()):
        expected.append(QUIET_HOURS)
    if daily is not None and today >= daily:
        expected.append(DAILY_CAP)
    if hourly is not None and last_hour >= hourly:
        expected.append(HOURLY_CAP)
    if minutes_ago < gap_minutes:
        expected.append(MIN_GAP)
    assert decision.reasons == tuple(expected)
    assert decision.allowed == (not expected)
    if decision.allowed:
        return
    retry = decision.retry_at
    assert retry is not None and retry > now
    # Every reported block has lifted by retry_at, and it never points into quiet hours.
    assert not quiet.contains(to_local(retry, tz).time())
    if DAILY_CAP in expected:
        assert retry >= local_day_bounds(now, tz)[1]
    if HOURLY_CAP in expected:
        assert retry >= now + timedelta(hours=1)
    if MIN_GAP in expected:
        assert retry >= now - timedelta(minutes=minutes_ago) + timedelta(minutes=gap_minutes)
