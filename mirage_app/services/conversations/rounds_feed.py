"""Read-only feed of a conversation's rounds and messages for the live panel: recent rounds with their speakers
and progress, and the newest messages with their status and how their text was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.db import tenant_session
from mirage_app.models import Round
from mirage_app.services.conversations.records import load_conversation
from mirage_app.services.message_history import CONVERSATION_SCOPE, MessageItem, load_items


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


def list_rounds(actor: Actor, conversation_id: Any, limit: int = 50) -> list[RoundView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
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


def recent_messages(actor: Actor, conversation_id: Any, limit: int = 100) -> list[MessageItem]:
    """Newest first: what each message shows (services.message_history), its status, who to whom, phase, how the
    text was made, and why a queued one waits."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        return load_items(s, CONVERSATION_SCOPE, conv.id, limit)
