"""Evolution webhook ingestion: authenticate, store the raw event, apply it idempotently.

Everything here is one short transaction per delivery, so the route can persist before it answers 2xx.
Evolution retries (up to 10x) and does not order its emits, so:
- a byte-identical redelivery hits the unique `dedupe_key` and changes nothing;
- messages are upserted by (tenant, wa_msg_id); statuses only move forward (`GREATEST` on an enum declared in
  progress order), so a READ that overtakes its send.message is kept, and a late SERVER_ACK cannot undo it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import hash_token, tokens_equal
from mirage_app.evolution.webhook import MalformedEvent, NormalisedEvent, normalise, normalise_event_name
from mirage_app.logic.phone import InvalidPhone, normalise_e164

log = logging.getLogger("mirage.webhooks")

SECRET_HEADER = "x-mirage-webhook-secret"
DIRECTORY_TTL_S = 30.0


class UnknownInstance(LookupError):
    pass


class BadSecret(PermissionError):
    pass


@dataclass(frozen=True)
class InstanceAuth:
    tenant_id: uuid.UUID
    number_id: uuid.UUID
    secret_hash: str | None


@dataclass(frozen=True)
class IngestResult:
    event_id: uuid.UUID | None
    duplicate: bool
    kind: str
    message_id: uuid.UUID | None = None
    message_inserted: bool = False
    inbound_from_contact: bool = False


class InstanceDirectory:
    """instance name → (tenant, number, secret hash), cached briefly so the hot path skips a query."""

    def __init__(self, ttl_s: float = DIRECTORY_TTL_S) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, InstanceAuth | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, instance: str) -> InstanceAuth | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(instance)
        if hit and hit[0] > now:
            return hit[1]
        with system_session() as s:
            row = s.execute(
                text("SELECT number_id, tenant_id, webhook_secret_hash FROM webhook_session_by_instance(:i)"),
                {"i": instance},
            ).first()
        auth = InstanceAuth(row.tenant_id, row.number_id, row.webhook_secret_hash) if row else None
        # Unknown names are cached for less time: the instance may be being created right now.
        with self._lock:
            self._entries[instance] = (now + (self._ttl if auth else 2.0), auth)
        return auth

    def forget(self, instance: str) -> None:
        with self._lock:
            self._entries.pop(instance, None)


directory = InstanceDirectory()


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold U+0000; such bytes carry no meaning in WhatsApp text anyway."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def authenticate(instance: str, presented_secret: str | None) -> InstanceAuth:
    auth = directory.lookup(instance)
    if auth is None:
        raise UnknownInstance(instance)
    expected = auth.secret_hash or ""
    presented = hash_token(presented_secret) if presented_secret else ""
    # Compare even when something is missing, so timing does not tell which part was wrong.
    if not (tokens_equal(presented, expected) and expected):
        raise BadSecret(instance)
    return auth


def ingest(auth: InstanceAuth, raw_body: bytes, payload: dict[str, Any]) -> IngestResult:
    """Store and apply one delivery. Raises MalformedEvent (nothing written) for unusable known events."""
    try:
        event = normalise(payload)
    except MalformedEvent:
        if _is_known_event(payload):
            raise
        event = None  # unknown or odd event types are stored and ignored
    event_type = event.event if event else str(payload.get("event", "unknown"))[:60]
    dedupe_key = hashlib.sha256(raw_body).hexdigest()
    stored = raw_body.decode("utf-8", errors="replace")
    if "\\u0000" in stored or "\x00" in stored:
        stored = json.dumps(_without_nul(payload))
    with tenant_session(auth.tenant_id) as s:
        event_id = s.execute(
            text(
                "INSERT INTO webhook_events (tenant_id, session_id, event_type, payload, dedupe_key, wa_ts) "
                "VALUES (:t, :sid, :etype, CAST(:payload AS jsonb), :dk, :wa_ts) "
                "ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING id"
            ),
            {
                "t": auth.tenant_id,
                "sid": str(payload.get("instance", ""))[:100],
                "etype": event_type,
                "payload": stored,
                "dk": dedupe_key,
                "wa_ts": event.timestamp if event else None,
            },
        ).scalar()
        if event_id is None:
            s.rollback()
            return IngestResult(None, True, event.kind if event else "other")
        result = _apply(s, auth, event) if event else IngestResult(event_id, False, "other")
        s.execute(text("UPDATE webhook_events SET processed_at = now() WHERE id = :id"), {"id": event_id})
        s.commit()
    return IngestResult(
        event_id,
        False,
        result.kind,
        result.message_id,
        result.message_inserted,
        result.inbound_from_contact,
    )


APPLIED_EVENTS = frozenset(
    {"MESSAGES_UPSERT", "SEND_MESSAGE", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE"}
)


def _is_known_event(payload: dict[str, Any]) -> bool:
    try:
        return normalise_event_name(payload.get("event")) in APPLIED_EVENTS
    except MalformedEvent:
        return False


def _apply(s, auth: InstanceAuth, event: NormalisedEvent) -> IngestResult:
    if event.kind == "message":
        return _apply_message(s, auth, event)
    if event.kind == "message_status":
        return _apply_status(s, auth, event)
    if event.kind == "qr":
        _apply_qr(s, auth, event)
    elif event.kind == "connection":
        _apply_connection(s, auth, event)
    return IngestResult(None, False, event.kind)


def _e164(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return normalise_e164("+" + phone.lstrip("+"))
    except InvalidPhone:
        return None


def _peer(s, phone: str | None) -> tuple[uuid.UUID | None, uuid.UUID | None, str | None]:
    """(our number id, contact id, E.164) of the other side of a message."""
    e164 = _e164(phone)
    if e164 is None:
        return None, None, None
    row = s.execute(
        text(
            "SELECT (SELECT id FROM numbers WHERE wa_number = :p LIMIT 1) AS number_id, "
            "(SELECT id FROM contacts WHERE wa_number = :p LIMIT 1) AS contact_id"
        ),
        {"p": e164},
    ).one()
    return row.number_id, row.contact_id, e164


UPSERT_MESSAGE = text(
    """
    INSERT INTO messages (tenant_id, wa_msg_id, direction, body, status, from_number_id, to_number_id, contact_id,
                          meta, created_at, sent_at)
    VALUES (:t, :wa, CAST(:direction AS msg_direction), :body, CAST(:status AS message_status), :from_id, :to_id,
            :contact_id, CAST(:meta AS jsonb), COALESCE(:ts, now()), :sent_at)
    ON CONFLICT (tenant_id, wa_msg_id) DO UPDATE SET
        status = GREATEST(messages.status, EXCLUDED.status),
        body = CASE WHEN messages.body = '' THEN EXCLUDED.body ELSE messages.body END,
        from_number_id = COALESCE(messages.from_number_id, EXCLUDED.from_number_id),
        to_number_id = COALESCE(messages.to_number_id, EXCLUDED.to_number_id),
        contact_id = COALESCE(messages.contact_id, EXCLUDED.contact_id),
        updated_at = now()
    RETURNING id, (xmax = 0) AS inserted, direction::text AS direction
    """
)


def _apply_message(s, auth: InstanceAuth, event: NormalisedEvent) -> IngestResult:
    peer_number, peer_contact, peer_e164 = _peer(s, event.phone)
    if event.from_me:
        # Sent by this instance (through the API, or typed on the phone).
        direction, from_id, to_id, contact_id = "out", auth.number_id, peer_number, peer_contact
        status = event.status or "sent"
    elif peer_number is not None:
        # One of our own numbers wrote to this one: the sender's outbound message, now delivered here.
        direction, from_id, to_id, contact_id = "out", peer_number, auth.number_id, None
        status = "delivered"
    else:
        direction, from_id, to_id, contact_id = "in", None, auth.number_id, peer_contact
        status = "delivered"
    meta = {"origin": "webhook", "peer": peer_e164, "push_name": event.push_name, "group": event.is_group}
    row = s.execute(
        UPSERT_MESSAGE,
        {
            "t": auth.tenant_id,
            "wa": event.wa_msg_id,
            "direction": direction,
            "body": (event.text or "").replace("\x00", ""),
            "status": status,
            "from_id": from_id,
            "to_id": to_id,
            "contact_id": contact_id,
            "meta": json.dumps(_without_nul({k: v for k, v in meta.items() if v not in (None, False)})),
            "ts": event.timestamp,
            "sent_at": event.timestamp if direction == "out" else None,
        },
    ).one()
    _touch_number(s, auth.number_id)
    return IngestResult(
        None,
        False,
        "message",
        row.id,
        bool(row.inserted),
        inbound_from_contact=direction == "in" and not event.from_me,
    )


def _apply_status(s, auth: InstanceAuth, event: NormalisedEvent) -> IngestResult:
    if event.status is None or not event.wa_msg_id:
        return IngestResult(None, False, "message_status")
    # The status may overtake the message itself: keep a placeholder row that the message fills in later.
    row = s.execute(
        UPSERT_MESSAGE,
        {
            "t": auth.tenant_id,
            "wa": event.wa_msg_id,
            "direction": "out" if event.from_me else "in",
            "body": "",
            "status": event.status,
            "from_id": auth.number_id if event.from_me else None,
            "to_id": None if event.from_me else auth.number_id,
            "contact_id": None,
            "meta": '{"origin": "webhook"}',
            "ts": None,
            "sent_at": None,
        },
    ).one()
    return IngestResult(None, False, "message_status", row.id, bool(row.inserted))


def _apply_qr(s, auth: InstanceAuth, event: NormalisedEvent) -> None:
    if event.qr_limit_reached:
        s.execute(
            text(
                "UPDATE numbers SET status = 'disconnected', disconnect_reason = 'qr_limit', updated_at = now() "
                "WHERE id = :n AND status <> 'paused'"
            ),
            {"n": auth.number_id},
        )
        return
    s.execute(
        text("UPDATE sessions SET last_qr = :qr, last_qr_at = now() WHERE number_id = :n"),
        {"qr": event.qr_base64 or event.qr_code, "n": auth.number_id},
    )
    s.execute(
        text(
            "UPDATE numbers SET status = 'connecting', updated_at = now() "
            "WHERE id = :n AND status IN ('disconnected', 'error', 'connecting')"
        ),
        {"n": auth.number_id},
    )


def _apply_connection(s, auth: InstanceAuth, event: NormalisedEvent) -> None:
    params: dict[str, Any] = {"n": auth.number_id}
    if event.state == "open":
        params["wa"] = _e164(event.wuid)
        s.execute(
            text(
                "UPDATE numbers SET status = CASE WHEN status = 'paused' THEN status ELSE 'connected' END, "
                "wa_number = COALESCE(:wa, wa_number), paired_at = COALESCE(paired_at, now()), "
                "last_seen_at = now(), disconnect_reason = NULL, updated_at = now() WHERE id = :n"
            ),
            params,
        )
        s.execute(text("UPDATE sessions SET last_qr = NULL, last_seen_at = now() WHERE number_id = :n"), params)
    elif event.state == "connecting":
        s.execute(
            text(
                "UPDATE numbers SET status = 'connecting', updated_at = now() "
                "WHERE id = :n AND status NOT IN ('paused', 'error')"
            ),
            params,
        )
    elif event.state in ("close", "refused"):
        if event.is_ban_like:
            params["reason"] = f"banned ({event.status_reason})"
            status = "error"
            log.warning("number %s closed with ban-like reason %s", auth.number_id, event.status_reason)
        else:
            params["reason"] = "logged_out" if event.logged_out else (event.state or "close")
            status = "disconnected"
        params["status"] = status
        s.execute(
            text(
                "UPDATE numbers SET status = CAST(:status AS number_status), disconnect_reason = :reason, "
                "updated_at = now() WHERE id = :n"
            ),
            params,
        )


def _touch_number(s, number_id: uuid.UUID) -> None:
    s.execute(
        text(
            "UPDATE numbers SET last_seen_at = now() WHERE id = :n "
            "AND (last_seen_at IS NULL OR last_seen_at < now() - interval '30 seconds')"
        ),
        {"n": number_id},
    )
