"""The messages a page lists (a conversation's live panel, a number's history), each with what it shows: its kind and
file, the reactions it carries, the message it quotes, its corrected text. One statement per page, read under the
tenant's row-level security.

Reaction and edit rows are not items of their own: a reaction is shown on its target (the latest one of each
reacting number or contact; an empty emoji took it back), an edit replaces its target's text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mirage_app.logic import waits

# `{t}` is the table alias: the same scope picks the page's items and the reaction/edit rows that point at them.
CONVERSATION_SCOPE = "{t}.conversation_id = :scope"
NUMBER_SCOPE = "({t}.from_number_id = :scope OR {t}.to_number_id = :scope)"

_SQL = """
WITH page AS (
  SELECT m.id, m.tenant_id, m.wa_msg_id, m.created_at, m.direction::text AS direction, m.kind::text AS kind,
         m.body, m.status::text AS status, m.error, m.from_number_id, m.to_number_id, m.contact_id, m.group_id,
         m.media_id, m.ref_wa_msg_id, m.meta, m.wait_reason, m.send_after, m.dispatched_at
  FROM messages m
  WHERE {page_scope} AND m.kind NOT IN ('reaction', 'edit')
  ORDER BY m.created_at DESC LIMIT :lim
),
pointers AS (
  -- reactions and edits come after their target: the page's time span bounds the rows read
  SELECT r.ref_wa_msg_id, r.kind::text AS kind, r.body, r.created_at,
         COALESCE(r.from_number_id::text, r.contact_id::text, '') AS who
  FROM messages r
  WHERE {pointer_scope} AND r.kind IN ('reaction', 'edit')
    AND r.created_at >= (SELECT min(created_at) FROM page)
    AND r.ref_wa_msg_id IN (SELECT wa_msg_id FROM page WHERE wa_msg_id IS NOT NULL)
),
reactions AS (
  SELECT ref_wa_msg_id, json_agg(body ORDER BY created_at) AS emojis
  FROM (
    SELECT DISTINCT ON (ref_wa_msg_id, who) ref_wa_msg_id, who, body, created_at
    FROM pointers WHERE kind = 'reaction'
    ORDER BY ref_wa_msg_id, who, created_at DESC
  ) latest
  WHERE body <> ''
  GROUP BY ref_wa_msg_id
),
edits AS (
  SELECT DISTINCT ON (ref_wa_msg_id) ref_wa_msg_id, body
  FROM pointers WHERE kind = 'edit'
  ORDER BY ref_wa_msg_id, created_at DESC
)
SELECT p.*, rx.emojis, e.body AS edited_body, q.body AS quoted_body, q.kind::text AS quoted_kind,
       a.label AS from_label, COALESCE(b.label, c.display_name, c.wa_number) AS to_label, g.subject AS group_label,
       ma.duration_s AS media_seconds
FROM page p
LEFT JOIN reactions rx ON rx.ref_wa_msg_id = p.wa_msg_id
LEFT JOIN edits e ON e.ref_wa_msg_id = p.wa_msg_id
LEFT JOIN messages q ON q.tenant_id = p.tenant_id AND q.wa_msg_id = p.ref_wa_msg_id
LEFT JOIN numbers a ON a.id = p.from_number_id
LEFT JOIN numbers b ON b.id = p.to_number_id
LEFT JOIN contacts c ON c.id = p.contact_id
LEFT JOIN warming_groups g ON g.id = p.group_id
LEFT JOIN media_assets ma ON ma.id = p.media_id
ORDER BY p.created_at DESC
"""


@dataclass(frozen=True)
class MessageItem:
    """One listed message and what it shows. `body` is the corrected text when it was edited; `quoted_*` the
    message it replies to (meta.quoted when that row is not stored here); `reactions` the emojis on it now."""

    id: uuid.UUID
    wa_msg_id: str | None
    created_at: datetime
    direction: str
    kind: str
    body: str
    status: str
    error: str | None
    from_number_id: uuid.UUID | None
    to_number_id: uuid.UUID | None
    from_label: str | None
    to_label: str | None
    group_label: str | None
    media_id: uuid.UUID | None
    edited: bool
    quoted_body: str | None
    quoted_kind: str | None
    reactions: list[str] = field(default_factory=list)
    voice_seconds: float | None = None
    location: dict[str, Any] = field(default_factory=dict)  # {name, address, lat, lng}
    contact_card: dict[str, Any] = field(default_factory=dict)  # {full_name, phone}
    phase: str | None = None
    plan: Any = None
    llm: Any = None
    wait_reason: str | None = None
    wait_until: datetime | None = None
    send_after: datetime | None = None


def _item(r: Any) -> MessageItem:
    meta = r["meta"] or {}
    quoted = meta.get("quoted") if isinstance(meta.get("quoted"), dict) else {}
    voice = meta.get("voice") if isinstance(meta.get("voice"), dict) else {}
    has_quote = r["ref_wa_msg_id"] is not None and r["kind"] != "status"
    return MessageItem(
        id=r["id"],
        wa_msg_id=r["wa_msg_id"],
        created_at=r["created_at"],
        direction=r["direction"],
        kind=r["kind"],
        body=r["edited_body"] if r["edited_body"] is not None else (r["body"] or ""),
        status=r["status"],
        error=r["error"],
        from_number_id=r["from_number_id"],
        to_number_id=r["to_number_id"],
        from_label=r["from_label"],
        to_label=r["to_label"],
        group_label=r["group_label"],
        media_id=r["media_id"],
        edited=r["edited_body"] is not None or "edited" in meta,
        quoted_body=(r["quoted_body"] if r["quoted_kind"] else quoted.get("body")) if has_quote else None,
        quoted_kind=(r["quoted_kind"] or quoted.get("kind") or "text") if has_quote else None,
        reactions=[e for e in (r["emojis"] or []) if e],
        voice_seconds=voice.get("seconds") or r["media_seconds"],
        location=meta.get("location") if isinstance(meta.get("location"), dict) else {},
        contact_card=meta.get("contact_card") if isinstance(meta.get("contact_card"), dict) else {},
        phase=meta.get("phase"),
        plan=meta.get("plan"),
        llm=meta.get("llm"),
        wait_reason=r["wait_reason"],
        wait_until=waits.message_until(r["wait_reason"], r["send_after"], r["dispatched_at"], meta),
        send_after=r["send_after"],
    )


def load_items(s: Session, scope: str, scope_id: uuid.UUID, limit: int) -> list[MessageItem]:
    """The newest `limit` items of a scope (CONVERSATION_SCOPE or NUMBER_SCOPE), newest first."""
    sql = _SQL.format(page_scope=scope.format(t="m"), pointer_scope=scope.format(t="r"))
    rows = s.execute(text(sql), {"scope": scope_id, "lim": max(1, min(limit, 500))}).mappings()
    return [_item(r) for r in rows]
