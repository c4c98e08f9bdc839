"""Evolution webhook ingestion: authenticate, store the raw event, apply it idempotently.

Everything here is one short transaction per delivery, so the route can persist before it answers 2xx. Message and
status deliveries (nearly all the traffic) are stored and applied by ONE statement (`MESSAGE_SQL` / `STATUS_SQL`):
the route sends it with `db_async.tenant_fetch`: one prepared statement on a connection pinned to the tenant.
Evolution retries (up to 10x) and does not order its emits, so:
- a byte-identical redelivery hits the unique `dedupe_key` and changes nothing;
- messages are upserted by (tenant, wa_msg_id); statuses only move forward (`GREATEST` on an enum declared in
  progress order), so a READ that overtakes its send.message is kept, and a late SERVER_ACK cannot undo it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import anyio.to_thread
from sqlalchemy import text

from mirage_app.core.db import psycopg_sql, system_session, tenant_session
from mirage_app.core.db_async import tenant_fetch
from mirage_app.core.security import hash_token, tokens_equal
from mirage_app.engine import alerts, ingest_rich, reputation
from mirage_app.engine.runtime import runtime
from mirage_app.evolution.webhook import MalformedEvent, NormalisedEvent, normalise, normalise_event_name
from mirage_app.logic import alerts as alert_rules
from mirage_app.logic.actions import NEVER_A_TURN
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, matched_keyword
from mirage_app.logic.phone import InvalidPhone, normalise_e164
from mirage_app.models.numbers import OPERATOR_DISCONNECTS

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
    # A messages.upsert this instance received (from a contact or from one of our own numbers). Bot-to-bot
    # messages keep one row per WhatsApp id, so the row may already exist from the sender's send.message:
    # follow-up work (replies) keys on this flag, not on `message_inserted`.
    received: bool = False
    # The stored inbound message already carries outreach's opt-out verdict "no keyword" (meta.optout_check = ""),
    # decided in the ingest statement itself: the route can skip `optout.check_optout` (see MESSAGE_SQL).
    optout_checked: bool = False


class InstanceDirectory:
    """instance name → (tenant, number, secret hash), cached briefly so the hot path skips a query."""

    def __init__(self, ttl_s: float = DIRECTORY_TTL_S) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, InstanceAuth | None]] = {}
        self._lock = threading.Lock()
        # Bumped by forget(). A look-up that ran concurrently (it read the database before the instance's commit,
        # e.g. a webhook Evolution sent while create_instance was still writing) must not cache its stale answer
        # after the forget(), or valid deliveries would get 404 for the negative entry's lifetime.
        self._forgets = 0

    def cached(self, instance: str) -> tuple[bool, InstanceAuth | None]:
        """(fresh, entry) without any I/O, so an async caller can skip the thread pool on a hit."""
        with self._lock:
            hit = self._entries.get(instance)
        if hit and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def lookup(self, instance: str) -> InstanceAuth | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(instance)
            forgets = self._forgets
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
            if self._forgets == forgets:
                self._entries[instance] = (now + (self._ttl if auth else 2.0), auth)
        return auth

    def forget(self, instance: str) -> None:
        with self._lock:
            self._entries.pop(instance, None)
            self._forgets += 1


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
    return _check_secret(instance, directory.lookup(instance), presented_secret)


def authenticate_cached(instance: str, presented_secret: str | None) -> InstanceAuth | None:
    """`authenticate` from the directory cache only; None when the entry must be (re)loaded (then call
    `authenticate` in a thread)."""
    fresh, auth = directory.cached(instance)
    return _check_secret(instance, auth, presented_secret) if fresh else None


def _check_secret(instance: str, auth: InstanceAuth | None, presented_secret: str | None) -> InstanceAuth:
    if auth is None:
        raise UnknownInstance(instance)
    expected = auth.secret_hash or ""
    presented = hash_token(presented_secret) if presented_secret else ""
    # Compare even when something is missing, so timing does not tell which part was wrong.
    if not (tokens_equal(presented, expected) and expected):
        raise BadSecret(instance)
    return auth


def _normalise_stored(payload: dict[str, Any]) -> NormalisedEvent | None:
    """The normalised event, or None for unknown / odd event types (stored and ignored)."""
    try:
        return normalise(payload)
    except MalformedEvent:
        if _is_known_event(payload):
            raise
        return None


def _event_params(
    auth: InstanceAuth, raw_body: bytes, payload: dict[str, Any], event: NormalisedEvent | None
) -> dict[str, Any]:
    """Parameters of the webhook_events row (`:t`, `:sid`, `:etype`, `:payload`, `:dk`, `:wa_ts`)."""
    stored = raw_body.decode("utf-8", errors="replace")
    if "\\u0000" in stored or "\x00" in stored:
        stored = json.dumps(_without_nul(payload))
    return {
        "t": auth.tenant_id,
        "sid": str(payload.get("instance", ""))[:100],
        "etype": event.event if event else str(payload.get("event", "unknown"))[:60],
        "payload": stored,
        "dk": hashlib.sha256(raw_body).hexdigest(),
        "wa_ts": event.timestamp if event else None,
    }


def ingest(auth: InstanceAuth, raw_body: bytes, payload: dict[str, Any]) -> IngestResult:
    """Store and apply one delivery. Raises MalformedEvent (nothing written) for unusable known events."""
    event = _normalise_stored(payload)
    params = _event_params(auth, raw_body, payload, event)
    statement = _one_statement(auth, event, params)
    with tenant_session(auth.tenant_id) as s:
        if statement is not None:
            row = s.execute(text(statement[0]), params).first()
            s.commit()
            return _one_statement_result(auth, event, params, row)
        stored = s.execute(text(STORE_UNPROCESSED_SQL), params).first()
        if stored is None:
            s.rollback()
            return IngestResult(None, True, event.kind if event else "other")
        event_id = stored.id
        alert = _apply(s, auth, event) if event is not None else None
        # received_at names the partition: without it every partition's index would be probed.
        s.execute(
            text("UPDATE webhook_events SET processed_at = now() WHERE id = :id AND received_at = :at"),
            {"id": event_id, "at": stored.received_at},
        )
        s.commit()
    if alert is not None:
        alerts.emit_later(auth.tenant_id, alert[0], number_id=auth.number_id, detail=alert[1])
    return IngestResult(event_id, False, event.kind if event else "other")


async def ingest_async(auth: InstanceAuth, raw_body: bytes, payload: dict[str, Any]) -> IngestResult:
    """`ingest` for the event loop: messages and statuses in one round trip, other events in a worker thread."""
    event = _normalise_stored(payload)
    params = _event_params(auth, raw_body, payload, event)
    statement = _one_statement(auth, event, params)
    if statement is None:
        return await anyio.to_thread.run_sync(ingest, auth, raw_body, payload)
    # Safe to resend on a broken connection: a delivery that did commit comes back as a duplicate.
    rows = await tenant_fetch(auth.tenant_id, statement[1], params, retry_broken=True)
    return _one_statement_result(auth, event, params, rows[0] if rows else None)


APPLIED_EVENTS = frozenset(
    {"MESSAGES_UPSERT", "SEND_MESSAGE", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE",
     "MESSAGES_EDITED", "SEND_MESSAGE_UPDATE", "GROUPS_UPSERT", "GROUP_PARTICIPANTS_UPDATE"}
)  # fmt: skip


def _is_known_event(payload: dict[str, Any]) -> bool:
    try:
        return normalise_event_name(payload.get("event")) in APPLIED_EVENTS
    except MalformedEvent:
        return False


def _apply(s, auth: InstanceAuth, event: NormalisedEvent) -> tuple[str, dict] | None:
    """Events other than messages and statuses (those are applied by `_one_statement`); returns the alert to emit
    once the transaction is committed, if any."""
    if event.kind == "qr":
        _apply_qr(s, auth, event)
    elif event.kind == "connection":
        return _apply_connection(s, auth, event)
    elif event.kind == "message_edit":
        ingest_rich.apply_edit(s, auth.tenant_id, auth.number_id, event)
    elif event.kind == "group":
        ingest_rich.apply_group(s, event, [_e164(p) for p in event.group_participants or ()])


@lru_cache(maxsize=16_384)  # the same peers write again and again; libphonenumber's parse is the costly part
def _e164(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return normalise_e164("+" + phone.lstrip("+"))
    except InvalidPhone:
        return None


# Messages and statuses: the raw event and its effect in ONE statement, so the whole delivery is one round trip.
# Written with SQLAlchemy's `:name` parameters; `_psycopg` derives the `%(name)s` form `db_async` sends. Explicit
# CASTs everywhere: psycopg binds server-side, and a NULL or a str parameter carries no type of its own.
# - `dk` records the delivery's key; a byte-identical redelivery conflicts on (tenant_id, dedupe_key) in
#   webhook_dedupe_keys (not partitioned, so across webhook_events' daily partitions too), `dk` and `ev` are then
#   empty and nothing else happens (the statement returns no row). `ev` stores the delivery; processed_at = now()
#   = the transaction's time, as the former "UPDATE ... SET processed_at = now()" at the end of the same
#   transaction gave.
# - messages are upserted by (tenant, wa_msg_id) through its claim (`k`, below); statuses only move forward
#   (GREATEST on an enum declared in progress order); the body / ids of a placeholder row left by an early status
#   are filled in; facts one side's webhook has and the other's lacks (a voice note's length, a quote) are added,
#   what is stored is kept; a message whose body has expired (engine.retention, meta.body_expired) stays blank
#   whatever is redelivered.
def _store_event(processed_at: str) -> str:
    """The `dk` and `ev` CTEs storing a delivery once (`ev` returns its id and received_at), with `processed_at`."""
    return f"""
    dk AS (
        INSERT INTO webhook_dedupe_keys (tenant_id, dedupe_key) VALUES (CAST(:t AS uuid), CAST(:dk AS varchar))
        ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
        RETURNING tenant_id
    ),
    ev AS (
        INSERT INTO webhook_events (tenant_id, session_id, event_type, payload, dedupe_key, wa_ts, processed_at)
        SELECT dk.tenant_id, CAST(:sid AS varchar), CAST(:etype AS varchar), CAST(:payload AS jsonb),
               CAST(:dk AS varchar), CAST(:wa_ts AS timestamptz), {processed_at}
        FROM dk
        RETURNING id, received_at
    )"""


_STORE_EVENT = _store_event("now()")


# The message's claim on its WhatsApp id (`messages` is partitioned by month, so the id's uniqueness lives in
# message_wa_ids, alembic 0027): a new id gets a fresh message id and `created_at`; a known one returns the row's,
# even when a concurrent delivery committed it after this statement began (ON CONFLICT waits, then sees it). The
# message upsert then targets (tenant_id, wa_msg_id, created_at), which finds that very row; `inserted` says whether
# the claim was new (a partitioned table cannot return xmax). Every writer of a WhatsApp id takes its key row
# before the message row (sending.MERGE_SENT), so two writers of one id never wait on each other crosswise.
def _claim_wa_id(created_at: str, when: str) -> str:
    return f"""
    k AS (
        INSERT INTO message_wa_ids AS w (tenant_id, wa_msg_id, message_id, created_at)
        SELECT CAST(:t AS uuid), CAST(:wa AS varchar), gen_random_uuid(), {created_at} WHERE {when}
        ON CONFLICT (tenant_id, wa_msg_id) DO UPDATE SET message_id = w.message_id
        RETURNING tenant_id AS t, wa_msg_id AS wa, message_id AS id, created_at AS at, (xmax = 0) AS inserted
    )"""


_UPSERT_MESSAGE_SET = """
        ON CONFLICT (tenant_id, wa_msg_id, created_at) DO UPDATE SET
            status = GREATEST(m.status, EXCLUDED.status),
            body = CASE WHEN m.meta ? 'body_expired' THEN ''
                        WHEN m.meta ? 'pending_edit' AND EXCLUDED.body <> '' THEN m.meta->>'pending_edit'
                        WHEN m.body = '' THEN EXCLUDED.body ELSE m.body END,
            meta = CASE WHEN m.meta ? 'body_expired' THEN m.meta
                        WHEN m.meta ? 'pending_edit' AND EXCLUDED.body <> ''
                        THEN (m.meta - 'pending_edit')
                            || jsonb_build_object('edited', jsonb_build_object('from', EXCLUDED.body, 'at', now()))
                        ELSE (EXCLUDED.meta - 'optout_check') || m.meta END,
            -- a placeholder (an edit or a receipt that came first) learns who sent the message
            direction = CASE WHEN (m.meta ? 'pending_edit' AND EXCLUDED.body <> '')
                                  OR (m.from_number_id IS NULL AND EXCLUDED.from_number_id IS NOT NULL)
                             THEN EXCLUDED.direction ELSE m.direction END,
            kind = CASE WHEN m.kind = 'text' AND m.body = '' AND NOT m.meta ? 'body_expired'
                        THEN EXCLUDED.kind ELSE m.kind END,
            ref_wa_msg_id = COALESCE(m.ref_wa_msg_id, EXCLUDED.ref_wa_msg_id),
            group_id = COALESCE(m.group_id, EXCLUDED.group_id),
            from_number_id = COALESCE(m.from_number_id, EXCLUDED.from_number_id),
            to_number_id = COALESCE(m.to_number_id, EXCLUDED.to_number_id),
            contact_id = COALESCE(m.contact_id, EXCLUDED.contact_id),
            updated_at = now()
        RETURNING id"""

# A message (messages.upsert / send.message). The other side is one of our numbers or a known contact (looked up
# under row-level security, i.e. in this tenant); from_me → sent by this instance; from one of our own numbers →
# that number's outbound message, delivered here; otherwise an inbound message from a contact.
# Opt-out pre-check: optout.check_optout (run by the route for inbound messages) reads the tenant's keywords and,
# when none matches, only records meta.optout_check = "" (in a second transaction). `_one_statement` computes that
# same verdict in Python (`:optout_clear`, with the keyword set last seen, `:optout_kw`), and the statement writes the
# mark with the new row only if the tenant's keywords, read in this very snapshot, are exactly that set. Otherwise
# (first delivery, keywords changed, row already there) no mark is written and the route runs check_optout.
MESSAGE_SQL = f"""
WITH {_STORE_EVENT},
    kw AS (
        SELECT COALESCE(array_agg(DISTINCT o), CAST('{{}}' AS text[])) AS w
        FROM outreach_policies p, unnest(p.optout_keywords) AS o
    ),
    peer AS (
        SELECT CAST(:from_me AS boolean) AS me, CAST(:n AS uuid) AS n,
               (SELECT id FROM numbers WHERE wa_number = CAST(:peer AS varchar) LIMIT 1) AS number_id,
               (SELECT id FROM contacts WHERE wa_number = CAST(:peer AS varchar) LIMIT 1) AS contact_id,
               (SELECT id FROM warming_groups WHERE group_jid = CAST(:group_jid AS varchar) LIMIT 1) AS group_id
    ),
    v AS (
        SELECT CASE WHEN peer.me OR peer.number_id IS NOT NULL THEN 'out' ELSE 'in' END
                   AS direction,
               CASE WHEN peer.me THEN peer.n ELSE peer.number_id END AS from_id,
               CASE WHEN CAST(:shared AS boolean) THEN NULL
                    WHEN peer.me THEN peer.number_id ELSE peer.n END AS to_id,
               CASE WHEN NOT peer.me AND peer.number_id IS NOT NULL THEN NULL
                    ELSE peer.contact_id END AS contact_id,
               CASE WHEN peer.me THEN CAST(:sent_status AS varchar) ELSE 'delivered' END AS status,
               peer.group_id
        FROM peer
    ),
    mark AS (
        SELECT CASE WHEN v.direction = 'in' AND CAST(:optout_clear AS boolean)
                         AND kw.w @> CAST(:optout_kw AS text[]) AND kw.w <@ CAST(:optout_kw AS text[])
                    THEN CAST('{{"optout_check": ""}}' AS jsonb) ELSE CAST('{{}}' AS jsonb) END AS meta
        FROM v, kw
    ),
    {_claim_wa_id("COALESCE(CAST(:ts AS timestamptz), now())", "EXISTS (SELECT FROM ev)")},
    msg AS (
        INSERT INTO messages AS m (id, tenant_id, wa_msg_id, direction, body, status, from_number_id, to_number_id,
                                   contact_id, meta, created_at, sent_at, kind, ref_wa_msg_id, group_id)
        SELECT k.id, k.t, k.wa, CAST(v.direction AS msg_direction), CAST(:body AS text),
               CAST(v.status AS message_status), v.from_id, v.to_id, v.contact_id, CAST(:meta AS jsonb) || mark.meta,
               k.at, CASE WHEN v.direction = 'out' THEN CAST(:ts AS timestamptz) END,
               CAST(:kind AS message_kind), CAST(:ref AS varchar), v.group_id
        FROM v, mark, k
        {_UPSERT_MESSAGE_SET}, m.meta ? 'optout_check' AS optout_checked
    ),
    touch AS (
        UPDATE numbers SET last_seen_at = now()
        WHERE id = CAST(:n AS uuid) AND EXISTS (SELECT FROM ev)
          AND (last_seen_at IS NULL OR last_seen_at < now() - interval '30 seconds')
    )
SELECT ev.id AS event_id, msg.id AS message_id, k.inserted, v.direction, msg.optout_checked,
       kw.w AS optout_keywords
FROM ev, v, kw LEFT JOIN k ON true LEFT JOIN msg ON true
"""

# A status (messages.update) may overtake the message itself: keep a placeholder row that the message fills in.
STATUS_SQL = f"""
WITH {_STORE_EVENT},
    {_claim_wa_id("now()", "EXISTS (SELECT FROM ev)")},
    msg AS (
        INSERT INTO messages AS m (id, tenant_id, wa_msg_id, direction, body, status, from_number_id, to_number_id,
                                   contact_id, meta, created_at, sent_at)
        SELECT k.id, k.t, k.wa, CAST(:direction AS msg_direction), '',
               CAST(:status AS message_status), CAST(:from_id AS uuid), CAST(:to_id AS uuid), NULL,
               CAST(:meta AS jsonb), k.at, NULL
        FROM k
        {_UPSERT_MESSAGE_SET}
    )
SELECT ev.id AS event_id, msg.id AS message_id, k.inserted, CAST(:direction AS text) AS direction
FROM ev LEFT JOIN k ON true LEFT JOIN msg ON true
"""

# Other events: stored, then applied in Python, then marked processed (`ingest`).
STORE_UNPROCESSED_SQL = f"WITH {_store_event('NULL')} SELECT id, received_at FROM ev"

# A status that names no message or no status Mirage tracks: stored, nothing to apply.
EVENT_ONLY_SQL = f"""
WITH {_STORE_EVENT}
SELECT ev.id AS event_id, CAST(NULL AS uuid) AS message_id, false AS inserted, CAST(NULL AS text) AS direction
FROM ev
"""


# psycopg parses a statement's placeholders again on every execution unless the statement is at most this long (its
# parse is cached then): 0.2 ms of the route's CPU per delivery for MESSAGE_SQL as written (5 kB).
_PSYCOPG_CACHED_LEN = 4096
_LITERAL = re.compile(r"'[^']*'")


def _psycopg(sql: str) -> str:
    """`:name` → `%(name)s`, without comments and layout so that psycopg's parse cache takes it. The SQL above has
    no `::` casts and no literal `%`, and compacting leaves its string literals as they are (checked)."""
    assert "%" not in sql and "::" not in sql
    compact = re.sub(r" ?([(),=<>|@]) ?", r"\1", re.sub(r"\s+", " ", re.sub(r"--[^\n]*", "", sql)).strip())
    converted = psycopg_sql(compact)
    assert _LITERAL.findall(compact) == _LITERAL.findall(sql) and len(converted.encode()) <= _PSYCOPG_CACHED_LEN
    return converted


_STATEMENTS = {
    "message": (MESSAGE_SQL, _psycopg(MESSAGE_SQL)),
    "status": (STATUS_SQL, _psycopg(STATUS_SQL)),
    "event": (EVENT_ONLY_SQL, _psycopg(EVENT_ONLY_SQL)),
}


def _one_statement(auth: InstanceAuth, event: NormalisedEvent | None, params: dict[str, Any]) -> tuple[str, str] | None:
    """(SQLAlchemy SQL, psycopg SQL) applying a message or status delivery, after adding its parameters to
    `params`; None for the other events (stored and applied by `ingest`'s general path)."""
    if event is None:
        return None
    if event.kind == "message":
        peer = _e164(event.phone or event.author_phone)  # a status names its poster only as the author
        kind, body, rich = ingest_rich.message_facts(event)
        meta = {"origin": "webhook", "peer": peer, "push_name": event.push_name, "group": event.is_group, **rich}
        body = body.replace("\x00", "")
        known = _optout_keywords_seen.get(auth.tenant_id)
        params.update(
            n=auth.number_id,
            peer=peer,
            from_me=bool(event.from_me),
            sent_status=event.status or "sent",
            wa=event.wa_msg_id,
            kind=kind,
            ref=event.reaction_target_id or event.quoted_wa_msg_id,
            group_jid=event.group_jid,
            shared=bool(event.group_jid or event.is_status),
            body=body,
            meta=json.dumps(_without_nul({k: v for k, v in meta.items() if v not in (None, False)})),
            ts=event.timestamp,
            optout_kw=sorted(known) if known is not None else None,
            optout_clear=known is not None
            and not event.from_me
            and matched_keyword(body, (*DEFAULT_OPTOUT_KEYWORDS, *known)) is None,
        )
        return _STATEMENTS["message"]
    if event.kind == "message_status":
        if event.status is None or not event.wa_msg_id:
            return _STATEMENTS["event"]
        params.update(
            wa=event.wa_msg_id,
            direction="out" if event.from_me else "in",
            status=event.status,
            from_id=auth.number_id if event.from_me else None,
            to_id=None if event.from_me else auth.number_id,
            meta='{"origin": "webhook"}',
        )
        return _STATEMENTS["status"]
    return None


# tenant → the opt-out keywords of its outreach policies as last read by MESSAGE_SQL (per process; a stale entry
# only costs the slow path once, since the statement returns the current set).
_optout_keywords_seen: dict[uuid.UUID, frozenset[str]] = {}


def _one_statement_result(auth: InstanceAuth, event: NormalisedEvent, params: dict[str, Any], row: Any) -> IngestResult:
    if row is None:  # the event row already existed: a byte-identical redelivery
        return IngestResult(None, True, event.kind)
    if event.kind == "message":
        current = frozenset(row.optout_keywords or ())
        if _optout_keywords_seen.get(auth.tenant_id) != current:
            _optout_keywords_seen[auth.tenant_id] = current
        return IngestResult(
            row.event_id,
            False,
            "message",
            row.message_id,
            bool(row.inserted),
            inbound_from_contact=row.direction == "in",
            # Between our own numbers, a reaction, a typo's fix or a status is never answered: no reply work at all.
            # A contact's is, as outreach may count it.
            received=event.event == "MESSAGES_UPSERT"
            and not event.from_me
            and (row.direction == "in" or params["kind"] not in NEVER_A_TURN),
            optout_checked=bool(row.optout_checked),
        )
    return IngestResult(row.event_id, False, event.kind, row.message_id, bool(row.inserted))


_NOT_ENDED_BY_OPERATOR = "NOT (status = 'disconnected' AND disconnect_reason = ANY(:operator))"


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
    # numbers before sessions, as every writer of both does (the other order deadlocks with instance creation).
    # An attempt the operator ended (a closed QR dialog, an expiry, a stop) stays ended: the QR webhooks Evolution
    # posted before the logout may land after it, and only Connect (which clears the reason) starts a new attempt.
    live = s.execute(
        text(
            "UPDATE numbers SET status = 'connecting', updated_at = now() "
            f"WHERE id = :n AND status IN ('disconnected', 'error', 'connecting') AND {_NOT_ENDED_BY_OPERATOR} "
            "RETURNING id"
        ),
        {"n": auth.number_id, "operator": list(OPERATOR_DISCONNECTS)},
    ).first()
    if live is not None:
        s.execute(
            text("UPDATE sessions SET last_qr = :qr, last_qr_at = now() WHERE number_id = :n"),
            {"qr": event.qr_base64 or event.qr_code, "n": auth.number_id},
        )


def _apply_connection(s, auth: InstanceAuth, event: NormalisedEvent) -> tuple[str, dict] | None:
    """Apply a connection update; returns the alert (kind, detail) a close raises, if any."""
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
                f"WHERE id = :n AND status NOT IN ('paused', 'error') AND {_NOT_ENDED_BY_OPERATOR}"
            ),
            params | {"operator": list(OPERATOR_DISCONNECTS)},
        )
    elif event.state in ("close", "refused"):
        if event.is_ban_like:
            params["reason"] = f"banned ({event.status_reason})"
            status = "error"
            log.warning("number %s closed with ban-like reason %s", auth.number_id, event.status_reason)
            reputation.request_recompute(auth.tenant_id, auth.number_id, runtime().clock, ban=True)  # cools it down
        else:
            params["reason"] = "logged_out" if event.logged_out else (event.state or "close")
            status = "disconnected"
        params["status"] = status
        params["operator"] = list(OPERATOR_DISCONNECTS)
        # The close that follows an operator's logout (stop, a cancelled or expired QR attempt, an archive) keeps
        # the operator's reason: it says why better than "logged_out".
        closed = s.execute(
            text(
                "UPDATE numbers n SET disconnect_reason = CASE WHEN n.status = 'disconnected' "
                "AND :status = 'disconnected' AND n.disconnect_reason = ANY(:operator) "
                "THEN n.disconnect_reason ELSE :reason END, status = CAST(:status AS number_status), "
                "updated_at = now() FROM (SELECT status::text AS status FROM numbers WHERE id = :n FOR UPDATE) old "
                "WHERE n.id = :n RETURNING n.disconnect_reason, old.status AS before"
            ),
            params,
        ).first()
        # Alert when a working number is lost: not for a QR attempt that never paired nor the operator's own logout.
        lost = closed is not None and (event.is_ban_like or closed.before in ("connected", "paused"))
        if lost and closed.disconnect_reason not in OPERATOR_DISCONNECTS:
            kind = alert_rules.BAN_LIKE_CLOSE if event.is_ban_like else alert_rules.DISCONNECT
            return kind, {"reason": closed.disconnect_reason}
    return None
