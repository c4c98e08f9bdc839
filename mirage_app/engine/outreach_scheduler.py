"""The outreach tick (every minute, `workers.jobs.outreach_tick`).

Per active policy whose number is connected (all tenants, through the SECURITY DEFINER function
`mirage_active_outreach_policies`, then inside each tenant's RLS session, in the tenant's timezone):

1. inside one of the policy's windows (dayparts x allowed days)?
2. nothing of this number's outreach still queued, and the policy's caps leave room: daily (tenant-local day)
   and hourly (rolling) counts of outreach messages sent by the number, `min_gap_minutes` since its last one;
3. the highest-priority pending target (priority DESC, created_at) whose contact has consent, is not
   suppressed, and is not in an exchange with another policy right now;
4. its opener is written in the policy persona's voice (LLM, else the offline generator; the opt-out hint is
   always there) OUTSIDE any lock, then, under the number's transaction advisory lock (the send pipeline's),
   the caps are checked again, the target is claimed `FOR UPDATE SKIP LOCKED` (still pending and eligible),
   moved to in_progress with round 1, and the opener queued for the send pipeline, which checks consent,
   suppression and the caps once more at its own claim. Concurrent ticks (several workers, overlapping
   periods) therefore queue at most one opener per number at a time, and caps hold whatever Redis does.

Also per tick: exchanges whose last send failed are closed (failed / optout / paused, see `_SWEEP_FAILED`),
exchanges without a reply for `NO_REPLY_AFTER` are done, and inbound contact messages whose follow-up never
ran (a lost `on_message` job, e.g. after a Redis flush) get it re-enqueued.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from mirage_app.core.clock import Clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine import contact_guard, number_safety, plan_use, send_outcomes, sending
from mirage_app.engine.optout import optout_keywords
from mirage_app.engine.outreach_exchange import NO_REPLY_AFTER, compose, outreach_meta
from mirage_app.engine.outreach_sender import load_sender
from mirage_app.engine.outreach_sends import QUEUED_FROM_NUMBER, PolicyCaps, cap_wait
from mirage_app.engine.runtime import ON_MESSAGE_JOB, SEND_QUEUE, EngineRuntime, job_id, runtime
from mirage_app.logic import waits
from mirage_app.logic.dayparts import daypart_at, to_local
from mirage_app.logic.pacing import plan_send
from mirage_app.logic.prompts import OPENER, ContactOptedOut

log = logging.getLogger("mirage.scheduler.outreach")

INBOUND_GRACE = timedelta(seconds=60)  # give the webhook's own on_message job this long before recovering it
INBOUND_HORIZON = timedelta(hours=24)  # older unhandled messages are left alone


@dataclass
class OutreachTickReport:
    policies: int = 0
    openers: int = 0
    skipped: Counter = field(default_factory=Counter)
    targets_failed: int = 0
    targets_no_reply: int = 0
    inbound_recovered: int = 0
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "policies": self.policies,
            "openers": self.openers,
            "skipped": dict(self.skipped),
            "targets_failed": self.targets_failed,
            "targets_no_reply": self.targets_no_reply,
            "inbound_recovered": self.inbound_recovered,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def tick(clock: Clock | None = None, limit: int | None = None) -> OutreachTickReport:
    rt = runtime()
    now = (clock or rt.clock).now()
    limit = limit or rt.settings.tick_limit
    started = time.perf_counter()
    report = OutreachTickReport()
    with system_session() as s:
        policies = s.execute(
            text("SELECT tenant_id, policy_id FROM mirage_active_outreach_policies(:lim)"), {"lim": limit}
        ).all()
        tenants = s.execute(text("SELECT tenant_id FROM mirage_outreach_tenants()")).scalars().all()
        unhandled = s.execute(
            text("SELECT tenant_id, message_id FROM mirage_outreach_unhandled_inbound(:since, :before, :lim)"),
            {"since": now - INBOUND_HORIZON, "before": now - INBOUND_GRACE, "lim": limit},
        ).all()
    for tenant_id in tenants:
        try:
            _sweep(tenant_id, now, report)
        except Exception:
            log.exception("outreach sweep failed for tenant %s", tenant_id)
            report.skipped["error"] += 1
    report.policies = len(policies)
    for row in policies:
        try:
            outcome = PolicyTick(rt, now, row.tenant_id, row.policy_id).run()
        except Exception:  # one policy's bad data must not stop the others
            log.exception("outreach tick failed for policy %s", row.policy_id)
            outcome = "error"
        if outcome == "opener":
            report.openers += 1
        else:
            report.skipped[outcome] += 1
    minute = int(now.timestamp()) // 60
    deferrer = rt.jobs()
    for row in unhandled:
        deferrer.enqueue(
            ON_MESSAGE_JOB,
            str(row.tenant_id),
            str(row.message_id),
            True,
            job_id=job_id("onmsg", row.message_id, "recover", minute),
            queue=SEND_QUEUE,
        )
    report.inbound_recovered = len(unhandled)
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    return report


# The latest outreach message of an exchange failed for good: close the exchange. Opt-outs stay opt-outs; a
# policy switched off (or a paused number) pauses it so it can be resumed; an opener held back because the number
# may not contact anyone new (number_safety) goes back to pending, for later; anything else is a failure. The
# round that was not delivered is given back. `unknown_delivery` may have been delivered: left as it is.
_SWEEP_FAILED = text(
    """
    WITH latest AS (
        SELECT DISTINCT ON (t.id) t.id AS target_id, m.status::text AS mstatus, m.error
        FROM outreach_targets t
        JOIN messages m ON m.outreach_target_id = t.id
        WHERE t.status IN ('in_progress', 'done')
        ORDER BY t.id, m.created_at DESC
    )
    UPDATE outreach_targets t
    SET status = CAST(CASE WHEN l.error = 'contact_suppressed' THEN 'optout'
                           WHEN l.error IN ('policy_inactive', 'number_paused') THEN 'paused'
                           WHEN l.error IN ('number_restricted', 'first_message_allowance') THEN 'pending'
                           ELSE 'failed' END AS target_status),
        last_error = l.error, rounds_done = GREATEST(t.rounds_done - 1, 0), updated_at = :now
    FROM latest l
    WHERE l.target_id = t.id AND l.mstatus = 'failed' AND l.error IS DISTINCT FROM 'unknown_delivery'
    """
)

_SWEEP_NO_REPLY = text(
    """
    UPDATE outreach_targets t SET status = 'done', last_error = 'no_reply', updated_at = :now
    WHERE t.status = 'in_progress' AND t.last_contact_at < :cutoff
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.outreach_target_id = t.id AND m.status = 'queued')
    """
)


def _sweep(tenant_id: uuid.UUID, now: datetime, report: OutreachTickReport) -> None:
    with tenant_session(tenant_id) as s:
        report.targets_failed += s.execute(_SWEEP_FAILED, {"now": now}).rowcount
        report.targets_no_reply += s.execute(_SWEEP_NO_REPLY, {"now": now, "cutoff": now - NO_REPLY_AFTER}).rowcount
        s.commit()


@dataclass(frozen=True, slots=True)
class Policy:
    """An active policy as its turn in the tick reads it (POLICY)."""

    id: uuid.UUID
    active: bool
    number_id: uuid.UUID
    persona_id: uuid.UUID | None
    max_rounds_per_contact: int
    dayparts: list[str] | None
    allow_days: list[str] | None
    number_status: str
    timezone: str
    caps: PolicyCaps

    @classmethod
    def load(cls, s, policy_id: uuid.UUID) -> Policy | None:
        row = s.execute(POLICY, {"p": policy_id}).first()
        if row is None:
            return None
        return cls(row.id, row.active, row.number_id, row.persona_id, row.max_rounds_per_contact, row.dayparts,
                   row.allow_days, row.number_status, row.timezone, PolicyCaps.of(row))  # fmt: skip


POLICY = text(
    """
    SELECT p.id, p.active, p.number_id, p.persona_id, p.daily_limit, p.hourly_limit, p.min_gap_minutes,
           p.max_rounds_per_contact, p.dayparts, p.allow_days, n.status::text AS number_status, t.timezone
    FROM outreach_policies p JOIN numbers n ON n.id = p.number_id JOIN tenants t ON t.id = p.tenant_id
    WHERE p.id = :p
    """
)

_ELIGIBLE = """
    t.status = 'pending' AND c.consent_status = 'granted' AND c.opted_out_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number)
    AND NOT EXISTS (SELECT 1 FROM outreach_targets o WHERE o.contact_id = t.contact_id AND o.status = 'in_progress')
"""

CANDIDATE = text(
    f"""
    SELECT t.id, t.contact_id, c.display_name FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id
    WHERE t.policy_id = :p AND {_ELIGIBLE}
    ORDER BY t.priority DESC, t.created_at, t.id
    LIMIT 1
    """
)

CLAIM = text(
    f"""
    SELECT t.id FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id
    WHERE t.id = :t AND {_ELIGIBLE}
    FOR UPDATE OF t SKIP LOCKED
    """
)


RECORD_WAIT = text(
    """
    UPDATE outreach_policies SET wait_reason = :r, wait_until = :u
    WHERE id = :p AND (wait_reason IS DISTINCT FROM :r OR wait_until IS DISTINCT FROM :u)
    """
)


class PolicyTick:
    """One policy's turn in a tick; `run()` returns "opener" or why nothing was sent."""

    def __init__(self, rt: EngineRuntime, now: datetime, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> None:
        self.rt = rt
        self.now = now
        self.tenant_id = tenant_id
        self.policy_id = policy_id

    def _blocked(self, s, policy: Policy) -> waits.Wait | None:
        """Why the policy's number may not send an opener now (one still queued, or the caps), else None."""
        if s.execute(QUEUED_FROM_NUMBER, {"n": policy.number_id}).scalar():
            return waits.Wait(waits.IN_FLIGHT)
        if not plan_use.outreach_room(s, self.now):
            return waits.Wait(waits.PLAN_OUTREACH_LIMIT)
        held = number_safety.new_contact_wait(s, self.tenant_id, policy.number_id, self.now, policy.timezone)
        if held is not None:
            return held
        return cap_wait(s, policy.number_id, policy.caps, self.now, policy.timezone)

    def _waiting(self, s, policy: Policy) -> waits.Wait | None:
        if policy.number_status != "connected":
            return waits.Wait(waits.NUMBER_OFFLINE)
        allowed_at = contact_guard.next_allowed(policy.dayparts, policy.allow_days, self.now, policy.timezone)
        if allowed_at != self.now:
            return waits.Wait(waits.OUTSIDE_DAYPARTS, allowed_at)
        return self._blocked(s, policy)

    def _record_wait(self, s, wait: waits.Wait | None) -> None:
        """What the policy's waiting targets wait for, written only when it changed (most ticks change nothing)."""
        stored, until = (wait.stored(), wait.until) if wait is not None else (None, None)
        s.execute(RECORD_WAIT, {"p": self.policy_id, "r": stored, "u": until})

    def run(self) -> str:
        with tenant_session(self.tenant_id) as s:
            policy = Policy.load(s, self.policy_id)
            if policy is None or not policy.active:
                return "inactive"
            wait = self._waiting(s, policy)
            candidate = s.execute(CANDIDATE, {"p": self.policy_id}).first() if wait is None else None
            if wait is None and candidate is None:
                wait = waits.Wait(waits.NO_TARGET)
            self._record_wait(s, wait)
            if wait is not None:
                s.commit()
                return wait.reason
            sender = load_sender(s, policy.number_id, policy.persona_id)
            keywords = optout_keywords(s)
            s.commit()
        daypart = daypart_at(to_local(self.now, policy.timezone).time())
        seed = f"{candidate.id}|{self.now.isoformat()}"
        try:
            reply = compose(
                sender.persona, candidate.display_name, OPENER, [], sender.locale, keywords, daypart,
                seed=seed, llm=self.rt.llm_client(),
            )  # fmt: skip
        except ContactOptedOut:  # pragma: no cover - empty history
            return "optout"
        settings = sender.settings
        plan = plan_send(
            reply.text, random.Random(f"{seed}|plan"), settings.humanize_config, humanize=settings.humanize
        )
        meta = outreach_meta(
            kind=OPENER, policy_id=policy.id, target_id=candidate.id, round_no=1, daypart=daypart, plan=plan,
            reply=reply,
        )  # fmt: skip
        final = policy.max_rounds_per_contact <= 1
        with tenant_session(self.tenant_id) as s:
            sending.lock_number(s, policy.number_id)
            fresh = Policy.load(s, self.policy_id)
            if fresh is None or not fresh.active or fresh.number_id != policy.number_id:
                return "inactive"
            blocked = self._blocked(s, fresh)
            if blocked is not None:
                return blocked.reason
            if s.execute(CLAIM, {"t": candidate.id}).first() is None:
                return "raced"
            s.execute(
                text(
                    "UPDATE outreach_targets SET status = CAST(:st AS target_status), rounds_done = 1, "
                    "last_contact_at = :now, last_error = NULL, updated_at = :now WHERE id = :t"
                ),
                {"st": "done" if final else "in_progress", "now": self.now, "t": candidate.id},
            )
            message_id = s.execute(
                text(
                    "INSERT INTO messages (id, tenant_id, from_number_id, contact_id, direction, body, meta, status, "
                    "created_at, send_after) VALUES (gen_random_uuid(), :t, :n, :c, 'out', :body, "
                    "CAST(:meta AS jsonb), 'queued', :now, :now) RETURNING id"
                ),
                {
                    "t": self.tenant_id,
                    "n": policy.number_id,
                    "c": candidate.contact_id,
                    "body": reply.text,
                    "meta": json.dumps(meta),
                    "now": self.now,
                },
            ).scalar()
            s.commit()
        send_outcomes.schedule(self.rt, self.tenant_id, message_id, None)
        log.info("outreach opener %s queued for target %s (policy %s)", message_id, candidate.id, policy.id)
        return "opener"
