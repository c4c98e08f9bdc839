"""Opt-outs: a contact who writes a stop word is never written to again, by any number of the tenant.

`check_optout(tenant, message)` is called by the webhook route right after an inbound contact message is stored
(and again by the dispatcher, for every message from a contact): if the text is an opt-out (the keywords of any
of the tenant's policies plus the defaults SAIR, PARAR, PARE, STOP, CANCELAR, DESCADASTRAR; case, accents and
punctuation folded; the whole message or its first word), in ONE transaction: the number goes on the tenant-wide
suppression list, the contact's consent is revoked (`opted_out_at`), every target of that contact becomes
`optout`, queued outreach sends to it are cancelled, ONE confirmation message is queued (send key
`optout:<suppression id>`, so redeliveries and repeated keywords never confirm twice) and an audit entry is
written. The send guard (`contact_guard`) then refuses every later send to that number from any number of the
tenant. The outcome is marked on the message (`meta.optout_check`), so the check runs once per message.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.core.db import tenant_session
from mirage_app.engine import consent_history, send_outcomes
from mirage_app.engine.outreach_sender import INSERT_OUTREACH_MESSAGE, load_sender
from mirage_app.engine.outreach_sends import OPTOUT_CONFIRMATION, OUTREACH
from mirage_app.engine.runtime import EngineRuntime, runtime
from mirage_app.engine.suppression import apply_suppression, erased_in
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, confirmation_text, matched_keyword, optout_source
from mirage_app.logic.pacing import plan_send
from mirage_app.logic.phone import InvalidPhone, normalise_e164

log = logging.getLogger("mirage.outreach")

INBOUND = text(
    """
    SELECT m.id, m.direction::text AS direction, m.body, m.meta, m.contact_id, m.to_number_id, m.from_number_id,
           m.wa_msg_id, m.created_at, c.wa_number AS contact_wa, c.display_name
    FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id
    WHERE m.id = :id
    """
)


@dataclass(frozen=True, slots=True)
class Inbound:
    """A stored message as the opt-out check and the outreach exchange read it (INBOUND)."""

    id: uuid.UUID
    direction: str
    body: str | None
    meta: dict[str, Any]
    contact_id: uuid.UUID | None
    to_number_id: uuid.UUID | None
    from_number_id: uuid.UUID | None
    wa_msg_id: str | None
    created_at: datetime | None
    contact_wa: str | None
    display_name: str | None


_INBOUND_COLUMNS = tuple(f.name for f in fields(Inbound))


def load_inbound(s, message_id: uuid.UUID) -> Inbound | None:
    row = s.execute(INBOUND, {"id": message_id}).first()
    if row is None:
        return None
    values = {name: getattr(row, name) for name in _INBOUND_COLUMNS}
    values["meta"] = values["meta"] or {}
    return Inbound(**values)


def optout_keywords(s) -> tuple[str, ...]:
    """The defaults plus every keyword of every policy of the tenant (a word that stops one policy stops all)."""
    rows = s.execute(text("SELECT DISTINCT k FROM outreach_policies p, unnest(p.optout_keywords) AS k")).scalars()
    return tuple(dict.fromkeys([*DEFAULT_OPTOUT_KEYWORDS, *rows]))


@dataclass(frozen=True)
class OptoutResult:
    keyword: str
    wa_number: str | None
    contact_id: uuid.UUID | None
    new: bool  # False when the number was already suppressed (no second confirmation)
    confirmation_id: uuid.UUID | None


def mark_message(s, message_id: uuid.UUID, **meta: Any) -> None:
    """Merge `meta` into the message's meta: what the engine decided about it, so it is decided once."""
    s.execute(
        text("UPDATE messages SET meta = meta || CAST(:m AS jsonb) WHERE id = :id"),
        {"m": json.dumps(meta), "id": message_id},
    )


def _peer_number(msg: Inbound) -> str | None:
    raw = msg.contact_wa or msg.meta.get("peer")
    if not raw:
        return None
    try:
        return normalise_e164(str(raw))
    except InvalidPhone:
        return None


def check_optout(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> OptoutResult | None:
    """If this stored inbound message is an opt-out, record it (see the module docstring) and queue the one
    confirmation. Idempotent: safe on redeliveries and from several callers. None when it is not an opt-out."""
    rt = runtime()
    tenant, mid = uuid.UUID(str(tenant_id)), uuid.UUID(str(message_id))
    with tenant_session(tenant) as s:
        msg = load_inbound(s, mid)
        if msg is None or msg.direction != "in":
            return None
        result = record_optout(s, rt, tenant, msg)
        s.commit()
    if result is not None and result.confirmation_id is not None:
        send_outcomes.schedule(rt, tenant, result.confirmation_id, None)
    return result


def check_optout_safely(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> OptoutResult | None:
    """`check_optout` for the webhook route: never raises (the dispatcher and the tick's recovery retry)."""
    try:
        return check_optout(tenant_id, message_id)
    except Exception:
        log.exception("opt-out check failed for message %s; the on_message job will retry", message_id)
        return None


def record_optout(s, rt: EngineRuntime, tenant: uuid.UUID, msg: Inbound) -> OptoutResult | None:
    """The opt-out check of inbound `msg` in the caller's transaction (see the module docstring); the caller
    commits, then schedules the confirmation. None when the message is not an opt-out."""
    meta = msg.meta
    if "optout_check" in meta:
        keyword = meta["optout_check"]
        if not keyword:
            return None
        return OptoutResult(keyword, _peer_number(msg), msg.contact_id, False, None)
    keyword = matched_keyword(msg.body or "", optout_keywords(s))
    if keyword is None:
        mark_message(s, msg.id, optout_check="")
        return None
    now = rt.clock.now()
    number = _peer_number(msg)
    if number is None:  # e.g. an @lid sender with no phone number: nothing to suppress by
        log.warning("opt-out from message %s without a phone number; cannot suppress", msg.id)
        mark_message(s, msg.id, optout_check=keyword)
        return OptoutResult(keyword, None, msg.contact_id, False, None)
    if msg.contact_id is None and erased_in(s, number):  # erased (LGPD): already refused by hash, never stored again
        mark_message(s, msg.id, optout_check=keyword)
        return OptoutResult(keyword, number, None, False, None)
    contact_id = msg.contact_id
    if contact_id is None:
        contact_id = s.execute(text("SELECT id FROM contacts WHERE wa_number = :n"), {"n": number}).scalar()
    if contact_id is None:  # someone we never stored: keep them, visible as suppressed, so the opt-out shows
        contact_id = s.execute(
            text(
                "INSERT INTO contacts (id, tenant_id, wa_number, display_name, tags, notes, consent_status, "
                "created_at) VALUES (gen_random_uuid(), :t, :n, :name, "
                # apply_suppression below revokes (its source: the opt-out) as for a known contact
                "'{}', '', 'unknown', :now) "
                "ON CONFLICT (tenant_id, wa_number) DO UPDATE SET updated_at = :now RETURNING id"
            ),
            {"t": tenant, "n": number, "name": str(meta.get("push_name") or "")[:120], "now": now},
        ).scalar()
    if msg.contact_id is None:
        s.execute(text("UPDATE messages SET contact_id = :c WHERE id = :id"), {"c": contact_id, "id": msg.id})
    result = apply_suppression(
        s, tenant, number, reason=optout_source(keyword), now=now, contact_id=contact_id, actor=consent_history.CONTACT
    )
    confirmation_id = None
    if result.suppression_id is not None and msg.to_number_id is not None:
        confirmation_id = _queue_confirmation(s, rt, tenant, msg, contact_id, result.suppression_id, now)
    if result.suppression_id is not None:
        audit.record(
            s,
            None,
            "contact.optout",
            "contact",
            contact_id,
            after={
                "wa_number": number,
                "keyword": keyword,
                "number_id": msg.to_number_id,
                "message_id": msg.id,
                "targets_opted_out": result.targets_opted_out,
                "sends_cancelled": result.sends_cancelled,
                "confirmation_id": confirmation_id,
            },
            tenant_id=tenant,
            clock=rt.clock,
        )
        log.info("contact %s opted out (%s) via number %s", contact_id, keyword, msg.to_number_id)
    mark_message(s, msg.id, optout_check=keyword)
    return OptoutResult(keyword, number, contact_id, result.suppression_id is not None, confirmation_id)


def _queue_confirmation(
    s, rt: EngineRuntime, tenant: uuid.UUID, msg: Inbound, contact_id: uuid.UUID, suppression_id: uuid.UUID,
    now: datetime,
) -> uuid.UUID | None:  # fmt: skip
    sender = load_sender(s, msg.to_number_id)
    body = confirmation_text(sender.locale)
    settings = sender.settings
    rng = random.Random(f"optout|{suppression_id}")
    plan = plan_send(body, rng, settings.humanize_config, humanize=settings.humanize, incoming=msg.body)
    meta = {
        "app_origin": OUTREACH,
        "kind": OPTOUT_CONFIRMATION,
        "send_key": f"optout:{suppression_id}",
        "reply_to": {"message_id": str(msg.id), "wa_msg_id": msg.wa_msg_id},
        "plan": {"read_ms": plan.read_delay_ms, "typing_ms": plan.typing_ms, "gap_s": 0},
    }
    return s.execute(
        INSERT_OUTREACH_MESSAGE,
        {"t": tenant, "n": msg.to_number_id, "c": contact_id, "body": body, "meta": json.dumps(meta), "now": now,
         "send_after": now},
    ).scalar()  # fmt: skip
