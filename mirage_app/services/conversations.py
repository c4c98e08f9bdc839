"""Warming conversations: CRUD, activation, per-conversation overrides, the weekly 7×3 schedule, participants
(numbers and optional consenting contacts, start order, pairings for pair mode) and topics.

Every function takes the acting `Actor`, authorizes (`conversations.manage` to change, `data.read` to look),
validates into `ValidationFailed(code, field=...)` and audits. Any change that affects planning sets the
conversation due now, so the scheduler's next tick re-plans with the new values.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import round_state
from mirage_app.engine.effective_settings import effective
from mirage_app.engine.llm import reply_source
from mirage_app.logic.dayparts import DAYPARTS, MIDNIGHT, WEEKDAYS, schedule_status, slots_from_day_rows
from mirage_app.models import (
    Contact,
    Conversation,
    ConversationMode,
    ConversationParticipant,
    ConversationSchedule,
    ConversationSettings,
    Number,
    Pairing,
    ParticipantKind,
    Round,
    Tenant,
    TenantSettings,
    Topic,
    Weekday,
)
from mirage_app.services.tenant_settings import safety_raises

TOPIC_STRATEGIES = ("rotate", "random")
# Pairings follow the participants' start order (the scheduler walks them in this order, too).
PAIRING_ORDER = (
    "(SELECT min(x.start_order) FROM conversation_participants x WHERE x.conversation_id = p.conversation_id "
    "AND x.number_id = p.number_a_id), (SELECT min(x.start_order) FROM conversation_participants x "
    "WHERE x.conversation_id = p.conversation_id AND x.number_id = p.number_b_id), p.id"
)
_MODEL_RE = re.compile(r"^[\w.:/-]{1,80}$")
OVERRIDE_FIELDS = (
    "min_delay_s",
    "max_delay_s",
    "hourly_burst_limit",
    "humanize",
    "allow_bot_to_bot",
    "guard_no_echo",
    "openai_model",
    "temperature",
)


# -- views ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationView:
    id: uuid.UUID
    name: str
    mode: str
    active: bool
    openai_model: str
    temperature: float
    topic_strategy: str
    topic_refresh_minutes: int
    participants: int
    running_round: bool
    rounds_today: int
    last_round_at: datetime | None
    next_due_at: datetime | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConversationSettingsView:
    overrides: dict  # OVERRIDE_FIELDS → value or None ("tenant default")
    effective: dict  # what the engine applies
    reply_source: str  # "offline" or "openai:<host>"


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


@dataclass(frozen=True)
class ParticipantView:
    id: uuid.UUID
    kind: str  # bot | human
    number_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    label: str
    wa_number: str | None
    status: str  # number status, or the contact's consent status
    role: str
    start_order: int


@dataclass(frozen=True)
class PairingView:
    id: uuid.UUID
    number_a_id: uuid.UUID
    number_b_id: uuid.UUID
    label_a: str
    label_b: str


@dataclass(frozen=True)
class TopicView:
    id: uuid.UUID
    seed: str
    system_prompt: str
    active_from: datetime | None
    active_to: datetime | None
    active_now: bool


@dataclass(frozen=True)
class RoundView:
    id: uuid.UUID
    state: str
    planned_turns: int
    turns_done: int
    window_key: str
    speakers: list[str]
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None


# -- helpers ----------------------------------------------------------------------------------------------------


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _conversation(s, conversation_id: Any) -> Conversation:
    key = _uuid(conversation_id)
    conv = s.get(Conversation, key) if key else None
    if conv is None:
        raise NotFound("conversations.not_found")
    return conv


def _touch(conv: Conversation, clock: Clock) -> None:
    conv.updated_at = clock.now()
    if conv.active:
        conv.next_due_at = clock.now()


def _clean_name(name: Any) -> str:
    name = str(name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationFailed("conversations.name_required", field="name")
    return name


def _clean_mode(mode: Any) -> ConversationMode:
    try:
        return ConversationMode(str(mode))
    except ValueError:
        raise ValidationFailed("conversations.mode_invalid", field="mode") from None


def _clean_model(model: Any) -> str:
    model = str(model or "").strip()
    if not _MODEL_RE.match(model):
        raise ValidationFailed("conversations.model_invalid", field="openai_model")
    return model


def _clean_temperature(value: Any) -> float:
    if isinstance(value, bool):
        raise ValidationFailed("conversations.temperature_invalid", field="temperature")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed("conversations.temperature_invalid", field="temperature") from None
    if not 0.0 <= number <= 2.0:
        raise ValidationFailed("conversations.temperature_invalid", field="temperature")
    return number


def _snapshot(conv: Conversation) -> dict[str, Any]:
    return {
        "name": conv.name,
        "mode": conv.mode.value if hasattr(conv.mode, "value") else conv.mode,
        "active": conv.active,
        "openai_model": conv.openai_model,
        "temperature": conv.temperature,
        "topic_strategy": conv.topic_strategy,
        "topic_refresh_minutes": conv.topic_refresh_minutes,
    }


def _views(s, convs: list[Conversation], clock: Clock) -> list[ConversationView]:
    if not convs:
        return []
    ids = [c.id for c in convs]
    tz = s.get(Tenant, convs[0].tenant_id).timezone
    from mirage_app.logic.caps import local_day_bounds

    day_start, _ = local_day_bounds(clock.now(), tz)
    counts = {
        r.conversation_id: r
        for r in s.execute(
            text(
                "SELECT c.id AS conversation_id, "
                "(SELECT count(*) FROM conversation_participants p WHERE p.conversation_id = c.id) AS participants, "
                "(SELECT count(*) FROM rounds r WHERE r.conversation_id = c.id AND r.started_at >= :day) AS today, "
                "(SELECT max(r.started_at) FROM rounds r WHERE r.conversation_id = c.id) AS last_round, "
                "EXISTS (SELECT 1 FROM rounds r WHERE r.conversation_id = c.id AND r.state = 'running') AS running "
                "FROM conversations c WHERE c.id = ANY(:ids)"
            ),
            {"ids": ids, "day": day_start},
        )
    }
    out = []
    for c in convs:
        r = counts[c.id]
        out.append(
            ConversationView(
                c.id,
                c.name,
                c.mode.value if hasattr(c.mode, "value") else str(c.mode),
                c.active,
                c.openai_model,
                c.temperature,
                c.topic_strategy,
                c.topic_refresh_minutes,
                r.participants,
                r.running,
                r.today,
                r.last_round,
                c.next_due_at,
                c.created_at,
            )
        )
    return out


# -- conversations ----------------------------------------------------------------------------------------------


def list_conversations(actor: Actor, clock: Clock = system_clock) -> list[ConversationView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        convs = list(s.exec(select(Conversation).order_by(col(Conversation.created_at))).all())
        return _views(s, convs, clock)


def get_conversation(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> ConversationView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _views(s, [_conversation(s, conversation_id)], clock)[0]


def _default_schedule(tenant_id: uuid.UUID, conversation_id: uuid.UUID) -> list[ConversationSchedule]:
    return [
        ConversationSchedule(tenant_id=tenant_id, conversation_id=conversation_id, day=Weekday(d)) for d in WEEKDAYS
    ]


def create_conversation(
    actor: Actor,
    name: str,
    mode: str = "pair",
    *,
    openai_model: str | None = None,
    temperature: float | None = None,
    topic_strategy: str = "rotate",
    topic_refresh_minutes: int = 120,
    clock: Clock = system_clock,
) -> ConversationView:
    """A new, inactive conversation with the default weekly schedule and no overrides."""
    authorize(actor, Action.conversations_manage)
    conv = Conversation(
        tenant_id=actor.tenant_id,
        name=_clean_name(name),
        mode=_clean_mode(mode),
        openai_model=_clean_model(openai_model) if openai_model is not None else "gpt-4o-mini",
        temperature=_clean_temperature(temperature) if temperature is not None else 0.8,
        topic_strategy=_clean_strategy(topic_strategy),
        topic_refresh_minutes=_clean_refresh(topic_refresh_minutes),
        created_at=clock.now(),
    )
    with tenant_session(actor.tenant_id) as s:
        s.add(conv)
        s.flush()
        s.add_all(_default_schedule(actor.tenant_id, conv.id))
        s.add(ConversationSettings(tenant_id=actor.tenant_id, conversation_id=conv.id))
        audit.record(s, actor, "conversation.create", "conversation", conv.id, after=_snapshot(conv), clock=clock)
        s.commit()
        return _views(s, [conv], clock)[0]


def _clean_strategy(value: Any) -> str:
    if value not in TOPIC_STRATEGIES:
        raise ValidationFailed("conversations.topic_strategy_invalid", field="topic_strategy")
    return str(value)


def _clean_refresh(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10080:
        raise ValidationFailed("conversations.refresh_invalid", field="topic_refresh_minutes")
    return value


def update_conversation(actor: Actor, conversation_id: Any, clock: Clock = system_clock, **changes: Any):
    """Change name, mode, openai_model, temperature, topic_strategy and/or topic_refresh_minutes."""
    authorize(actor, Action.conversations_manage)
    cleaners = {
        "name": _clean_name,
        "mode": _clean_mode,
        "openai_model": _clean_model,
        "temperature": _clean_temperature,
        "topic_strategy": _clean_strategy,
        "topic_refresh_minutes": _clean_refresh,
    }
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise ValidationFailed("conversations.override_invalid", field=sorted(unknown)[0], name=sorted(unknown)[0])
    clean = {k: cleaners[k](v) for k, v in changes.items()}
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        before = _snapshot(conv)
        for key, value in clean.items():
            setattr(conv, key, value)
        if "mode" in clean and conv.active:
            _check_ready(s, conv)
        _touch(conv, clock)
        s.add(conv)
        audit.record(s, actor, "conversation.update", "conversation", conv.id, before=before, after=_snapshot(conv))
        s.commit()
        return _views(s, [conv], clock)[0]


def _check_ready(s, conv: Conversation) -> None:
    people = s.exec(select(ConversationParticipant).where(ConversationParticipant.conversation_id == conv.id)).all()
    bots = [p for p in people if p.kind == ParticipantKind.bot]
    if len(people) < 2 or not bots:
        raise ValidationFailed("conversations.needs_participants")
    if conv.mode == ConversationMode.pair:
        pairs = s.exec(select(func.count()).select_from(Pairing).where(Pairing.conversation_id == conv.id)).one()
        if not pairs and len(people) % 2:
            raise ValidationFailed("conversations.pair_needs_pairs", field="mode")
    rows = s.exec(select(ConversationSchedule).where(ConversationSchedule.conversation_id == conv.id)).all()
    if not any(getattr(r, f"{p}_enabled") for r in rows for p in DAYPARTS):
        raise ValidationFailed("conversations.needs_schedule")


def activate(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> ConversationView:
    """Start scheduling: the next tick plans the first round if a window is open."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        _check_ready(s, conv)
        conv.active = True
        _touch(conv, clock)
        s.add(conv)
        audit.record(s, actor, "conversation.activate", "conversation", conv.id, after={"active": True})
        s.commit()
        return _views(s, [conv], clock)[0]


def deactivate(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> ConversationView:
    """Stop scheduling; a running round is aborted and its unsent turns are dropped."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        conv.active, conv.next_due_at, conv.updated_at = False, None, clock.now()
        s.add(conv)
        s.flush()
        for rid in s.exec(select(Round.id).where(Round.conversation_id == conv.id, Round.state == "running")).all():
            round_state.abort(s, rid, "deactivated", clock.now())
        audit.record(s, actor, "conversation.deactivate", "conversation", conv.id, after={"active": False})
        s.commit()
        return _views(s, [conv], clock)[0]


def delete_conversation(actor: Actor, conversation_id: Any) -> None:
    """Delete it with its schedule, participants, topics and rounds; its messages stay (unlinked)."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        before = _snapshot(conv)
        s.delete(conv)
        audit.record(s, actor, "conversation.delete", "conversation", conv.id, before=before)
        s.commit()


# -- settings overrides -----------------------------------------------------------------------------------------


def _settings_row(s, conv: Conversation) -> ConversationSettings:
    row = s.exec(select(ConversationSettings).where(ConversationSettings.conversation_id == conv.id)).first()
    if row is None:
        row = ConversationSettings(tenant_id=conv.tenant_id, conversation_id=conv.id)
        s.add(row)
        s.flush()
    return row


def _overrides(conv: Conversation, row: ConversationSettings) -> dict[str, Any]:
    return {
        "min_delay_s": row.min_delay_s,
        "max_delay_s": row.max_delay_s,
        "hourly_burst_limit": row.hourly_burst_limit,
        "humanize": row.humanize,
        "allow_bot_to_bot": row.allow_bot_to_bot,
        "guard_no_echo": row.guard_no_echo,
        "openai_model": conv.openai_model,
        "temperature": conv.temperature,
    }


def _effective_dict(tenant_row: TenantSettings | None, row: ConversationSettings | None) -> dict[str, Any]:
    eff = effective(tenant_row, row)
    return {
        "min_delay_s": eff.min_delay_s,
        "max_delay_s": eff.max_delay_s,
        "hourly_burst_limit": eff.hourly_burst_limit,
        "humanize": eff.humanize,
        "allow_bot_to_bot": eff.allow_bot_to_bot,
        "guard_no_echo": eff.guard_no_echo,
    }


def get_settings(actor: Actor, conversation_id: Any) -> ConversationSettingsView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        row = _settings_row(s, conv)
        tenant_row = s.exec(select(TenantSettings)).first()
        eff = _effective_dict(tenant_row, row) | {"openai_model": conv.openai_model, "temperature": conv.temperature}
        view = ConversationSettingsView(_overrides(conv, row), eff, reply_source())
        s.commit()
        return view


def _clean_override(key: str, value: Any) -> Any:
    if value is None:
        if key in ("guard_no_echo", "openai_model", "temperature"):
            raise ValidationFailed("conversations.override_invalid", field=key, name=key)
        return None
    if key in ("humanize", "allow_bot_to_bot", "guard_no_echo"):
        if not isinstance(value, bool):
            raise ValidationFailed("conversations.override_invalid", field=key, name=key)
        return value
    if key == "openai_model":
        return _clean_model(value)
    if key == "temperature":
        return _clean_temperature(value)
    limits = {"min_delay_s": (0, 3600), "max_delay_s": (0, 86400), "hourly_burst_limit": (1, 1000)}
    low, high = limits[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed("conversations.override_invalid", field=key, name=key)
    return value


def set_settings(actor: Actor, conversation_id: Any, clock: Clock = system_clock, **changes: Any):
    """Set overrides (None = back to the tenant default). Making pacing less safe than what applies now (shorter
    delays, humanising off) needs `settings.safety_limits_raise` (admin with MFA)."""
    authorize(actor, Action.conversations_manage)
    unknown = set(changes) - set(OVERRIDE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("conversations.override_invalid", field=name, name=name)
    clean = {k: _clean_override(k, v) for k, v in changes.items()}
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        row = _settings_row(s, conv)
        tenant_row = s.exec(select(TenantSettings)).first()
        before_overrides = _overrides(conv, row)
        before_effective = _effective_dict(tenant_row, row)
        for key, value in clean.items():
            if key in ("openai_model", "temperature"):
                setattr(conv, key, value)
            else:
                setattr(row, key, value)
        min_d = row.min_delay_s if row.min_delay_s is not None else before_effective["min_delay_s"]
        max_d = row.max_delay_s if row.max_delay_s is not None else before_effective["max_delay_s"]
        if min_d > max_d:
            raise ValidationFailed("settings.delay_order", field="min_delay_s")
        after_effective = _effective_dict(tenant_row, row)
        if safety_raises(before_effective, after_effective):
            authorize(actor, Action.settings_safety_limits_raise)
        _touch(conv, clock)
        s.add(row)
        s.add(conv)
        audit.record(
            s,
            actor,
            "conversation.settings",
            "conversation",
            conv.id,
            before=before_overrides,
            after=_overrides(conv, row),
        )
        s.commit()
        eff = after_effective | {"openai_model": conv.openai_model, "temperature": conv.temperature}
        return ConversationSettingsView(_overrides(conv, row), eff, reply_source())


# -- schedule ---------------------------------------------------------------------------------------------------


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
        conv = _conversation(s, conversation_id)
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
    a day must not overlap; rounds per window 0–50; pauses 0–1440 minutes with min ≤ max. All or nothing."""
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
        conv = _conversation(s, conversation_id)
        rows = _schedule_rows(s, conv)
        before = {d: _day_view(rows[d]).as_dict() for d in cleaned}
        for day, item in cleaned.items():
            _apply_day(rows[day], day, item)
        _touch(conv, clock)
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
    if "pause_min" in item:
        row.pause_between_rounds_min = _whole(item["pause_min"], f"{day}.pause_min", 0, 1440, "schedule.pause_invalid")
    if "pause_max" in item:
        row.pause_between_rounds_max = _whole(item["pause_max"], f"{day}.pause_max", 0, 1440, "schedule.pause_invalid")
    if row.pause_between_rounds_min > row.pause_between_rounds_max:
        raise ValidationFailed("schedule.pause_order", field=f"{day}.pause_min")


def next_window(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> dict[str, Any]:
    """For the schedule page: the window open now (if any) and the next one, in the tenant's timezone."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        tz = s.get(Tenant, actor.tenant_id).timezone
        rows = [r.model_dump() for r in _schedule_rows(s, conv).values()]
        s.commit()
    status = schedule_status(slots_from_day_rows(rows), clock.now(), tz)

    def describe(w):
        return None if w is None else {"day": w.day, "daypart": w.daypart, "start": w.start, "end": w.end}

    return {"open": describe(status.open), "next": describe(status.next_open), "timezone": tz}


# -- participants and pairings ----------------------------------------------------------------------------------


def list_participants(actor: Actor, conversation_id: Any) -> list[ParticipantView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        return _participants(s, conv.id)


def _participants(s, conversation_id: uuid.UUID) -> list[ParticipantView]:
    rows = s.execute(
        text(
            "SELECT p.id, p.kind::text AS kind, p.number_id, p.contact_id, p.role, p.start_order, "
            "COALESCE(n.label, c.display_name, c.wa_number, '') AS label, COALESCE(n.wa_number, c.wa_number) AS wa, "
            "COALESCE(n.status::text, c.consent_status::text, '') AS status "
            "FROM conversation_participants p LEFT JOIN numbers n ON n.id = p.number_id "
            "LEFT JOIN contacts c ON c.id = p.contact_id WHERE p.conversation_id = :c ORDER BY p.start_order, p.id"
        ),
        {"c": conversation_id},
    ).all()
    return [
        ParticipantView(r.id, r.kind, r.number_id, r.contact_id, r.label, r.wa, r.status, r.role, r.start_order)
        for r in rows
    ]


def add_participant(
    actor: Actor,
    conversation_id: Any,
    *,
    number_id: Any = None,
    contact_id: Any = None,
    role: str = "member",
    start_order: int | None = None,
    clock: Clock = system_clock,
) -> ParticipantView:
    """Add one of our numbers (a bot) or a consenting contact (a human); appended unless `start_order` says."""
    authorize(actor, Action.conversations_manage)
    if (number_id is None) == (contact_id is None):
        raise ValidationFailed("participants.one_of", field="number_id")
    role = str(role or "member").strip()[:40] or "member"
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        if number_id is not None:
            key = _uuid(number_id)
            if key is None or s.get(Number, key) is None:
                raise NotFound("instances.not_found", field="number_id")
            dup = ConversationParticipant.number_id == key
            kind = ParticipantKind.bot
        else:
            key = _uuid(contact_id)
            contact = s.get(Contact, key) if key else None
            if contact is None:
                raise NotFound("contacts.not_found", field="contact_id")
            if str(contact.consent_status) != "granted" or contact.opted_out_at is not None:
                raise ValidationFailed("participants.no_consent", field="contact_id")
            dup = ConversationParticipant.contact_id == key
            kind = ParticipantKind.human
        if s.exec(
            select(ConversationParticipant.id).where(ConversationParticipant.conversation_id == conv.id, dup)
        ).first():
            raise Conflict("participants.duplicate", field="number_id" if number_id is not None else "contact_id")
        if start_order is None:
            current = s.exec(
                select(func.max(ConversationParticipant.start_order)).where(
                    ConversationParticipant.conversation_id == conv.id
                )
            ).one()
            start_order = 0 if current is None else current + 1
        elif isinstance(start_order, bool) or not isinstance(start_order, int) or start_order < 0:
            raise ValidationFailed("participants.order_invalid", field="start_order")
        p = ConversationParticipant(
            tenant_id=actor.tenant_id,
            conversation_id=conv.id,
            kind=kind,
            number_id=key if kind == ParticipantKind.bot else None,
            contact_id=key if kind == ParticipantKind.human else None,
            role=role,
            start_order=start_order,
        )
        s.add(p)
        _touch(conv, clock)
        s.add(conv)
        s.flush()
        audit.record(
            s, actor, "conversation.participant_add", "conversation", conv.id,
            after={"participant": str(p.id), "kind": kind.value, "ref": str(key)},
        )  # fmt: skip
        s.commit()
        return next(v for v in _participants(s, conv.id) if v.id == p.id)


def remove_participant(actor: Actor, conversation_id: Any, participant_id: Any, clock: Clock = system_clock) -> None:
    """Remove a participant (and any pairing of that number in this conversation)."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        key = _uuid(participant_id)
        p = s.get(ConversationParticipant, key) if key else None
        if p is None or p.conversation_id != conv.id:
            raise NotFound("participants.not_found")
        if p.number_id is not None:
            for pairing in s.exec(
                select(Pairing).where(
                    Pairing.conversation_id == conv.id,
                    (Pairing.number_a_id == p.number_id) | (Pairing.number_b_id == p.number_id),
                )
            ).all():
                s.delete(pairing)
        s.delete(p)
        _touch(conv, clock)
        s.add(conv)
        audit.record(
            s, actor, "conversation.participant_remove", "conversation", conv.id, before={"participant": str(p.id)}
        )
        s.commit()


def reorder_participants(actor: Actor, conversation_id: Any, participant_ids: list[Any], clock: Clock = system_clock):
    """Set the start order: `participant_ids` lists every participant once, first speaker first."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        people = {
            p.id: p
            for p in s.exec(
                select(ConversationParticipant).where(ConversationParticipant.conversation_id == conv.id)
            ).all()
        }
        order = [_uuid(x) for x in participant_ids]
        if len(order) != len(people) or set(order) != set(people):
            raise ValidationFailed("participants.order_invalid", field="participant_ids")
        for index, pid in enumerate(order):
            people[pid].start_order = index
            s.add(people[pid])
        _touch(conv, clock)
        s.add(conv)
        audit.record(
            s,
            actor,
            "conversation.participant_order",
            "conversation",
            conv.id,
            after={"order": [str(x) for x in order]},
        )
        s.commit()
        return _participants(s, conv.id)


def list_pairings(actor: Actor, conversation_id: Any) -> list[PairingView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        return _pairings(s, conv.id)


def _pairings(s, conversation_id: uuid.UUID) -> list[PairingView]:
    rows = s.execute(
        text(
            "SELECT p.id, p.number_a_id, p.number_b_id, a.label AS la, b.label AS lb FROM pairings p "
            "JOIN numbers a ON a.id = p.number_a_id JOIN numbers b ON b.id = p.number_b_id "
            f"WHERE p.conversation_id = :c ORDER BY {PAIRING_ORDER}"
        ),
        {"c": conversation_id},
    ).all()
    return [PairingView(r.id, r.number_a_id, r.number_b_id, r.la, r.lb) for r in rows]


def set_pairings(
    actor: Actor, conversation_id: Any, pairs: list[tuple[Any, Any]], clock: Clock = system_clock
) -> list[PairingView]:
    """Replace the pairings (pair mode): each pair is two different numbers that are participants; the first of a
    pair opens the first round, then they alternate."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        members = set(
            s.exec(
                select(ConversationParticipant.number_id).where(
                    ConversationParticipant.conversation_id == conv.id,
                    col(ConversationParticipant.number_id).is_not(None),
                )
            ).all()
        )
        seen = set()
        clean = []
        for index, pair in enumerate(pairs):
            try:
                a, b = (_uuid(x) for x in pair)
            except (TypeError, ValueError):
                raise ValidationFailed("pairings.invalid", field=f"pairs.{index}") from None
            if a is None or b is None or a == b or a not in members or b not in members:
                raise ValidationFailed("pairings.invalid", field=f"pairs.{index}")
            if frozenset((a, b)) in seen:
                raise ValidationFailed("pairings.duplicate", field=f"pairs.{index}")
            seen.add(frozenset((a, b)))
            clean.append((a, b))
        before = [(str(p.number_a_id), str(p.number_b_id)) for p in _pairings(s, conv.id)]
        for old in s.exec(select(Pairing).where(Pairing.conversation_id == conv.id)).all():
            s.delete(old)
        s.flush()
        for a, b in clean:
            s.add(Pairing(tenant_id=actor.tenant_id, conversation_id=conv.id, number_a_id=a, number_b_id=b))
        conv.round_cursor = 0
        _touch(conv, clock)
        s.add(conv)
        audit.record(
            s, actor, "conversation.pairings", "conversation", conv.id,
            before={"pairs": before}, after={"pairs": [(str(a), str(b)) for a, b in clean]},
        )  # fmt: skip
        s.commit()
        return _pairings(s, conv.id)


# -- topics -----------------------------------------------------------------------------------------------------


def _topic_view(t: Topic, now: datetime) -> TopicView:
    active = (t.active_from is None or t.active_from <= now) and (t.active_to is None or t.active_to > now)
    return TopicView(t.id, t.seed, t.system_prompt, t.active_from, t.active_to, active)


def _clean_topic(data: dict[str, Any], partial: bool, current: Topic | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "seed" in data or not partial:
        seed = str(data.get("seed") or "").strip()
        if not 1 <= len(seed) <= 500:
            raise ValidationFailed("topics.seed_required", field="seed")
        out["seed"] = seed
    if "system_prompt" in data:
        prompt = str(data["system_prompt"] or "").strip()
        if len(prompt) > 4000:
            raise ValidationFailed("topics.prompt_too_long", field="system_prompt")
        out["system_prompt"] = prompt
    for key in ("active_from", "active_to"):
        if key in data:
            value = data[key]
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise ValidationFailed("topics.period_invalid", field=key)
            out[key] = value
    start = out.get("active_from", current.active_from if current else None)
    end = out.get("active_to", current.active_to if current else None)
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("topics.period_invalid", field="active_to")
    return out


def list_topics(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> list[TopicView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        rows = s.exec(select(Topic).where(Topic.conversation_id == conv.id).order_by(col(Topic.created_at))).all()
        return [_topic_view(t, clock.now()) for t in rows]


def create_topic(
    actor: Actor,
    conversation_id: Any,
    seed: str,
    system_prompt: str = "",
    active_from: datetime | None = None,
    active_to: datetime | None = None,
    clock: Clock = system_clock,
) -> TopicView:
    authorize(actor, Action.conversations_manage)
    data = _clean_topic(
        {"seed": seed, "system_prompt": system_prompt, "active_from": active_from, "active_to": active_to}, False
    )
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        topic = Topic(tenant_id=actor.tenant_id, conversation_id=conv.id, created_at=clock.now(), **data)
        s.add(topic)
        s.flush()
        audit.record(s, actor, "topic.create", "topic", topic.id, after={"seed": topic.seed})
        s.commit()
        return _topic_view(topic, clock.now())


def _topic(s, topic_id: Any) -> Topic:
    key = _uuid(topic_id)
    topic = s.get(Topic, key) if key else None
    if topic is None:
        raise NotFound("topics.not_found")
    return topic


def update_topic(actor: Actor, topic_id: Any, clock: Clock = system_clock, **changes: Any) -> TopicView:
    """Change seed, system_prompt, active_from and/or active_to (None clears a bound)."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        topic = _topic(s, topic_id)
        data = _clean_topic(changes, True, topic)
        before = {"seed": topic.seed, "system_prompt": topic.system_prompt}
        for key, value in data.items():
            setattr(topic, key, value)
        s.add(topic)
        audit.record(s, actor, "topic.update", "topic", topic.id, before=before, after={"seed": topic.seed})
        s.commit()
        return _topic_view(topic, clock.now())


def delete_topic(actor: Actor, topic_id: Any) -> None:
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        topic = _topic(s, topic_id)
        s.delete(topic)
        audit.record(s, actor, "topic.delete", "topic", topic.id, before={"seed": topic.seed})
        s.commit()


# -- rounds and messages (read-only, for the pages) -------------------------------------------------------------


def list_rounds(actor: Actor, conversation_id: Any, limit: int = 50) -> list[RoundView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        rows = s.exec(
            select(Round)
            .where(Round.conversation_id == conv.id)
            .order_by(col(Round.created_at).desc())
            .limit(max(1, min(limit, 500)))
        ).all()
        return [
            RoundView(
                r.id,
                r.state.value if hasattr(r.state, "value") else str(r.state),
                r.planned_turns,
                r.turns_done,
                r.window_key,
                [str(p.get("label") or p.get("number_id") or p.get("contact_id")) for p in (r.participants or [])],
                r.started_at,
                r.ended_at,
                r.end_reason,
            )
            for r in rows
        ]


def recent_messages(actor: Actor, conversation_id: Any, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first: body, status, who to whom, phase, how the text was made (source, tokens), error."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = _conversation(s, conversation_id)
        rows = s.execute(
            text(
                "SELECT m.id, m.body, m.status::text AS status, m.error, m.created_at, m.sent_at, m.round_id, "
                "m.meta->>'phase' AS phase, m.meta->'llm' AS llm, a.label AS from_label, "
                "COALESCE(b.label, c.display_name, c.wa_number) AS to_label "
                "FROM messages m LEFT JOIN numbers a ON a.id = m.from_number_id "
                "LEFT JOIN numbers b ON b.id = m.to_number_id LEFT JOIN contacts c ON c.id = m.contact_id "
                "WHERE m.conversation_id = :c ORDER BY m.created_at DESC LIMIT :lim"
            ),
            {"c": conv.id, "lim": max(1, min(limit, 500))},
        ).mappings()
        return [dict(r) for r in rows]
