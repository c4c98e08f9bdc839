"""A conversation's topics: the seed it talks about, an optional system prompt, and the period it is active in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.logic.rounds import pick_topic
from mirage_app.models import Conversation, Round, Topic
from mirage_app.services.conversations.records import load_conversation, parse_uuid


@dataclass(frozen=True)
class TopicView:
    id: uuid.UUID
    seed: str
    system_prompt: str
    active_from: datetime | None
    active_to: datetime | None
    in_period: bool  # within its active period: the rotation may pick it
    active_now: bool  # the one a round starting now would talk about (none while the conversation is paused)


def _in_period(t: Topic, now: datetime) -> bool:
    return (t.active_from is None or t.active_from <= now) and (t.active_to is None or t.active_to > now)


def _topic_views(conv: Conversation, topics: list[Topic], now: datetime) -> list[TopicView]:
    """The scheduler's own choice (same order, same `pick_topic`) marks the topic active now."""
    candidates = [t.id for t in topics if _in_period(t, now)]
    current = pick_topic(candidates, conv.topic_strategy, conv.topic_refresh_minutes, now, conv.id)
    return [
        TopicView(
            t.id,
            t.seed,
            t.system_prompt,
            t.active_from,
            t.active_to,
            in_period=t.id in candidates,
            active_now=conv.active and t.id == current,
        )
        for t in topics
    ]


def _conversation_topics(s, conv: Conversation) -> list[Topic]:
    order = (col(Topic.created_at), col(Topic.id))
    return list(s.exec(select(Topic).where(Topic.conversation_id == conv.id).order_by(*order)).all())


def _view_of(s, topic: Topic, now: datetime) -> TopicView:
    conv = load_conversation(s, topic.conversation_id)
    return next(v for v in _topic_views(conv, _conversation_topics(s, conv), now) if v.id == topic.id)


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
        conv = load_conversation(s, conversation_id, archived_ok=True)
        return _topic_views(conv, _conversation_topics(s, conv), clock.now())


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
        conv = load_conversation(s, conversation_id)
        topic = Topic(tenant_id=actor.tenant_id, conversation_id=conv.id, created_at=clock.now(), **data)
        s.add(topic)
        s.flush()
        audit.record(s, actor, "topic.create", "topic", topic.id, after={"seed": topic.seed})
        s.commit()
        return _view_of(s, topic, clock.now())


def _topic(s, topic_id: Any) -> Topic:
    """The topic, to change or delete: an archived conversation's topics are history (`conversations.archived`)."""
    key = parse_uuid(topic_id)
    topic = s.get(Topic, key) if key else None
    if topic is None:
        raise NotFound("topics.not_found")
    load_conversation(s, topic.conversation_id)
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
        return _view_of(s, topic, clock.now())


def _impact(s, topic: Topic) -> Impact:
    """Rounds that talked about the topic keep their history without it (the database unlinks them)."""
    rounds = s.exec(select(func.count()).select_from(Round).where(Round.topic_id == topic.id)).one()
    return Impact(topic.seed, (Dependent("round", str(rounds), Effect.detached),) if rounds else ())


def topic_impact(actor: Actor, topic_id: Any) -> Impact:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _impact(s, _topic(s, topic_id))


def delete_topic(actor: Actor, topic_id: Any) -> Impact:
    """Delete the topic; the rounds that used it stay, unlinked (see `topic_impact`). Returns what was done."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        topic = _topic(s, topic_id)
        impact = _impact(s, topic)
        s.delete(topic)
        audit.record(s, actor, "topic.delete", "topic", topic.id, before={"seed": topic.seed})
        s.commit()
    return impact
