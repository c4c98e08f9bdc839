"""What one attempt of the send pipeline reads: the queued message with its number, server, settings, round and
schedule in one row (CONTEXT), the number's recent sends for the caps (COUNTS), and a webhook's proof that an
uncertain send went out (EVIDENCE)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import text

from mirage_app.engine import contact_guard
from mirage_app.engine.effective_settings import (
    CONVERSATION_SETTINGS,
    TENANT_SETTINGS,
    EffectiveSettings,
    settings_joins,
    settings_of,
)
from mirage_app.logic.pacing import planned_typing_ms
from mirage_app.models.messaging import counted_sends
from mirage_app.models.tenancy import sends_held_since

CONTEXT = text(
    f"""
    SELECT m.id, m.tenant_id, m.status::text AS status, m.body, m.meta, m.round_id, m.conversation_id, m.from_number_id,
           m.to_number_id, m.contact_id, m.send_after, m.attempts, m.dispatched_at, m.created_at,
           m.kind::text AS kind, m.media_id, m.ref_wa_msg_id, m.group_id, m.cap_weight, wg.group_jid,
           wg.state::text AS group_state, n.wa_number AS own_wa,
           n.session_id, n.server_id, es.health AS server_health, es.state AS server_state,
           px.last_test_ok AS proxy_ok,
           n.status::text AS number_status, n.paired_at, n.active_days, n.failure_streak,
           n.reputation_band, n.reputation_cooldown_until,
           {sends_held_since("t")} AS held_since,
           tn.wa_number AS to_wa, c.wa_number AS contact_wa, t.timezone,
           {TENANT_SETTINGS}, {CONVERSATION_SETTINGS},
           cv.active AS conversation_active,
           r.state::text AS round_state, r.window_key,
           to_jsonb(cs) AS schedule_row
    FROM messages m
    JOIN numbers n ON n.id = m.from_number_id
    LEFT JOIN evolution_servers es ON es.id = n.server_id
    LEFT JOIN proxies px ON px.id = n.proxy_id
    JOIN tenants t ON t.id = m.tenant_id
    {settings_joins("m.tenant_id", "m.conversation_id")}
    LEFT JOIN numbers tn ON tn.id = m.to_number_id
    LEFT JOIN contacts c ON c.id = m.contact_id
    LEFT JOIN conversations cv ON cv.id = m.conversation_id
    LEFT JOIN rounds r ON r.id = m.round_id
    LEFT JOIN warming_groups wg ON wg.id = m.group_id
    LEFT JOIN conversation_schedule cs ON m.round_id IS NOT NULL AND cs.conversation_id = m.conversation_id
         AND cs.day = CAST(lower(to_char(CAST(:now AS timestamptz) AT TIME ZONE t.timezone, 'Dy')) AS weekday)
    WHERE m.id = :id AND m.direction = 'out'
    FOR UPDATE OF m
    """
)


COUNTS = text(
    f"""
    SELECT COALESCE(sum(m.cap_weight) FILTER (WHERE m.sent_at >= :hour_start), 0) AS last_hour,
           min(m.sent_at) FILTER (WHERE m.sent_at >= :hour_start) AS oldest_in_hour,
           COALESCE(sum(m.cap_weight) FILTER (WHERE m.sent_at >= :day_start), 0) AS today,
           max(m.sent_at) AS last_sent,
           (SELECT max(sent_at) FROM messages p WHERE p.from_number_id = :n AND p.direction = 'out'
              AND p.sent_at < :day_start AND p.status <> 'failed') AS last_before_today
    FROM messages m
    WHERE m.from_number_id = :n AND m.sent_at >= :since AND m.sent_at <= :now AND {counted_sends("m")}
      AND m.id <> :self
    """
)

EVIDENCE = text(
    """
    SELECT id, wa_msg_id, status::text AS status FROM messages
    WHERE from_number_id = :n AND id <> :self AND round_id IS NULL AND wa_msg_id IS NOT NULL AND body = :body
      AND (to_number_id IS NOT DISTINCT FROM :to) AND created_at >= :since
    ORDER BY created_at LIMIT 1
    """
)


@dataclass(frozen=True, slots=True)
class SendContext:
    """The queued message with everything one attempt needs (one CONTEXT row)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    status: str
    body: str
    meta: dict[str, Any]
    round_id: uuid.UUID | None
    conversation_id: uuid.UUID | None
    from_number_id: uuid.UUID
    to_number_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    send_after: datetime | None
    attempts: int
    dispatched_at: datetime | None
    created_at: datetime
    kind: str
    media_id: uuid.UUID | None
    ref_wa_msg_id: str | None
    group_id: uuid.UUID | None
    cap_weight: float
    group_jid: str | None
    group_state: str | None
    own_wa: str | None
    session_id: str
    server_id: uuid.UUID | None
    server_health: str | None
    server_state: str | None
    proxy_ok: bool | None  # the last test of the number's proxy (None: no proxy, or never tested)
    number_status: str
    paired_at: datetime | None
    active_days: int
    failure_streak: int
    reputation_band: str | None
    reputation_cooldown_until: datetime | None
    held_since: datetime | None  # the tenant's send gate (models.tenancy.sends_held_since)
    to_wa: str | None
    contact_wa: str | None
    timezone: str
    conversation_active: bool | None
    round_state: str | None
    window_key: str | None
    schedule_row: dict[str, Any] | None
    settings: EffectiveSettings

    @classmethod
    def of(cls, row: Any) -> SendContext:
        columns = {name: getattr(row, name) for name in _CONTEXT_COLUMNS}
        columns["meta"] = columns["meta"] or {}
        return cls(**columns, settings=settings_of(row))

    @property
    def typing_ms(self) -> int:
        """How long Evolution shows "typing…" before it sends (the message's planned typing time)."""
        return planned_typing_ms(self.meta)

    def guarded(self) -> contact_guard.GuardedSend:
        return contact_guard.GuardedSend(
            self.id, self.meta, self.contact_id, self.from_number_id, self.timezone, self.tenant_id
        )


_CONTEXT_COLUMNS = tuple(f.name for f in fields(SendContext) if f.name != "settings")
