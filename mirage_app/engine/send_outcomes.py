"""What one attempt of the send pipeline (`engine.sending`) ends in, and how each ending is written: the outcome
states, the send job's id and scheduling, and the row updates of a deferral, a hold, a retry and a failure.

`OutcomeWriter` is the attempt's half that writes them: it needs the attempt's runtime (`rt`, `cfg`), tenant and
`now`. Every writer commits the caller's transaction and (re)schedules the send when it has a time to run again.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from mirage_app.engine import number_health, round_state
from mirage_app.engine.runtime import SEND_JOB, SEND_QUEUE, EngineRuntime, job_id
from mirage_app.engine.send_context import SendContext
from mirage_app.logic import waits

log = logging.getLogger("mirage.sending")

# Outcome states
SENT = "sent"
ADOPTED = "adopted"
DEFERRED = "deferred"
READING = "reading"
FAILED = "failed"
RETRY = "retry"
BUSY = "busy"
NOOP = "noop"
EARLY = "early"


@dataclass(frozen=True)
class SendOutcome:
    state: str
    reason: str | None = None
    retry_at: datetime | None = None
    wa_msg_id: str | None = None


def send_job_id(message_id: uuid.UUID | str, when: datetime | None = None) -> str:
    if when is None:
        return job_id("send", message_id, "now")
    return job_id("send", message_id, int(when.timestamp()))


def schedule(rt: EngineRuntime, tenant_id: uuid.UUID, message_id: uuid.UUID, when: datetime | None) -> None:
    """Queue the send job for `when` (None or past = now)."""
    jobs = rt.jobs()
    if when is None or when <= rt.clock.now():
        jobs.enqueue(SEND_JOB, str(tenant_id), str(message_id), job_id=send_job_id(message_id), queue=SEND_QUEUE)
    else:
        jobs.enqueue_at(
            when, SEND_JOB, str(tenant_id), str(message_id), job_id=send_job_id(message_id, when), queue=SEND_QUEUE
        )


def patch_message(s, message_id: uuid.UUID, **columns: Any) -> None:
    """Update columns of our row; `meta` (a dict) is merged into the stored JSON."""
    meta = columns.pop("meta", None)
    sets = [f"{name} = :{name}" for name in columns]
    params = dict(columns, id=message_id)
    if meta is not None:
        sets.append("meta = meta || CAST(:meta AS jsonb)")
        params["meta"] = json.dumps(meta, default=str)
    s.execute(text(f"UPDATE messages SET {', '.join(sets)} WHERE id = :id"), params)


class OutcomeWriter:
    """The endings of a send attempt that write the row (mixed into `sending._Attempt`)."""

    rt: EngineRuntime
    cfg: Any  # EngineSettings
    tenant_id: uuid.UUID
    now: datetime

    def _defer(
        self,
        s,
        ctx: SendContext,
        reason: str,
        when: datetime,
        keep_dispatch: bool = False,
        wait: waits.Wait | None = None,
    ) -> SendOutcome:
        if not keep_dispatch and waits.expired(ctx.created_at, self.now):
            # It has waited long enough: whatever it was for has passed. End it with a reason, not one more wait.
            return self._fail(s, ctx, waits.EXPIRED, count=False)
        columns: dict[str, Any] = {
            "send_after": when,
            "updated_at": self.now,
            "wait_reason": (wait.stored() if wait is not None else reason)[:60],
        }
        if not keep_dispatch:
            columns["dispatched_at"] = None
        patch_message(s, ctx.id, **columns)
        s.commit()
        schedule(self.rt, self.tenant_id, ctx.id, when)
        return SendOutcome(DEFERRED, reason, when)

    def _hold(self, s, ctx: SendContext, reason: str) -> SendOutcome:
        """The number's Evolution server (or its proxy) is down, unlicensed or refusing the key: the send provably did
        not go out. Try again after a while without using up an attempt, holding a cap slot or adding to the number's
        failure streak (the fault is not the number's); the probe shows the operator why."""
        when = self.now + timedelta(seconds=self.cfg.server_hold_s * random.uniform(0.8, 1.2))
        patch_message(s, ctx.id, sent_at=None, attempts=ctx.attempts)  # undo the claim, if it happened
        return self._defer(s, ctx, reason, when)

    def _retry(self, s, ctx: SendContext, reason: str, *, count: bool, check_evidence: bool = False) -> SendOutcome:
        """Try again later with exponential backoff. `count`: Evolution failed (adds to the failure streak);
        otherwise a gate (e.g. number not connected) held the send. Both use up one of the attempts."""
        attempts = ctx.attempts + 1  # ctx is the snapshot from before this attempt's claim
        if attempts >= self.cfg.max_send_attempts:
            return self._fail(s, ctx, reason, count=count)
        delay = min(self.cfg.retry_cap_s, self.cfg.retry_base_s * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.8, 1.2)
        when = self.now + timedelta(seconds=delay)
        meta: dict[str, Any] = {"last_error": reason}
        if check_evidence:
            meta["check_evidence"] = True
        patch_message(
            s,
            ctx.id,
            send_after=when,
            dispatched_at=None,
            sent_at=None,
            attempts=attempts,
            error=reason[:500],
            updated_at=self.now,
            meta=meta,
            wait_reason=reason[:60],  # an Evolution error's code: waits.parse reads it as a retry
        )
        paused = count and number_health.record_failure(
            s, self.tenant_id, ctx.from_number_id, reason, self.cfg.failure_streak_pause, self.rt.clock
        )
        s.commit()
        if paused:
            number_health.alert_paused(self.tenant_id, ctx.from_number_id, reason)
        schedule(self.rt, self.tenant_id, ctx.id, when)
        return SendOutcome(RETRY, reason, when)

    def _fail(
        self, s, ctx: SendContext, reason: str, *, count: bool, keep_slot: bool = False, abort_round: bool = True
    ) -> SendOutcome:
        columns: dict[str, Any] = {
            "status": "failed",
            "error": reason[:500],
            "send_after": None,
            "wait_reason": None,
            "updated_at": self.now,
        }
        if not keep_slot:
            columns["sent_at"] = None
        sets = ", ".join(
            f"{k} = :{k}" if k != "status" else "status = CAST(:status AS message_status)" for k in columns
        )
        s.execute(text(f"UPDATE messages SET {sets} WHERE id = :id AND status = 'queued'"), dict(columns, id=ctx.id))
        paused = count and number_health.record_failure(
            s, self.tenant_id, ctx.from_number_id, reason, self.cfg.failure_streak_pause, self.rt.clock
        )
        # An extra of a turn (a reaction, a typo's fix) that fails leaves the round alone.
        if abort_round and ctx.round_id is not None and reason != "unknown_delivery" and "turn" in ctx.meta:
            round_state.abort(s, ctx.round_id, reason, self.now, keep_message=ctx.id)
        s.commit()
        if paused:
            number_health.alert_paused(self.tenant_id, ctx.from_number_id, reason)
        log.info("message %s failed: %s", ctx.id, reason)
        return SendOutcome(FAILED, reason)
