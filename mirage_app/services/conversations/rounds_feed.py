"""Read-only feed of a conversation's rounds and messages for the live panel: recent rounds with their speakers
and progress, and the newest messages with their status and how their text was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.db import tenant_session
from mirage_app.logic import waits
from mirage_app.models import Round
from mirage_app.services.conversations.records import load_conversation


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


def recent_messages(actor: Actor, conversation_id: Any, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first: body, status, who to whom, phase, how the text was made (source, tokens), error, and why a
    queued one waits (wait_reason, wait_until, send_after: logic.waits.message_line)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        rows = s.execute(
            text(
                "SELECT m.id, m.body, m.status::text AS status, m.error, m.created_at, m.sent_at, m.round_id, "
                "m.wait_reason, m.send_after, m.dispatched_at, m.meta->'plan' AS plan, "
                "m.meta->>'phase' AS phase, m.meta->'llm' AS llm, a.label AS from_label, "
                "COALESCE(b.label, c.display_name, c.wa_number) AS to_label "
                "FROM messages m LEFT JOIN numbers a ON a.id = m.from_number_id "
                "LEFT JOIN numbers b ON b.id = m.to_number_id LEFT JOIN contacts c ON c.id = m.contact_id "
                "WHERE m.conversation_id = :c ORDER BY m.created_at DESC LIMIT :lim"
            ),
            {"c": conv.id, "lim": max(1, min(limit, 500))},
        ).mappings()
        return [
            dict(r, wait_until=waits.message_until(r["wait_reason"], r["send_after"], r["dispatched_at"], r))
            for r in rows
        ]
