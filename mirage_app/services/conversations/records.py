"""A conversation's record: its view (`ConversationView`, with today's round counts), create / list / update /
delete, activation (which checks it is ready to run) and the lookups the other conversation modules share. Any
change that affects planning marks the conversation due now, so the scheduler's next tick re-plans with it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import round_state
from mirage_app.logic.caps import local_day_bounds
from mirage_app.logic.dayparts import DAYPARTS, WEEKDAYS
from mirage_app.models import (
    Conversation,
    ConversationMode,
    ConversationParticipant,
    ConversationSchedule,
    ConversationSettings,
    Pairing,
    ParticipantKind,
    Round,
    Tenant,
    Weekday,
)
from mirage_app.services import plan_limits
from mirage_app.services.conversations.groups import check_group_ready, ensure_group

TOPIC_STRATEGIES = ("rotate", "random")
_MODEL_RE = re.compile(r"^[\w.:/-]{1,80}$")


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
    archived: bool = False


def parse_uuid(value: Any) -> uuid.UUID | None:
    """The id as a UUID, or None when it is not one (callers answer "not found")."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def load_conversation(s, conversation_id: Any, *, archived_ok: bool = False) -> Conversation:
    """The conversation, or `NotFound` (another tenant's id looks exactly like a missing one: RLS); an archived one
    only where its history is read (`archived_ok`), else `Conflict("conversations.archived")`."""
    key = parse_uuid(conversation_id)
    conv = s.get(Conversation, key) if key else None
    if conv is None:
        raise NotFound("conversations.not_found")
    if conv.archived_at is not None and not archived_ok:
        raise Conflict("conversations.archived")
    return conv


def mark_changed(conv: Conversation, clock: Clock) -> None:
    """Stamp a change; an active conversation becomes due now, so the next tick re-plans with the new values."""
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


def clean_model(model: Any) -> str:
    model = str(model or "").strip()
    if not _MODEL_RE.match(model):
        raise ValidationFailed("conversations.model_invalid", field="openai_model")
    return model


def clean_temperature(value: Any) -> float:
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


def _conversation_views(s, convs: list[Conversation], clock: Clock) -> list[ConversationView]:
    if not convs:
        return []
    ids = [c.id for c in convs]
    tz = s.get(Tenant, convs[0].tenant_id).timezone
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
                c.archived_at is not None,
            )
        )
    return out


# -- conversations ----------------------------------------------------------------------------------------------


def list_conversations(actor: Actor, clock: Clock = system_clock, archived: bool = False) -> list[ConversationView]:
    """The tenant's conversations; the archived ones instead with `archived=True`."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        archived_at = col(Conversation.archived_at)
        query = select(Conversation).where(archived_at.is_not(None) if archived else archived_at.is_(None))
        convs = list(s.exec(query.order_by(col(Conversation.created_at))).all())
        return _conversation_views(s, convs, clock)


def get_conversation(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> ConversationView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _conversation_views(s, [load_conversation(s, conversation_id, archived_ok=True)], clock)[0]


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
        openai_model=clean_model(openai_model) if openai_model is not None else "gpt-4o-mini",
        temperature=clean_temperature(temperature) if temperature is not None else 0.8,
        topic_strategy=_clean_strategy(topic_strategy),
        topic_refresh_minutes=_clean_refresh(topic_refresh_minutes),
        created_at=clock.now(),
    )
    with tenant_session(actor.tenant_id) as s:
        s.add(conv)
        s.flush()
        s.add_all(_default_schedule(actor.tenant_id, conv.id))
        s.add(ConversationSettings(tenant_id=actor.tenant_id, conversation_id=conv.id))
        ensure_group(s, conv, clock)
        audit.record(s, actor, "conversation.create", "conversation", conv.id, after=_snapshot(conv), clock=clock)
        s.commit()
        return _conversation_views(s, [conv], clock)[0]


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
        "openai_model": clean_model,
        "temperature": clean_temperature,
        "topic_strategy": _clean_strategy,
        "topic_refresh_minutes": _clean_refresh,
    }
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise ValidationFailed("conversations.override_invalid", field=sorted(unknown)[0], name=sorted(unknown)[0])
    clean = {k: cleaners[k](v) for k, v in changes.items()}
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        before = _snapshot(conv)
        for key, value in clean.items():
            setattr(conv, key, value)
        if "mode" in clean:
            ensure_group(s, conv, clock)
            if conv.active:
                _check_ready(s, conv)
        mark_changed(conv, clock)
        s.add(conv)
        audit.record(s, actor, "conversation.update", "conversation", conv.id, before=before, after=_snapshot(conv))
        s.commit()
        return _conversation_views(s, [conv], clock)[0]


def _check_ready(s, conv: Conversation, leaving: ConversationParticipant | None = None) -> None:
    """Whether the conversation can run; `leaving`: as it would be without that participant (and its pairings)."""
    people = s.exec(select(ConversationParticipant).where(ConversationParticipant.conversation_id == conv.id)).all()
    if leaving is not None:
        people = [p for p in people if p.id != leaving.id]
    bots = [p for p in people if p.kind == ParticipantKind.bot]
    if len(people) < 2 or not bots:
        raise ValidationFailed("conversations.needs_participants")
    check_group_ready(conv, people)
    if conv.mode == ConversationMode.pair:
        query = select(func.count()).select_from(Pairing).where(Pairing.conversation_id == conv.id)
        if leaving is not None and leaving.number_id is not None:
            query = query.where(Pairing.number_a_id != leaving.number_id, Pairing.number_b_id != leaving.number_id)
        pairs = s.exec(query).one()
        if not pairs and len(people) % 2:
            raise ValidationFailed("conversations.pair_needs_pairs", field="mode")
    rows = s.exec(select(ConversationSchedule).where(ConversationSchedule.conversation_id == conv.id)).all()
    if not any(getattr(r, f"{p}_enabled") for r in rows for p in DAYPARTS):
        raise ValidationFailed("conversations.needs_schedule")


def stop(s, conv: Conversation, clock: Clock) -> None:
    """Switch scheduling off: a running round is aborted and its unsent turns are dropped."""
    conv.active, conv.next_due_at, conv.updated_at = False, None, clock.now()
    s.add(conv)
    s.flush()
    for rid in s.exec(select(Round.id).where(Round.conversation_id == conv.id, Round.state == "running")).all():
        round_state.abort(s, rid, "deactivated", clock.now())


def is_ready(s, conv: Conversation, leaving: ConversationParticipant | None = None) -> bool:
    try:
        _check_ready(s, conv, leaving)
    except ValidationFailed:
        return False
    return True


def activate(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> ConversationView:
    """Start scheduling: the next tick plans the first round if a window is open."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        if not conv.active:
            plan_limits.ensure_room(s, "active_conversations", clock=clock)
        _check_ready(s, conv)
        ensure_group(s, conv, clock)  # a group whose creation failed is tried again
        conv.active = True
        mark_changed(conv, clock)
        s.add(conv)
        audit.record(s, actor, "conversation.activate", "conversation", conv.id, after={"active": True})
        s.commit()
        return _conversation_views(s, [conv], clock)[0]


def deactivate(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> ConversationView:
    """Stop scheduling; a running round is aborted and its unsent turns are dropped."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        stop(s, conv, clock)
        audit.record(s, actor, "conversation.deactivate", "conversation", conv.id, after={"active": False})
        s.commit()
        return _conversation_views(s, [conv], clock)[0]


def _impact(s, conv: Conversation) -> Impact:
    """A conversation with rounds or messages is archived, not erased: it stops (an active one is switched off),
    leaves the main list, and its rounds and messages stay readable. One without history is deleted with its
    schedule, participants and topics (active or not: nothing else depends on it)."""
    rounds, messages = s.execute(
        text(
            "SELECT (SELECT count(*) FROM rounds WHERE conversation_id = :c), "
            "(SELECT count(*) FROM messages WHERE conversation_id = :c)"
        ),
        {"c": conv.id},
    ).one()
    dependents = []
    if rounds:
        dependents.append(Dependent("round", str(rounds), Effect.kept))
    if messages:
        dependents.append(Dependent("message", str(messages), Effect.kept))
    return Impact(conv.name, tuple(dependents), archive=bool(rounds or messages))


def conversation_impact(actor: Actor, conversation_id: Any) -> Impact:
    """What deleting the conversation would do (see `_impact`), for the confirmation dialog."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _impact(s, load_conversation(s, conversation_id))


def delete_conversation(actor: Actor, conversation_id: Any, clock: Clock = system_clock) -> Impact:
    """Delete it, or archive it when it has history (the rule of `_impact`, applied again here); returns what was
    done."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        impact = _impact(s, conv)
        before = _snapshot(conv)
        if impact.archive:
            stop(s, conv, clock)
            conv.archived_at = clock.now()
            s.add(conv)
            audit.record(s, actor, "conversation.archive", "conversation", conv.id, before=before)
        else:
            s.delete(conv)
            audit.record(s, actor, "conversation.delete", "conversation", conv.id, before=before)
        s.commit()
        return impact
