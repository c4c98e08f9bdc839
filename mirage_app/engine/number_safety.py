"""What keeps a number from contacting anyone new: WhatsApp's reach-out restriction (inferred from the pattern
of its sends, `logic.restrictions`) and the tenant's monthly allowance of unanswered first messages. The outreach
tick asks before it writes an opener, and the send guard asks again before an opener goes out (`new_contact_wait`);
chats already under way are never held by either.

`detect` reads a number's recent sends whose fate is known (acked, or ERROR from a `messages.update` with no
Mirage-side error) and records a `number_restrictions` row when the rule says so; the periodic restriction sweep
(`services.restrictions.sweep_all`) runs it and tells people.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.logic import waits
from mirage_app.logic.prompts import OPENER
from mirage_app.logic.restrictions import (
    DEFAULT_RULE,
    REACH_OUT,
    RestrictionRule,
    SendResult,
    Verdict,
    estimated_end,
    infer,
    month_bounds,
)

# A message Evolution took (it has a key) and WhatsApp answered: acked, or refused with ERROR. A Mirage-side
# failure (a gate, a 4xx) carries an `error` and says nothing about WhatsApp.
_KNOWN_FATE = (
    "m.direction = 'out' AND m.wa_msg_id IS NOT NULL AND m.error IS NULL "
    "AND m.status IN ('failed', 'server_ack', 'delivered', 'read')"
)
_IS_OPENER = f"m.meta->>'kind' = '{OPENER}'"

ACTIVE = text(
    """
    SELECT id, ends_at, source::text AS source FROM number_restrictions
    WHERE number_id = :n AND lifted_at IS NULL AND ends_at > :now ORDER BY ends_at DESC LIMIT 1
    """
)

# Numbers with a refused opener in the window and no restriction running: the only ones worth a look.
SUSPECTS = text(
    f"""
    SELECT DISTINCT m.from_number_id FROM messages m
    WHERE {_KNOWN_FATE} AND m.status = 'failed' AND {_IS_OPENER} AND COALESCE(m.sent_at, m.created_at) >= :since
      AND NOT EXISTS (SELECT 1 FROM number_restrictions r WHERE r.number_id = m.from_number_id
                      AND r.lifted_at IS NULL AND r.ends_at > :now)
    """
)

RESULTS = text(
    f"""
    SELECT COALESCE(m.sent_at, m.created_at) AS at, ({_IS_OPENER}) AS new_contact, m.status = 'failed' AS failed
    FROM messages m
    WHERE m.from_number_id = :n AND {_KNOWN_FATE} AND COALESCE(m.sent_at, m.created_at) >= :since
    """
)

EARLIER = text("SELECT count(*) FROM number_restrictions WHERE number_id = :n AND started_at >= :since")

RECORD = text(
    """
    INSERT INTO number_restrictions (tenant_id, number_id, kind, source, started_at, ends_at, ends_at_estimated,
                                     evidence)
    VALUES (:t, :n, :kind, 'inferred', :started, :ends, true, CAST(:evidence AS jsonb))
    RETURNING id
    """
)

# First messages to new contacts this month that no message from the contact has answered (yet).
UNANSWERED = text(
    f"""
    SELECT count(*) FROM messages m
    WHERE m.tenant_id = :t AND m.direction = 'out' AND {_IS_OPENER} AND m.wa_msg_id IS NOT NULL
      AND COALESCE(m.sent_at, m.created_at) >= :start AND COALESCE(m.sent_at, m.created_at) < :end
      AND NOT EXISTS (SELECT 1 FROM messages a WHERE a.contact_id = m.contact_id AND a.direction = 'in'
                      AND a.created_at >= m.created_at)
    """
)

ALLOWANCE = text("SELECT COALESCE((SELECT unanswered_first_allowance FROM settings_tenant WHERE tenant_id = :t), 200)")


@dataclass(frozen=True)
class Detected:
    restriction_id: uuid.UUID
    number_id: uuid.UUID
    started_at: datetime
    ends_at: datetime


def active_restriction(s, number_id: uuid.UUID, now: datetime):
    """The number's restriction in force now (id, ends_at, source), or None."""
    return s.execute(ACTIVE, {"n": number_id, "now": now}).first()


def unanswered_this_month(s, tenant_id: uuid.UUID, now: datetime, tz: str) -> tuple[int, datetime]:
    """(unanswered first messages of the tenant this month, when the month ends) in the tenant's calendar."""
    start, end = month_bounds(now, tz)
    return int(s.execute(UNANSWERED, {"t": tenant_id, "start": start, "end": end}).scalar() or 0), end


def new_contact_wait(s, tenant_id: uuid.UUID, number_id: uuid.UUID, now: datetime, tz: str) -> waits.Wait | None:
    """Why the number may not write to anyone new now, and until when; None when it may."""
    restriction = active_restriction(s, number_id, now)
    if restriction is not None:
        return waits.Wait(waits.NUMBER_RESTRICTED, restriction.ends_at)
    allowance = int(s.execute(ALLOWANCE, {"t": tenant_id}).scalar())
    used, month_end = unanswered_this_month(s, tenant_id, now, tz)
    if used >= allowance:
        return waits.Wait(waits.FIRST_MESSAGE_ALLOWANCE, month_end, used, allowance)
    return None


def detect(s, tenant_id: uuid.UUID, now: datetime, rule: RestrictionRule = DEFAULT_RULE) -> list[Detected]:
    """Record a restriction for every number of the tenant whose recent sends read as one (caller commits)."""
    since = now - rule.window
    found: list[Detected] = []
    for number_id in s.execute(SUSPECTS, {"since": since, "now": now}).scalars().all():
        rows = s.execute(RESULTS, {"n": number_id, "since": since}).all()
        inference = infer([SendResult(r.at, bool(r.new_contact), bool(r.failed)) for r in rows], now, rule)
        if inference.verdict != Verdict.reach_out or inference.first_error_at is None:
            continue
        earlier = int(s.execute(EARLIER, {"n": number_id, "since": now - rule.memory}).scalar() or 0)
        started = inference.first_error_at
        ends = estimated_end(started, earlier, rule)
        evidence = inference.evidence() | {"earlier_restrictions": earlier}
        params = {"t": tenant_id, "n": number_id, "kind": REACH_OUT, "started": started, "ends": ends,
                  "evidence": json.dumps(evidence)}  # fmt: skip
        restriction_id = s.execute(RECORD, params).scalar()
        found.append(Detected(restriction_id, number_id, started, ends))
    return found
