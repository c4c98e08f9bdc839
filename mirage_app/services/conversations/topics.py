"""A conversation's topics: the seed it talks about, an optional system prompt, and the period it is active in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.models import Topic
from mirage_app.services.conversations.records import load_conversation, parse_uuid


@dataclass(frozen=True)
class TopicView:
    id: uuid.UUID
    seed: str
    system_prompt: str
    active_from: datetime | None
    active_to: datetime | None
    active_now: bool


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
        conv = load_conversation(s, conversation_id)
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
        conv = load_conversation(s, conversation_id)
        topic = Topic(tenant_id=actor.tenant_id, conversation_id=conv.id, created_at=clock.now(), **data)
        s.add(topic)
        s.flush()
        audit.record(s, actor, "topic.create", "topic", topic.id, after={"seed": topic.seed})
        s.commit()
        return _topic_view(topic, clock.now())


def _topic(s, topic_id: Any) -> Topic:
    key = parse_uuid(topic_id)
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
