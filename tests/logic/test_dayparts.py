from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_app.logic.dayparts import (
    AFTERNOON,
    DAYPARTS,
    EVENING,
    MORNING,
    WEEKDAYS,
    QuietHours,
    ScheduleSlot,
    at_local,
    daypart_at,
    parse_time,
    schedule_status,
    slots_for,
    slots_from_day_rows,
    to_local,
    weekday_code,
    within_active_hours,
    zone,
)

SP = "America/Sao_Paulo"
NY = "America/New_York"
TZS = [SP, NY, "Europe/Lisbon", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]

instants = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))


def sp(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An instant given on São Paulo's wall clock."""
    return at_local(date(y, mo, d), time(h, mi), zone(SP))


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (time(0, 0), None),
        (time(7, 59, 59), None),
        (time(8, 0), MORNING),
        (time(11, 59), MORNING),
        (time(12, 0), AFTERNOON),
        (time(17, 59, 59), AFTERNOON),
        (time(18, 0), EVENING),
        (time(21, 59), EVENING),
        (time(22, 0), None),
        (time(23, 30), None),
    ],
)
def test_daypart_at_default_windows(wall: time, expected: str | None) -> None:
    assert daypart_at(wall) == expected


def test_daypart_at_custom_window_ending_at_midnight() -> None:
    windows = {MORNING: (time(6), time(12)), AFTERNOON: (time(12), time(19)), EVENING: (time(19), time(0))}
    assert daypart_at(time(23, 59), windows) == EVENING
    assert daypart_at(time(6), windows) == MORNING
    assert daypart_at(time(5, 59), windows) is None


def test_weekday_codes_start_on_sunday() -> None:
    assert weekday_code(date(2024, 3, 10)) == "sun"
    assert weekday_code(datetime(2024, 3, 11, 23, 59)) == "mon"
    assert weekday_code(date(2024, 3, 16)) == "sat"


@given(st.dates())
def test_weekday_code_cycles(day: date) -> None:
    if day < date.max:
        nxt = WEEKDAYS[(WEEKDAYS.index(weekday_code(day)) + 1) % 7]
        assert weekday_code(day + timedelta(days=1)) == nxt


def test_to_local_and_errors() -> None:
    local = to_local(datetime(2024, 6, 1, 12, tzinfo=UTC), SP)
    assert (local.hour, local.utcoffset()) == (9, timedelta(hours=-3))
    with pytest.raises(ValueError, match="aware"):
        to_local(datetime(2024, 6, 1, 12), SP)
    with pytest.raises(ValueError, match="unknown timezone"):
        to_local(datetime(2024, 6, 1, tzinfo=UTC), "Mars/Olympus")


def test_parse_time() -> None:
    assert parse_time("08:30") == time(8, 30)
    assert parse_time(time(9)) == time(9)
    with pytest.raises(ValueError):
        parse_time("25:00")


def test_at_local_pushes_wall_times_out_of_a_dst_gap() -> None:
    # New York springs forward at 02:00 on 2024-03-10; São Paulo did so at midnight on 2018-11-04.
    assert at_local(date(2024, 3, 10), time(2, 30), zone(NY)).isoformat() == "2024-03-10T03:30:00-04:00"
    assert at_local(date(2018, 11, 4), time(0), zone(SP)).isoformat() == "2018-11-04T01:00:00-02:00"
    # Ambiguous 01:30 on the fall-back day is its first occurrence (still daylight time).
    assert at_local(date(2024, 11, 3), time(1, 30), zone(NY)).utcoffset() == timedelta(hours=-4)


class TestQuietHours:
    def test_default_spans_midnight(self) -> None:
        quiet = QuietHours()
        assert quiet.contains(time(22)) and quiet.contains(time(3)) and quiet.contains(time(7, 59))
        assert not quiet.contains(time(8)) and not quiet.contains(time(21, 59))

    def test_same_day_span_and_disabled(self) -> None:
        assert QuietHours(time(1), time(6)).contains(time(5, 59))
        assert not QuietHours(time(1), time(6)).contains(time(6))
        off = QuietHours(time(0), time(0))
        assert not off.enabled and not off.contains(time(3))

    def test_of_parses_strings(self) -> None:
        assert QuietHours.of("23:00", "07:30") == QuietHours(time(23), time(7, 30))

    def test_next_end(self) -> None:
        quiet = QuietHours()
        late = to_local(sp(2024, 5, 6, 23), SP)
        assert quiet.next_end(late) == sp(2024, 5, 7, 8)
        early = to_local(sp(2024, 5, 7, 3), SP)
        assert quiet.next_end(early) == sp(2024, 5, 7, 8)
        daytime = to_local(sp(2024, 5, 7, 15), SP)
        assert quiet.next_end(daytime) == daytime

    def test_next_end_across_spring_forward(self) -> None:
        local = to_local(datetime(2024, 3, 10, 6, 30, tzinfo=UTC), NY)  # 01:30 EST
        assert quiet_end_utc(QuietHours(), local) == datetime(2024, 3, 10, 12, tzinfo=UTC)  # 08:00 EDT

    @settings(max_examples=300)
    @given(instants, st.sampled_from(TZS), st.integers(0, 23), st.integers(0, 23))
    def test_next_end_is_the_first_non_quiet_instant(self, now: datetime, tz: str, a: int, b: int) -> None:
        quiet = QuietHours(time(a), time(b))
        local = to_local(now, tz)
        end = quiet.next_end(local)
        if not quiet.contains(local.time()):
            assert end == local
            return
        assert end > now
        assert end - now <= timedelta(hours=25)
        assert not quiet.contains(to_local(end, tz).time())
        # one minute earlier it was still quiet (unless a DST jump swallowed the end itself)
        before = to_local(end - timedelta(minutes=1), tz)
        if before.utcoffset() == to_local(end, tz).utcoffset():
            assert quiet.contains(before.time())


def quiet_end_utc(quiet: QuietHours, local: datetime) -> datetime:
    return quiet.next_end(local).astimezone(UTC)


class TestScheduleSlots:
    def test_defaults_and_validation(self) -> None:
        slot = ScheduleSlot("mon", MORNING)
        assert slot.span == (time(8), time(12))
        assert ScheduleSlot("mon", EVENING, True, time(19), time(0)).span == (time(19), time(0))
        with pytest.raises(ValueError, match="weekday"):
            ScheduleSlot("monday", MORNING)
        with pytest.raises(ValueError, match="daypart"):
            ScheduleSlot("mon", "night")
        with pytest.raises(ValueError, match="after start"):
            ScheduleSlot("mon", MORNING, True, time(11), time(9))

    def test_coerce_from_dicts_and_objects(self) -> None:
        slot = ScheduleSlot.coerce({"day": "tue", "daypart": AFTERNOON, "enabled": False, "start": "13:15"})
        assert slot == ScheduleSlot("tue", AFTERNOON, False, time(13, 15), None)
        row = SimpleNamespace(day="wed", daypart=EVENING, enabled=True, start=time(18), end=time(21))
        assert ScheduleSlot.coerce(row).span == (time(18), time(21))

    def test_from_day_rows(self) -> None:
        rows = [
            {
                "day": "sun",
                "morning_enabled": True,
                "morning_start": "09:00",
                "morning_end": "11:00",
                "afternoon_enabled": False,
                "afternoon_start": time(12),
                "afternoon_end": time(18),
                "evening_enabled": True,
                "evening_start": time(18),
                "evening_end": time(22),
            }
        ]
        slots = slots_from_day_rows(rows)
        assert [(s.daypart, s.enabled) for s in slots] == [
            (MORNING, True),
            (AFTERNOON, False),
            (EVENING, True),
        ]
        assert slots[0].span == (time(9), time(11))

    def test_slots_for_policy(self) -> None:
        assert len(slots_for(None, None)) == 21
        assert len(slots_for([], [MORNING])) == 7
        chosen = slots_for(["mon", "fri"], [MORNING, AFTERNOON])
        assert {(s.day, s.daypart) for s in chosen} == {(d, p) for d in ("mon", "fri") for p in (MORNING, AFTERNOON)}
        with pytest.raises(ValueError, match="unknown"):
            slots_for(["funday"], None)


class TestScheduleStatus:
    def test_inside_a_window(self) -> None:
        status = schedule_status(slots_for(None, None), sp(2024, 5, 6, 10), SP)  # Monday 10:00
        assert status.open is not None and status.open.daypart == MORNING and status.open.day == "mon"
        assert (status.open.start, status.open.end) == (sp(2024, 5, 6, 8), sp(2024, 5, 6, 12))
        assert status.open.key == "2024-05-06:morning"
        assert status.next_open is not None and status.next_open.start == sp(2024, 5, 6, 12)
        assert status.next_send_at(sp(2024, 5, 6, 10)) == sp(2024, 5, 6, 10)

    def test_at_night_the_next_window_is_tomorrow_morning(self) -> None:
        status = schedule_status(slots_for(None, None), sp(2024, 5, 6, 23), SP)
        assert status.open is None
        assert status.next_open is not None and status.next_open.start == sp(2024, 5, 7, 8)
        assert status.next_send_at(sp(2024, 5, 6, 23)) == sp(2024, 5, 7, 8)

    def test_next_week_and_disabled_slots(self) -> None:
        slots = [
            {"day": "sun", "daypart": MORNING, "enabled": True},
            {"day": "mon", "daypart": MORNING, "enabled": False},
        ]
        status = schedule_status(slots, sp(2024, 5, 5, 13), SP)  # Sunday afternoon
        assert status.open is None
        assert status.next_open is not None and status.next_open.start == sp(2024, 5, 12, 8)

    def test_empty_schedule(self) -> None:
        status = schedule_status([], sp(2024, 5, 5, 13), SP)
        assert status == schedule_status([{"day": "sun", "daypart": MORNING, "enabled": False}], sp(2024, 5, 5), SP)
        assert status.open is None and status.next_open is None
        assert status.next_send_at(sp(2024, 5, 5, 13)) is None

    def test_window_on_a_dst_day(self) -> None:
        slots = [ScheduleSlot("sun", MORNING, True, time(1), time(4))]
        now = datetime(2024, 3, 10, 6, 30, tzinfo=UTC)  # 01:30 EST
        status = schedule_status(slots, now, NY)
        assert status.open is not None
        assert status.open.end.astimezone(UTC) - status.open.start.astimezone(UTC) == timedelta(hours=2)

    def test_window_until_midnight(self) -> None:
        slots = [ScheduleSlot("mon", EVENING, True, time(20), time(0))]
        status = schedule_status(slots, sp(2024, 5, 6, 23, 59), SP)
        assert status.open is not None and status.open.end == sp(2024, 5, 7, 0)

    @settings(max_examples=200)
    @given(instants, st.sampled_from(TZS))
    def test_full_grid_is_open_exactly_during_dayparts(self, now: datetime, tz: str) -> None:
        status = schedule_status(slots_for(None, None), now, tz)
        local = to_local(now, tz)
        assert (status.open is not None) == (daypart_at(local.time()) is not None)
        if status.open is not None:
            assert status.open.daypart == daypart_at(local.time())
            assert status.open.start <= now < status.open.end
        assert status.next_open is not None and status.next_open.start > now
        assert status.next_open.start - now <= timedelta(hours=15)  # evening start -> next morning

    @settings(max_examples=150)
    @given(
        instants,
        st.sampled_from(TZS),
        st.lists(st.tuples(st.sampled_from(WEEKDAYS), st.sampled_from(DAYPARTS)), min_size=1, max_size=6),
    )
    def test_next_open_is_the_earliest_later_start(self, now: datetime, tz: str, cells: list[tuple[str, str]]) -> None:
        slots = [ScheduleSlot(d, p) for d, p in cells]
        status = schedule_status(slots, now, tz)
        assert status.next_open is not None
        assert now < status.next_open.start <= now + timedelta(days=8)
        assert (status.next_open.day, status.next_open.daypart) in set(cells)
        assert weekday_code(status.next_open.start) == status.next_open.day


@pytest.mark.parametrize(
    ("hours", "wall", "active"),
    [
        (None, "03:00", True),
        ({}, "03:00", True),
        ({"start": "08:00", "end": "22:00"}, "07:59", False),
        ({"start": "08:00", "end": "22:00"}, "08:00", True),
        ({"start": "08:00", "end": "22:00"}, "21:59", True),
        ({"start": "08:00", "end": "22:00"}, "22:00", False),
        ({"start": "08:00"}, "03:00", True),  # half a setting is no setting
    ],
)
def test_persona_active_hours(hours, wall, active):
    assert within_active_hours(hours, time.fromisoformat(wall)) is active
