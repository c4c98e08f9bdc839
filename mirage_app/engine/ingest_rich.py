"""What the webhooks of rich actions change (issue 15): the kind and facts of a stored message, edits, groups.

Every function here is idempotent and order-free, like the rest of ingestion: an edit that overtakes its message
waits on a placeholder row that the message fills in; a member who left stays left whatever arrives after.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from mirage_app.evolution.webhook import NormalisedEvent

# The webhook's content kind → the stored message kind (models.enums.MessageKind). Kinds Mirage does not send
# (plain audio, video, documents, polls…) are stored as text with their content kind in meta.
_STORED_KIND = {
    "text": "text",
    "reaction": "reaction",
    "voice": "voice",
    "audio": "voice",
    "image": "image",
    "sticker": "sticker",
    "location": "location",
    "contact": "contact",
}


def message_facts(event: NormalisedEvent) -> tuple[str, str, dict[str, Any]]:
    """(kind, body, meta additions) of a received or sent message event."""
    content = event.content_kind or "text"
    kind = "status" if event.is_status else _STORED_KIND.get(content, "text")
    meta: dict[str, Any] = {}
    if content not in _STORED_KIND:
        meta["content_kind"] = content
    if content == "reaction":
        body = event.reaction_text or ""
    elif content in ("image", "video", "document"):
        body = event.caption or event.text or ""
    else:
        body = event.text or ""
    if event.quoted_wa_msg_id and content != "reaction":
        meta["quoted"] = {"wa_msg_id": event.quoted_wa_msg_id, "body": (event.quoted_text or "")[:500]}
    if event.media_seconds:
        meta["voice"] = {"seconds": event.media_seconds}
    if event.location:
        meta["location"] = event.location
    if event.contact_card:
        meta["contact_card"] = event.contact_card
    if event.group_jid:
        meta["group_jid"] = event.group_jid
    return kind, body, meta


# The corrected text replaces the stored one (the typo is kept in meta.edited.from); an edit that arrives before
# its message leaves a placeholder that the message's upsert completes (ingest._UPSERT_MESSAGE_SET).
EDIT_SQL = text(
    """
    WITH target AS (
        UPDATE messages SET body = CAST(:body AS text), updated_at = now(),
               meta = meta || jsonb_build_object('edited', jsonb_build_object(
                   'from', CASE WHEN body = CAST(:body AS text) THEN meta->'edited'->>'from' ELSE body END,
                   'at', now()))
        WHERE wa_msg_id = :wa AND body <> ''
        RETURNING id
    ),
    k AS (  -- the claim on the WhatsApp id (see ingest._claim_wa_id)
        INSERT INTO message_wa_ids AS w (tenant_id, wa_msg_id, message_id, created_at)
        SELECT :t, :wa, gen_random_uuid(), now() WHERE NOT EXISTS (SELECT FROM target)
        ON CONFLICT (tenant_id, wa_msg_id) DO UPDATE SET message_id = w.message_id
        RETURNING message_id AS id, created_at AS at
    )
    INSERT INTO messages AS m (id, tenant_id, wa_msg_id, direction, body, status, to_number_id, meta, created_at)
    SELECT k.id, :t, :wa, 'in', '', 'delivered', :n, CAST(:meta AS jsonb), k.at FROM k
    ON CONFLICT (tenant_id, wa_msg_id, created_at) DO UPDATE SET meta = m.meta || EXCLUDED.meta
        WHERE NOT m.meta ? 'body_expired'
    """
)

REVOKE_SQL = text(
    "UPDATE messages SET meta = meta || jsonb_build_object('revoked', true), updated_at = now() WHERE wa_msg_id = :wa"
)


def apply_edit(s, tenant_id: uuid.UUID, number_id: uuid.UUID, event: NormalisedEvent) -> None:
    if not event.wa_msg_id:
        return
    if event.revoked:
        s.execute(REVOKE_SQL, {"wa": event.wa_msg_id})
        return
    record_edit(s, tenant_id, number_id, event.wa_msg_id, (event.text or "").replace("\x00", ""))


def record_edit(s, tenant_id: uuid.UUID, number_id: uuid.UUID, wa_msg_id: str, text: str) -> None:
    """The one rule for an edit, whoever learns of it (the sender's pipeline, either side's webhook): the new text
    replaces the stored one, the typo is kept in meta.edited.from; idempotent and order-free."""
    if not text:
        return
    s.execute(
        EDIT_SQL,
        {
            "t": tenant_id,
            "wa": wa_msg_id,
            "body": text,
            "n": number_id,
            "meta": json.dumps({"pending_edit": text, "origin": "webhook"}),
        },
    )


def apply_group(s, event: NormalisedEvent, phones: list[str | None]) -> None:
    """A member removed from (or leaving) a warming group is marked as left; one added again is back. `phones`:
    the participants' numbers in E.164 (None for one that does not read)."""
    if not event.group_jid or event.group_action not in ("add", "remove"):
        return
    phones = [p for p in phones if p]
    if not phones:
        return
    s.execute(
        text(
            """
            UPDATE warming_group_members m
            SET left_at = CASE WHEN :action = 'remove' THEN COALESCE(m.left_at, now()) END,
                joined_at = CASE WHEN :action = 'add' THEN COALESCE(m.joined_at, now()) ELSE m.joined_at END
            FROM warming_groups g, numbers n
            WHERE g.id = m.group_id AND g.group_jid = :jid AND n.id = m.number_id AND n.wa_number = ANY(:phones)
            """
        ),
        {"action": event.group_action, "jid": event.group_jid, "phones": phones},
    )
