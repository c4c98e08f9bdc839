"""Dayparts, weekday codes, quiet hours and weekly schedule windows in the tenant's own timezone.

Everything here takes the current instant as an aware datetime (never reads the clock). Wall-clock times are
turned into instants with zoneinfo, so DST gaps and overlaps are handled: a wall time that does not exist
(spring forward) is pushed forward by the gap's length (02:30 -> 03:30), an ambiguous one (fall back) means
its first occurrence.
Instants are compared across timezones (Python compares same-tzinfo datetimes by wall time, which is wrong
around a DST overlap), so comparisons below always involve a UTC operand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MORNING = "morning"
AFTERNOON = "afternoon"
EVENING = "evening"
DAYPARTS: tuple[str, ...] = (MORNING, AFTERNOON, EVENING)

WEEKDAYS: tuple[str, ...] = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

DEFAULT_TZ = "America/Sao_Paulo"
MIDNIGHT = time(0, 0)

# Half-open [start, end) windows; an end of 00:00 means "until midnight".
DEFAULT_WINDOWS: Mapping[str, tuple[time, time]] = MappingProxyType(
    {
        MORNING: (time(8, 0), time(12, 0)),
        AFTERNOON: (time(12, 0), time(18, 0)),
        EVENING: (time(18, 0), time(22, 0)),
    }
)


def zone(tz_name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; a ValueError (not a KeyError) for an unknown or malformed name."""
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown timezone: {tz_name!r}") from exc


def _require_aware(dt: datetime, what: str = "datetime") -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


def to_local(now_utc: datetime, tz_name: str) -> datetime:
    """The same instant on the tenant's wall clock."""
    _require_aware(now_utc, "now")
    return now_utc.astimezone(zone(tz_name))


def at_local(day: date, wall: time, tz: tzinfo) -> datetime:
    """The instant the wall clock in `tz` shows `wall` on `day`; a time inside a DST gap is pushed forward."""
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def weekday_code(local_dt: date) -> str:
    """'sun'..'sat' for a local date or datetime (the schedule grid starts on Sunday)."""
    return WEEKDAYS[(local_dt.weekday() + 1) % 7]


def parse_time(value: time | str) -> time:
    """Accept a time or an 'HH:MM[:SS]' string, as stored in JSON settings."""
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    try:
        return time.fromisoformat(value.strip())
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"invalid time of day: {value!r}") from exc


def _in_span(t: time, start: time, end: time) -> bool:
    return t >= start if end == MIDNIGHT else start <= t < end


def within_active_hours(active_hours: Mapping[str, str] | None, local_time: time) -> bool:
    """A persona's active hours (`{"start": "08:00", "end": "22:00"}`, start included, end not) hold this wall time.
    No hours set = always active."""
    if not active_hours or not active_hours.get("start") or not active_hours.get("end"):
        return True
    start, end = parse_time(active_hours["start"]), parse_time(active_hours["end"])
    return _in_span(local_time.replace(tzinfo=None), start, end)


def daypart_at(local_time: time, windows: Mapping[str, tuple[time, time]] = DEFAULT_WINDOWS) -> str | None:
    """The daypart whose window holds this wall time, or None outside every window (night)."""
    t = local_time.replace(tzinfo=None)
    for name in DAYPARTS:
        span = windows.get(name)
        if span is not None and _in_span(t, *span):
            return name
    return None


@dataclass(frozen=True)
class QuietHours:
    """A daily quiet period [start, end) that may span midnight; start == end means no quiet hours."""

    start: time = time(22, 0)
    end: time = time(8, 0)

    @classmethod
    def of(cls, start: time | str, end: time | str) -> QuietHours:
        return cls(parse_time(start), parse_time(end))

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, local_time: time) -> bool:
        t = local_time.replace(tzinfo=None)
        if not self.enabled:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def next_end(self, local_dt: datetime) -> datetime:
        """When the quiet period holding `local_dt` ends; `local_dt` itself when it is not quiet then.

        That is "the earliest moment quiet hours allow sending", which is what callers want for a retry time.
        """
        _require_aware(local_dt, "local_dt")
        if not self.contains(local_dt.time()):
            return local_dt
        tz = local_dt.tzinfo
        assert tz is not None
        candidate = at_local(local_dt.date(), self.end, tz)
        if candidate <= local_dt.astimezone(UTC):
            candidate = at_local(local_dt.date() + timedelta(days=1), self.end, tz)
        return candidate


@dataclass(frozen=True)
class ScheduleSlot:
    """One cell of the weekly grid: a daypart on a weekday with its own window."""

    day: str
    daypart: str
    enabled: bool = True
    start: time | None = None
    end: time | None = None

    def __post_init__(self) -> None:
        if self.day not in WEEKDAYS:
            raise ValueError(f"unknown weekday code: {self.day!r}")
        if self.daypart not in DAYPARTS:
            raise ValueError(f"unknown daypart: {self.daypart!r}")
        start, end = self.span
        if end != MIDNIGHT and end <= start:
            raise ValueError(f"{self.day} {self.daypart}: window end {end} must be after start {start}")

    @property
    def span(self) -> tuple[time, time]:
        default_start, default_end = DEFAULT_WINDOWS[self.daypart]
        return (
            default_start if self.start is None else self.start,
            default_end if self.end is None else self.end,
        )

    @classmethod
    def coerce(cls, obj: object) -> ScheduleSlot:
        """Build from a slot, a dict, or any object with day/daypart/enabled/start/end attributes."""
        if isinstance(obj, ScheduleSlot):
            return obj
        get = _getter(obj)
        start, end = get("start"), get("end")
        return cls(
            day=str(get("day")),
            daypart=str(get("daypart")),
            enabled=bool(get("enabled", True)),
            start=None if start is None else parse_time(start),
            end=None if end is None else parse_time(end),
        )


def _getter(obj: object) -> Callable[..., Any]:
    """Read fields the same way from dicts and from ORM rows / dataclasses."""
    if isinstance(obj, Mapping):
        return obj.get
    return lambda key, default=None: getattr(obj, key, default)


def slots_from_day_rows(rows: Iterable[object]) -> list[ScheduleSlot]:
    """Expand per-day schedule rows (day, morning_enabled, morning_start, morning_end, ...) into slots."""
    slots = []
    for row in rows:
        get = _getter(row)
        for part in DAYPARTS:
            slots.append(
                ScheduleSlot.coerce(
                    {
                        "day": get("day"),
                        "daypart": part,
                        "enabled": bool(get(f"{part}_enabled")),
                        "start": get(f"{part}_start"),
                        "end": get(f"{part}_end"),
                    }
                )
            )
    return slots


def slots_for(
    days: Iterable[str] | None,
    dayparts: Iterable[str] | None,
    windows: Mapping[str, tuple[time, time]] = DEFAULT_WINDOWS,
) -> list[ScheduleSlot]:
    """Slots for an outreach policy's allowed days x dayparts; None or empty means "all" for either."""
    day_set = set(days or WEEKDAYS)
    part_set = set(dayparts or DAYPARTS)
    unknown = (day_set - set(WEEKDAYS)) | (part_set - set(DAYPARTS))
    if unknown:
        raise ValueError(f"unknown day or daypart codes: {sorted(unknown)}")
    return [ScheduleSlot(d, p, True, *windows[p]) for d in WEEKDAYS if d in day_set for p in DAYPARTS if p in part_set]


@dataclass(frozen=True)
class Window:
    """One concrete occurrence of a slot: aware local start/end instants."""

    day: str
    daypart: str
    start: datetime
    end: datetime

    def contains(self, now: datetime) -> bool:
        return self.start <= now.astimezone(UTC) < self.end

    @property
    def key(self) -> str:
        """Stable id of this occurrence (local date + daypart), e.g. for per-window seeds and counters."""
        return f"{self.start.date().isoformat()}:{self.daypart}"


@dataclass(frozen=True)
class ScheduleStatus:
    open: Window | None
    next_open: Window | None

    def next_send_at(self, now: datetime) -> datetime | None:
        """For the UI: now while a window is open, else when the next one opens (None: nothing scheduled)."""
        if self.open is not None:
            return now
        return self.next_open.start if self.next_open is not None else None


def _occurrences(slots: list[ScheduleSlot], tz: tzinfo, first_day: date, days: int) -> list[Window]:
    found = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        code = weekday_code(day)
        for slot in slots:
            if not slot.enabled or slot.day != code:
                continue
            start_t, end_t = slot.span
            start = at_local(day, start_t, tz)
            end_day = day + timedelta(days=1) if end_t == MIDNIGHT else day
            end = at_local(end_day, end_t, tz)
            if start.astimezone(UTC) < end:  # a window swallowed by a DST gap is empty
                found.append(Window(code, slot.daypart, start, end))
    found.sort(key=lambda w: w.start.astimezone(UTC))
    return found


def schedule_status(slots: Iterable[object], now: datetime, tz_name: str) -> ScheduleStatus:
    """The window open at `now` (if any) and the next window that opens strictly after `now`."""
    tz = zone(tz_name)
    local = to_local(now, tz_name)
    coerced = [ScheduleSlot.coerce(s) for s in slots]
    # Yesterday covers nothing today (windows end by midnight), so scanning today + 7 days finds next week's
    # occurrence of today's slot too.
    windows = _occurrences(coerced, tz, local.date(), 8)
    current = next((w for w in windows if w.contains(now)), None)
    upcoming = next((w for w in windows if w.start > now.astimezone(UTC)), None)
    return ScheduleStatus(current, upcoming)
