"""The last check before any message goes to an external contact, run by the send pipeline in the same
transaction as its send claim (`sending._Attempt._caps`, under the per-number advisory lock).

- Every message to a contact (outreach or a conversation with a human participant): the contact must exist, have
  consent `granted`, no `opted_out_at`, and its number must not be on the tenant's suppression list (by number,
  or by the keyed hash an erasure left). The contact
  row is read `FOR SHARE`: an opt-out (`suppression.apply_suppression`) updates that row, so an opt-out committed a
  moment before the claim is always seen, and one in flight waits for the claim (or the claim waits for it).
- Outreach messages (`meta.app_origin == "outreach"`): the policy must still be active on this number, the target
  still in progress (a paused / reset / opted-out target sends nothing), the time inside the policy's dayparts
  and allowed days (tenant timezone), and the policy's caps hold: daily (tenant-local day) and hourly (rolling)
  counts of outreach messages sent by this number, and `min_gap_minutes` since its last outreach send (what
  counts is `outreach_sends`). The database is the source of truth, so the caps hold with any number of workers
  and after a Redis flush. An opener (a first message to someone new) also needs the number to be free to contact
  new people (`number_safety`: no reach-out restriction, the monthly allowance of unanswered first messages left).
- The single opt-out confirmation (`kind == "optout_confirmation"`, send key `optout:<suppression id>`) skips
  both the contact check (the contact has just opted out) and every cap: it is written once per suppression.

The verdict tells the pipeline what to do: send (then the pipeline's own caps apply), bypass (send now, no caps),
fail (permanently, with a reason) or defer (retry at `retry_at`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from mirage_app.engine import number_safety
from mirage_app.engine.outreach_sends import (
    OPTOUT_CONFIRMATION,
    OUTREACH,
    PolicyCaps,
    cap_wait,
    is_optout_confirmation,
)
from mirage_app.engine.suppression import erased_in
from mirage_app.logic import waits
from mirage_app.logic.dayparts import schedule_status, slots_for
from mirage_app.logic.prompts import OPENER

SEND = "send"
BYPASS = "bypass"
FAIL = "fail"
DEFER = "defer"

# Reasons (stored in messages.error)
CONTACT_GONE = "contact_gone"
CONTACT_SUPPRESSED = "contact_suppressed"
CONTACT_NO_CONSENT = "contact_no_consent"
POLICY_INACTIVE = "policy_inactive"
TARGET_GONE = "target_gone"
OUTSIDE_DAYPARTS = waits.OUTSIDE_DAYPARTS  # also a wait: deferred to the next window


@dataclass(frozen=True)
class Verdict:
    action: str
    reason: str | None = None
    retry_at: datetime | None = None
    wait: waits.Wait | None = None  # a cap's deferral: which cap, its use and until when


SEND_OK = Verdict(SEND)


@dataclass(frozen=True, slots=True)
class GuardedSend:
    """The message being claimed, as the guard needs it."""

    id: uuid.UUID
    meta: dict[str, Any]
    contact_id: uuid.UUID | None
    from_number_id: uuid.UUID
    timezone: str
    tenant_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class OutreachClaim:
    """An outreach message's policy and target as they are at the claim (OUTREACH_CONTEXT)."""

    active: bool
    number_id: uuid.UUID
    caps: PolicyCaps
    dayparts: list[str] | None
    allow_days: list[str] | None
    target_id: uuid.UUID | None
    target_status: str | None
    rounds_done: int | None

    @classmethod
    def of(cls, row: Any) -> OutreachClaim:
        return cls(row.active, row.number_id, PolicyCaps.of(row), row.dayparts, row.allow_days, row.target_id,
                   row.target_status, row.rounds_done)  # fmt: skip


CONTACT_CHECK = text(
    """
    SELECT c.consent_status::text AS consent, c.opted_out_at, c.wa_number,
           EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number) AS suppressed
    FROM contacts c WHERE c.id = :c
    FOR SHARE OF c
    """
)

OUTREACH_CONTEXT = text(
    """
    SELECT p.id AS policy_id, p.active, p.number_id, p.daily_limit, p.hourly_limit, p.min_gap_minutes,
           p.dayparts, p.allow_days, t.id AS target_id, t.status::text AS target_status, t.rounds_done
    FROM outreach_policies p
    LEFT JOIN outreach_targets t ON t.id = CAST(:t AS uuid) AND t.policy_id = p.id
    WHERE p.id = CAST(:p AS uuid)
    """
)


def before_claim(s, send: GuardedSend, now: datetime) -> Verdict:
    """The verdict for `send` at `now`, inside the claim transaction."""
    if send.contact_id is None:
        return SEND_OK  # between our own numbers
    if is_optout_confirmation(send.meta):
        return Verdict(BYPASS, OPTOUT_CONFIRMATION)
    contact = s.execute(CONTACT_CHECK, {"c": send.contact_id}).first()
    if contact is None:
        return Verdict(FAIL, CONTACT_GONE)
    if contact.suppressed or contact.opted_out_at is not None or erased_in(s, contact.wa_number):
        return Verdict(FAIL, CONTACT_SUPPRESSED)
    if contact.consent != "granted":
        return Verdict(FAIL, CONTACT_NO_CONSENT)
    if send.meta.get("app_origin") == OUTREACH:
        return outreach_verdict(s, send, now)
    return SEND_OK


def policy_window(dayparts: list[str] | None, allow_days: list[str] | None, when: datetime, tz: str):
    """(open window or None, next window or None) of a policy at `when`."""
    status = schedule_status(slots_for(allow_days or None, dayparts or None), when, tz)
    return status.open, status.next_open


def next_allowed(dayparts: list[str] | None, allow_days: list[str] | None, when: datetime, tz: str) -> datetime | None:
    """`when` if it is inside one of the policy's windows, else the start of the next one (UTC)."""
    current, upcoming = policy_window(dayparts, allow_days, when, tz)
    if current is not None:
        return when
    return upcoming.start.astimezone(UTC) if upcoming is not None else None


def outreach_verdict(s, send: GuardedSend, now: datetime) -> Verdict:
    """Policy still on for this number, target still in its exchange, inside the windows, within the caps."""
    row = s.execute(
        OUTREACH_CONTEXT, {"p": send.meta.get("outreach_policy_id"), "t": send.meta.get("outreach_target_id")}
    ).first()
    policy = OutreachClaim.of(row) if row is not None else None
    if policy is None or not policy.active or policy.number_id != send.from_number_id:
        return Verdict(FAIL, POLICY_INACTIVE)
    if policy.target_id is None:
        return Verdict(FAIL, TARGET_GONE)
    latest = int(send.meta.get("round") or 0) == policy.rounds_done
    if not (policy.target_status == "in_progress" or (policy.target_status == "done" and latest)):
        return Verdict(FAIL, f"target_{policy.target_status}")
    allowed_at = next_allowed(policy.dayparts, policy.allow_days, now, send.timezone)
    if allowed_at is None:
        return Verdict(FAIL, OUTSIDE_DAYPARTS)
    if allowed_at > now:
        return Verdict(DEFER, OUTSIDE_DAYPARTS, allowed_at)
    if send.meta.get("kind") == OPENER:
        # Never retried while it lasts (a retry is one more reach-out); the sweep gives the target back.
        held = number_safety.new_contact_wait(s, send.tenant_id, send.from_number_id, now, send.timezone)
        if held is not None:
            return Verdict(FAIL, held.reason)
    wait = cap_wait(s, send.from_number_id, policy.caps, now, send.timezone, exclude=send.id)
    if wait is None:
        return SEND_OK
    retry_at = wait.until or (now + timedelta(hours=1))
    until = next_allowed(policy.dayparts, policy.allow_days, retry_at, send.timezone) or retry_at
    return Verdict(DEFER, wait.reason, until, replace(wait, until=until))
