"""The weekly schedule grid of a conversation: seven days × three dayparts (morning, afternoon, evening), each
with its window, rounds per window and the pause between rounds; reading, all-or-nothing updates and the window
open now / next, in the tenant's timezone.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass
from datetime import time
from typing import Any

from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.logic.dayparts import DAYPARTS, MIDNIGHT, WEEKDAYS, schedule_status, slots_from_day_rows
from mirage_app.models import Conversation, ConversationSchedule, Tenant, Weekday
from mirage_app.services.conversations.records import load_conversation, mark_changed


@dataclass(frozen=True)
class DayScheduleView:
    day: str
    morning_enabled: bool
    morning_start: str
    morning_end: str
    afternoon_enabled: bool
    afternoon_start: str
    afternoon_end: str
    evening_enabled: bool
    evening_start: str
    evening_end: str
    max_rounds_per_window: int
    pause_min: int
    pause_max: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hhmm(value: time, end: bool = False) -> str:
    if end and value == MIDNIGHT:
        return "24:00"
    return value.strftime("%H:%M")


def _day_view(row: ConversationSchedule) -> DayScheduleView:
    return DayScheduleView(
        day=row.day.value if hasattr(row.day, "value") else str(row.day),
        morning_enabled=row.morning_enabled,
        morning_start=_hhmm(row.morning_start),
        morning_end=_hhmm(row.morning_end, end=True),
        afternoon_enabled=row.afternoon_enabled,
        afternoon_start=_hhmm(row.afternoon_start),
        afternoon_end=_hhmm(row.afternoon_end, end=True),
        evening_enabled=row.evening_enabled,
        evening_start=_hhmm(row.evening_start),
        evening_end=_hhmm(row.evening_end, end=True),
        max_rounds_per_window=row.max_rounds_per_window,
        pause_min=row.pause_between_rounds_min,
        pause_max=row.pause_between_rounds_max,
    )


def get_schedule(actor: Actor, conversation_id: Any) -> list[DayScheduleView]:
    """Seven rows, Sunday first (the grid's order)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        rows = _schedule_rows(s, conv)
        s.commit()
        return [_day_view(rows[d]) for d in WEEKDAYS]


def _schedule_rows(s, conv: Conversation) -> dict[str, ConversationSchedule]:
    rows = {
        (r.day.value if hasattr(r.day, "value") else str(r.day)): r
        for r in s.exec(select(ConversationSchedule).where(ConversationSchedule.conversation_id == conv.id)).all()
    }
    for d in WEEKDAYS:
        if d not in rows:
            rows[d] = ConversationSchedule(tenant_id=conv.tenant_id, conversation_id=conv.id, day=Weekday(d))
            s.add(rows[d])
    return rows


def _parse_clock(value: Any, field: str, *, end: bool) -> time:
    text_value = value.strftime("%H:%M") if isinstance(value, time) else str(value or "").strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", text_value)
    if not m:
        raise ValidationFailed("schedule.time_invalid", field=field)
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24 and minute == 0 and end:
        return MIDNIGHT
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValidationFailed("schedule.time_invalid", field=field)
    return time(hour, minute)


def _whole(value: Any, field: str, low: int, high: int, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(code, field=field)
    return value


def _flatten_day(item: dict[str, Any]) -> dict[str, Any]:
    """Accept the flat DayScheduleView keys or nested {"morning": {"enabled", "start", "end"}, ...}."""
    flat = dict(item)
    for part in DAYPARTS:
        nested = flat.pop(part, None)
        if isinstance(nested, dict):
            for key in ("enabled", "start", "end"):
                if key in nested:
                    flat[f"{part}_{key}"] = nested[key]
    if "pause_between_rounds_min" in flat:
        flat["pause_min"] = flat.pop("pause_between_rounds_min")
    if "pause_between_rounds_max" in flat:
        flat["pause_max"] = flat.pop("pause_between_rounds_max")
    return flat


def set_schedule(
    actor: Actor, conversation_id: Any, days: list[dict[str, Any]], clock: Clock = system_clock
) -> list[DayScheduleView]:
    """Update the days given (each a DayScheduleView-shaped dict, or with nested dayparts); other days keep their
    values. Times are HH:MM from 00:00 to 24:00 (an end of 24:00 = midnight); start < end; the enabled windows of
    a day must not overlap; rounds per window 0–50; pauses up to 1440 minutes with 1 ≤ min ≤ max. All or nothing."""
    authorize(actor, Action.conversations_manage)
    cleaned: dict[str, dict[str, Any]] = {}
    for raw in days:
        item = _flatten_day(raw if isinstance(raw, dict) else {})
        day = str(item.get("day", ""))
        if day not in WEEKDAYS:
            raise ValidationFailed("schedule.day_invalid", field="day", day=day)
        if day in cleaned:
            raise ValidationFailed("schedule.day_duplicate", field=day, day=day)
        cleaned[day] = item
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        rows = _schedule_rows(s, conv)
        before = {d: _day_view(rows[d]).as_dict() for d in cleaned}
        for day, item in cleaned.items():
            _apply_day(rows[day], day, item)
        mark_changed(conv, clock)
        s.add(conv)
        audit.record(
            s,
            actor,
            "conversation.schedule",
            "conversation",
            conv.id,
            before=before,
            after={d: _day_view(rows[d]).as_dict() for d in cleaned},
        )
        s.commit()
        return [_day_view(rows[d]) for d in WEEKDAYS]


def _apply_day(row: ConversationSchedule, day: str, item: dict[str, Any]) -> None:
    windows = []
    for part in DAYPARTS:
        enabled_key, start_key, end_key = f"{part}_enabled", f"{part}_start", f"{part}_end"
        if enabled_key in item:
            if not isinstance(item[enabled_key], bool):
                raise ValidationFailed("schedule.time_invalid", field=f"{day}.{enabled_key}")
            setattr(row, enabled_key, item[enabled_key])
        if start_key in item:
            setattr(row, start_key, _parse_clock(item[start_key], f"{day}.{start_key}", end=False))
        if end_key in item:
            setattr(row, end_key, _parse_clock(item[end_key], f"{day}.{end_key}", end=True))
        start, end = getattr(row, start_key), getattr(row, end_key)
        if end != MIDNIGHT and end <= start:
            raise ValidationFailed("schedule.window_order", field=f"{day}.{end_key}")
        if getattr(row, enabled_key):
            windows.append((start, end, part))
    windows.sort()
    for (_, a_end, _), (b_start, _, b_part) in itertools.pairwise(windows):
        if a_end == MIDNIGHT or a_end > b_start:
            raise ValidationFailed("schedule.overlap", field=f"{day}.{b_part}_start")
    if "max_rounds_per_window" in item:
        row.max_rounds_per_window = _whole(
            item["max_rounds_per_window"], f"{day}.max_rounds_per_window", 0, 50, "schedule.rounds_invalid"
        )
    if "pause_min" in item:  # 0 would start rounds back to back
        row.pause_between_rounds_min = _whole(item["pause_min"], f"{day}.pause_min", 1, 1440, "schedule.pause_zero")
    if "pause_max" in item:
        row.pause_between_rounds_max = _whole(item["pause_max"], f"{day}.pause_max", 0, 1440, "schedule.pause_invalid")
    if row.pause_between_rounds_min > row.pause_between_rounds_max:
        raise ValidationFailed("schedule.pause_order", field=f"{day}.pause_min")


def next_window(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> dict[str, Any]:
    """For the schedule page: the window open now (if any) and the next one, in the tenant's timezone."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        tz = s.get(Tenant, actor.tenant_id).timezone
        rows = [r.model_dump() for r in _schedule_rows(s, conv).values()]
        s.commit()
    status = schedule_status(slots_from_day_rows(rows), clock.now(), tz)

    def describe(w):
        return None if w is None else {"day": w.day, "daypart": w.daypart, "start": w.start, "end": w.end}

    return {"open": describe(status.open), "next": describe(status.next_open), "timezone": tz}
