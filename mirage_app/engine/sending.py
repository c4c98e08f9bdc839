"""The humanised send pipeline for one queued outbound message (`workers.jobs.send_message`).

Idempotent by construction:
- the `messages` row exists first (status `queued`, `meta.send_key` unique per round turn), the job only moves it;
- a session advisory lock per message means one live worker handles a message at a time; a worker that dies
  loses its connection and so its lock, and whoever runs the job next (RQ's abandoned-job retry, or the tick's
  overdue sweep) finds the row exactly as the dead worker left it;
- `dispatched_at` is committed just before the HTTP call. A row found `queued` with `dispatched_at` set means
  "maybe sent": it is never resent blindly. If a webhook proves the send (a row from the same number, same
  peer and body, created after the dispatch) that row is adopted; otherwise, after `EVIDENCE_WAIT`, the message
  fails with `unknown_delivery`.

Per attempt: gates (round still running, conversation active, number connected and not paused, settle time
after pairing, the round's window still open) → caps, with the database as the source of truth, under a
per-number transaction advisory lock (rolling-hour burst, warm-up daily cap in the tenant's day, minimum gap,
quiet hours; a block defers the row to `retry_at`) → for replies, the read receipt, then the reading delay →
`sendText` with `delay` = typing time → store `wa_msg_id` (merging the webhook's row if it got there first).

Failures: the number's Evolution server unreachable (no connection: provably unsent), licence-gated or refusing its
key holds the send (`server_hold_s`) without using an attempt or touching the number's failure streak; the probe
(engine.server_health) marks the server so further sends wait without calling it. Evolution-reported failures
(5xx, closed connection) and "number not connected" are retried with exponential backoff up to
`max_send_attempts`; a read timeout is ambiguous and ends `failed/unknown_delivery`; a 4xx (e.g. not on WhatsApp)
is final. Every failed attempt of those counts towards the number's failure streak (auto-pause, see
number_health); a success resets it.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mirage_app.core import signed_links
from mirage_app.core.db import app_engine, tenant_connection, tenant_session
from mirage_app.core.telemetry import SEND_LAG, SENDS
from mirage_app.engine import contact_guard, inbox, ingest_rich, number_health, rich_sends, round_state
from mirage_app.engine.effective_settings import EffectiveSettings
from mirage_app.engine.runtime import SEND_JOB, SEND_QUEUE, EngineRuntime, job_id, runtime
from mirage_app.engine.send_context import CONTEXT, COUNTS, EVIDENCE, SendContext
from mirage_app.engine.send_outcomes import (
    ADOPTED,
    BUSY,
    EARLY,
    NOOP,
    READING,
    SENT,
    OutcomeWriter,
    SendOutcome,
    patch_message,
    schedule,
)
from mirage_app.evolution.errors import (
    ConnectionClosed,
    EvolutionError,
    EvolutionServerError,
    EvolutionTimeout,
    EvolutionUnauthorized,
    EvolutionUnavailable,
)
from mirage_app.logic import reputation, waits, warmup
from mirage_app.logic.caps import CapState, check_send, local_day_bounds, rolling_hour_start
from mirage_app.logic.dayparts import schedule_status, slots_from_day_rows
from mirage_app.models.servers import HELD_HEALTH, ServerHealth, ServerState

log = logging.getLogger("mirage.sending")

MESSAGE_LOCK_NS = 7_300_412  # session advisory lock namespace: one sender per message
NUMBER_LOCK_NS = 7_300_413  # transaction advisory lock namespace: caps per number
EVIDENCE_WAIT = timedelta(seconds=60)
STOP_RECHECK = timedelta(minutes=5)  # a held send looks again this often even if nobody resumes it


def _lock_key(value: uuid.UUID) -> int:
    return int.from_bytes(value.bytes[:4], "big", signed=True)


def lock_number(s, number_id: uuid.UUID) -> None:
    """Serialise, until the end of the caller's transaction, everything that claims a send slot of `number_id`
    (the pipeline's claim, the outreach tick's opener)."""
    s.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": NUMBER_LOCK_NS, "k": _lock_key(number_id)})


# The sent message takes its WhatsApp id; a row the webhook stored for the same id meanwhile (a stray) is removed
# and its status kept (a receipt may have come first). One statement: the stray's DELETE runs to completion when
# the UPDATE first reads it, before the id is written, so the unique key never sees both rows. The message's
# advisory lock, when this attempt holds it, is released by the same statement, after its row is updated (a
# waiting attempt's FOR UPDATE then blocks until this commits, and finds it sent). The message claims its id in
# message_wa_ids (alembic 0027) before anything else, as the webhook ingest does: the key row is then always locked
# before a message row, and the ingest of a delivery for the same id never waits on this row while this statement
# waits on its key (a deadlock). A stray the claim finds (the key's holder) is the one deleted; one committed after
# this statement began is not seen, so the claim then fails (unique_violation) and `_record_sent` tries again.
MERGE_SENT = text(
    "WITH key AS (INSERT INTO message_wa_ids AS w (tenant_id, wa_msg_id, message_id, created_at) "
    "SELECT tenant_id, :wa, id, created_at FROM messages WHERE id = :id "
    "ON CONFLICT (tenant_id, wa_msg_id) DO UPDATE SET message_id = w.message_id RETURNING message_id), "
    "stray AS (DELETE FROM messages WHERE wa_msg_id = :wa AND id <> :id AND EXISTS (SELECT FROM key) "
    "RETURNING status) "
    "UPDATE messages SET wa_msg_id = :wa, "
    "status = GREATEST(status, CAST(:floor AS message_status), (SELECT max(status) FROM stray)), "
    "error = NULL, send_after = NULL, wait_reason = NULL, updated_at = :now, meta = meta - 'check_evidence' "
    "WHERE id = :id "
    "RETURNING status::text AS status, meta, CASE WHEN :unlock THEN pg_advisory_unlock(:ns, :k) END AS unlocked"
)


def process(
    tenant_id: uuid.UUID | str, message_id: uuid.UUID | str, conn=None, prepare: Callable | None = None
) -> SendOutcome:
    """Run one attempt of the pipeline for a queued message (see the module docstring).

    One pooled connection carries the whole attempt: the message's session advisory lock and every transaction
    of the attempt (each still pinned to the tenant), so an attempt costs one checkout. A caller that already
    holds a connection (no transaction open on it) may lend it with `conn`. `prepare(session)` runs first inside
    the attempt's first transaction (e.g. the INSERT of a brand-new message, saving a transaction).
    """
    if conn is None:  # a send job
        with app_engine().connect() as own:
            outcome = process(tenant_id, message_id, own, prepare)
        if outcome.state == EARLY and outcome.retry_at is not None:
            # Released before its time (a worker whose clock runs behind): run again then, not at the overdue sweep.
            when = datetime.fromtimestamp(math.ceil(outcome.retry_at.timestamp()), UTC)
            runtime().jobs().enqueue_at(
                when, SEND_JOB, str(tenant_id), str(message_id), queue=SEND_QUEUE,
                job_id=job_id("send", message_id, "early", int(when.timestamp())),
            )  # fmt: skip
        return outcome
    rt = runtime()
    tenant, message = uuid.UUID(str(tenant_id)), uuid.UUID(str(message_id))
    attempt = _Attempt(rt, tenant, message, conn)
    try:
        # The lock is taken inside the attempt's first transaction (it is session-level: it outlives it) and, on
        # success, released inside the last one; any other way out releases it here.
        outcome = attempt.run(prepare)
        SENDS.labels(outcome.state).inc()
        return outcome
    finally:
        if attempt.locked:
            try:
                conn.rollback()  # nothing may stay open
                conn.execute(text("SELECT pg_advisory_unlock(:ns, :k)"), attempt.lock)
                conn.commit()
            except Exception:  # a broken connection released the lock already; never return it to the pool
                conn.invalidate()


class _Attempt(OutcomeWriter):
    def __init__(self, rt: EngineRuntime, tenant_id: uuid.UUID, message_id: uuid.UUID, conn=None) -> None:
        self.conn = conn
        self.lock = {"ns": MESSAGE_LOCK_NS, "k": _lock_key(message_id)}
        self.locked = conn is None  # without a connection of its own the caller manages the lock
        self.rt = rt
        self.tenant_id = tenant_id
        self.message_id = message_id
        self.cfg = rt.settings
        self.now = rt.clock.now()
        self.edit_target: str | None = None  # an edit's original WhatsApp id, found by the gates

    def session(self, *, flush_commit: bool = True):
        if self.conn is None:
            return tenant_session(self.tenant_id)
        return tenant_connection(self.conn, self.tenant_id, flush_commit=flush_commit)

    # -- orchestration ----------------------------------------------------------------------------------------

    def run(self, prepare: Callable | None = None) -> SendOutcome:
        with self.session() as s:
            if not self.locked:
                if not s.execute(text("SELECT pg_try_advisory_lock(:ns, :k)"), self.lock).scalar():
                    return SendOutcome(BUSY)  # a live worker has it (a dead one's connection lost the lock)
                self.locked = True
            if prepare is not None:
                prepare(s)
            row = s.execute(CONTEXT, {"id": self.message_id, "now": self.now}).first()
            if row is None or row.status != "queued":
                return SendOutcome(NOOP, "missing" if row is None else row.status)
            ctx = SendContext.of(row)
            if ctx.dispatched_at is not None or ctx.meta.get("check_evidence"):
                outcome = self._after_unknown(s, ctx)
                if outcome is not None:
                    return outcome
            if ctx.send_after is not None and ctx.send_after > self.now:
                s.commit()  # keeps a row `prepare` wrote
                return SendOutcome(EARLY, retry_at=ctx.send_after)
            settings = ctx.settings
            blocked = self._gates(s, ctx, settings)
            if blocked is not None:
                return blocked
            meta = ctx.meta
            reply_to = meta.get("reply_to") or {}
            needs_read = bool(reply_to.get("wa_msg_id")) and not meta.get("read_at")
            if needs_read and int((meta.get("plan") or {}).get("read_ms") or 0) > 0:
                s.commit()  # release the row lock while we talk to Evolution
                return self._read_phase(ctx, reply_to, meta)
            capped = self._caps(s, ctx, settings)
            if capped is not None:
                return capped
            s.commit()
        if needs_read:  # no reading delay (humanising off): the receipt goes right before the typing
            self._mark_read(ctx, reply_to)
        return self._send(ctx)

    # -- gates ------------------------------------------------------------------------------------------------

    def _gates(self, s, ctx: SendContext, settings: EffectiveSettings) -> SendOutcome | None:
        if ctx.round_id is not None and ctx.round_state != "running":
            return self._fail(s, ctx, f"round_{ctx.round_state}", count=False, abort_round=False)
        if ctx.conversation_id is not None and not ctx.conversation_active:
            return self._fail(s, ctx, "conversation_inactive", count=False)
        if ctx.number_status == "paused":
            return self._fail(s, ctx, "number_paused", count=False)
        if ctx.server_state == ServerState.disabled:
            return self._fail(s, ctx, "server_disabled", count=False)
        if ctx.held_since is not None:  # opening the gate re-schedules every held send (safety_stop.release_held)
            return self._defer(s, ctx, waits.EMERGENCY_STOP, self.now + STOP_RECHECK)
        cooled_until = reputation.held_until(ctx.reputation_band, ctx.reputation_cooldown_until, self.now)
        if cooled_until is not None:
            return self._defer(s, ctx, waits.REPUTATION_COOLDOWN, cooled_until)
        if ctx.server_health in HELD_HEALTH:
            return self._hold(s, ctx, f"server_{ctx.server_health}")
        if ctx.proxy_ok is False:  # the session's route is down: wait for the proxy, like for a server
            return self._hold(s, ctx, waits.PROXY_FAILING)
        if ctx.number_status != "connected":
            return self._retry(s, ctx, f"number_{ctx.number_status}", count=False)
        if ctx.group_id is not None and (ctx.group_state != "active" or not ctx.group_jid):
            return self._fail(s, ctx, f"group_{ctx.group_state or 'gone'}", count=False)
        if not (ctx.to_wa or ctx.contact_wa or ctx.group_id or ctx.kind == "status"):
            return self._fail(s, ctx, "no_recipient", count=False)
        if ctx.kind == "edit":
            self.edit_target, never = rich_sends.edit_original(s, ctx)
            if never:
                return self._fail(s, ctx, "edit_original_failed", count=False)
            if self.edit_target is None:  # the typo's message has not gone out yet: fix it once it has
                return self._defer(s, ctx, waits.SEND_RETRY, self.now + timedelta(seconds=10))
        if not warmup.settled(ctx.paired_at, self.now, settings.warmup):
            when = (
                warmup.settle_ends_at(ctx.paired_at, settings.warmup)
                if ctx.paired_at is not None
                else self.now + timedelta(hours=1)
            )
            return self._defer(s, ctx, waits.SETTLING, when)
        if ctx.round_id is not None:
            window = self._open_window(s, ctx)
            if window is None or window.key != ctx.window_key:
                return self._fail(s, ctx, "window_closed", count=False)
        return None

    def _open_window(self, s, ctx: SendContext):
        """The conversation's window open now (from today's schedule row, read with the context)."""
        if not ctx.schedule_row:
            return None
        return schedule_status(slots_from_day_rows([ctx.schedule_row]), self.now, ctx.timezone).open

    def _caps(self, s, ctx: SendContext, settings: EffectiveSettings) -> SendOutcome | None:
        lock_number(s, ctx.from_number_id)
        # Contacts: consent + suppression (+ outreach policy caps), in this claim's transaction (contact_guard).
        verdict = contact_guard.before_claim(s, ctx.guarded(), self.now)
        if verdict.action == contact_guard.FAIL:
            return self._fail(s, ctx, verdict.reason or "blocked", count=False)
        if verdict.action == contact_guard.DEFER:
            when = verdict.retry_at or self.now + timedelta(hours=1)
            return self._defer(s, ctx, verdict.reason or "blocked", when, wait=verdict.wait)
        if verdict.action == contact_guard.BYPASS:  # the one opt-out confirmation: no caps
            meta = {"caps_bypassed": verdict.reason}
            patch_message(s, ctx.id, sent_at=self.now, attempts=ctx.attempts + 1, dispatched_at=self.now, meta=meta)
            return None
        hour_start = rolling_hour_start(self.now)
        day_start, _ = local_day_bounds(self.now, ctx.timezone)
        counts = s.execute(
            COUNTS,
            {
                "n": ctx.from_number_id,
                "hour_start": hour_start,
                "day_start": day_start,
                "since": min(hour_start, day_start),
                "now": self.now,
                "self": ctx.id,
            },
        ).one()
        policy = settings.warmup
        first_of_day = counts.today == 0
        day = warmup.day_today(policy, ctx.active_days, not first_of_day, counts.last_before_today, self.now)
        warm_daily = warmup.daily_cap(policy, day, health_ok=ctx.failure_streak < 2)
        hourly, daily, codes = reputation.band_caps(ctx.reputation_band, settings.hourly_burst_limit, warm_daily)
        state = CapState(
            sent_last_hour=counts.last_hour,
            sent_today=counts.today,
            last_sent_at=counts.last_sent,
            oldest_in_hour_at=counts.oldest_in_hour,
        )
        decision = check_send(
            self.now,
            state,
            hourly_limit=hourly,
            daily_limit=daily,
            min_gap=settings.min_gap,
            quiet_hours=settings.quiet_hours if settings.quiet_hours.enabled else None,
            tz_name=ctx.timezone,
            weight=ctx.cap_weight,
        )
        if not decision.allowed:
            retry_at = decision.retry_at or (self.now + timedelta(hours=1))
            if ctx.round_id is not None:
                window = self._open_window(s, ctx)
                if window is None or retry_at >= window.end.astimezone(UTC):
                    return self._fail(s, ctx, decision.reason or "capped", count=False)
            wait = waits.cap_wait(decision, state, hourly, daily, codes=codes)
            return self._defer(s, ctx, decision.reason or "capped", retry_at, wait=wait)
        # Claim: the reserved slot (sent_at) counts for every other sender of this number from now on.
        meta = {"warm_day": day, "first_of_day": first_of_day, "daily_cap": daily, "lag_ms": self._lag_ms(ctx)}
        patch_message(
            s, ctx.id, sent_at=self.now, attempts=ctx.attempts + 1, dispatched_at=self.now, meta=meta,
            wait_reason=waits.TYPING,
        )  # fmt: skip
        return None

    def _lag_ms(self, ctx: SendContext) -> int:
        """How late this send goes out against its plan (the last `send_after`, or its creation): send lag."""
        lag_s = max(0.0, (self.now - (ctx.send_after or ctx.created_at)).total_seconds())
        SEND_LAG.observe(lag_s)
        return round(lag_s * 1000)

    # -- phases -----------------------------------------------------------------------------------------------

    def _mark_read(self, ctx: SendContext, reply_to: dict) -> str | None:
        """Blue ticks for the message we answer; an error is returned, not raised (receipts are cosmetic)."""
        try:
            client = self.rt.evolution_client(self.tenant_id, ctx.server_id)
            client.mark_read(ctx.session_id, rich_sends.chat_jid(ctx), reply_to["wa_msg_id"])
        except EvolutionError as exc:
            return exc.reason
        return None

    def _read_phase(self, ctx: SendContext, reply_to: dict, meta: dict) -> SendOutcome:
        """Blue ticks for the message we answer, then wait the reading time before typing."""
        read_error = self._mark_read(ctx, reply_to)
        plan = meta.get("plan") or {}
        read_ms = int(plan.get("read_ms") or 0)
        send_at = self.now + timedelta(milliseconds=read_ms)
        patch = {"read_at": self.now.isoformat()}
        if read_error:
            patch["read_error"] = read_error
        with self.session() as s:
            patch_message(s, ctx.id, send_after=send_at, updated_at=self.now, meta=patch, wait_reason=waits.READING)
            s.commit()
        if read_ms <= 0:
            return self.run()
        schedule(self.rt, self.tenant_id, ctx.id, send_at)
        return SendOutcome(READING, retry_at=send_at)

    def _send(self, ctx: SendContext) -> SendOutcome:
        media, edit_target = None, self.edit_target  # the gates found the edited message's id
        if ctx.kind in rich_sends.NEEDS_MEDIA:
            with self.session() as s:
                media = rich_sends.load_media(s, self.tenant_id, ctx.media_id)
                if media is None:
                    return self._fail(s, ctx, "media_deleted", count=False)
        # A picture status: Evolution downloads the file itself, through a signed link that expires.
        link = (
            signed_links.file_link(self.tenant_id, ctx.media_id, self.now)
            if ctx.kind == "status" and ctx.media_id is not None
            else None
        )
        try:
            client = self.rt.evolution_client(self.tenant_id, ctx.server_id)
            wa_msg_id = rich_sends.deliver(client, ctx, media, edit_target, link)
        except EvolutionError as exc:
            return self._failed_send(ctx, exc)
        if ctx.kind == "edit":
            with self.session() as s:
                ingest_rich.record_edit(s, self.tenant_id, ctx.from_number_id, edit_target, ctx.body)
                s.commit()
        return self._record_sent(ctx, wa_msg_id)

    def _record_sent(self, ctx: SendContext, wa_msg_id: str, status_floor: str = "sent") -> SendOutcome:
        merged_status = status_floor
        for attempt in range(3):
            try:
                # The send went out and a claim (dispatched_at) is on disk: should a crash lose this record, the
                # message is found dispatched and unrecorded and adopted from the webhook's proof, never resent.
                with self.session(flush_commit=False) as s:
                    # The row is final with this commit: the message's lock goes with the statement that finals it.
                    unlock = self.locked and self.conn is not None
                    merged_status = self._merge(s, ctx, wa_msg_id, status_floor, unlock)
                    s.commit()
                    self.locked = self.locked and not unlock
                break
            except (IntegrityError, psycopg.IntegrityError):  # the webhook stored the same wa_msg_id meanwhile
                if attempt == 2:
                    raise
        if _rank(merged_status) >= _rank("delivered"):
            # The recipient's webhook came first and was parked as "pending merge": its answer is due now.
            inbox.push([inbox.InboxItem(self.tenant_id, ctx.id, from_contact=False)])
        return SendOutcome(SENT if status_floor == "sent" else ADOPTED, wa_msg_id=wa_msg_id)

    def _merge(self, s, ctx: SendContext, wa_msg_id: str, status_floor: str, unlock: bool) -> str:
        row = s.execute(
            MERGE_SENT,
            {"wa": wa_msg_id, "id": ctx.id, "floor": status_floor, "now": self.now, "unlock": unlock, **self.lock},
        ).one()
        if ctx.failure_streak:
            number_health.record_success(s, ctx.from_number_id)
        meta = row.meta or {}
        if meta.get("first_of_day"):
            s.execute(
                text("UPDATE numbers SET active_days = :d WHERE id = :n"),
                {"d": int(meta.get("warm_day") or 1), "n": ctx.from_number_id},
            )
        if ctx.round_id is not None and meta.get("turn") is not None:
            round_state.advance(s, ctx.round_id, int(meta["turn"]), self.now)
        return row.status

    # -- failures ---------------------------------------------------------------------------------------------

    def _failed_send(self, ctx: SendContext, exc: EvolutionError) -> SendOutcome:
        with self.session() as s:
            fault = _server_fault(exc)
            if fault is not None:
                outcome = self._hold(s, ctx, f"server_{fault}")
            elif isinstance(exc, EvolutionTimeout):
                # Maybe sent: never resend. A webhook may still prove it (see rounds.on_message reconciling).
                outcome = self._fail(s, ctx, "unknown_delivery", count=True, keep_slot=True)
            elif isinstance(exc, EvolutionUnavailable | ConnectionClosed | EvolutionServerError) and exc.retryable:
                # Unsent (never reached Evolution) or reported as failed by it. A 5xx could in theory hide a
                # send, so the next attempt first looks for webhook evidence before calling Evolution again.
                evidence = isinstance(exc, EvolutionServerError) and not isinstance(exc, ConnectionClosed)
                outcome = self._retry(s, ctx, exc.reason, count=True, check_evidence=evidence)
            else:
                outcome = self._fail(s, ctx, exc.reason, count=True)
            s.commit()
        return outcome

    def _after_unknown(self, s, ctx: SendContext) -> SendOutcome | None:
        """A previous attempt may have reached Evolution: adopt the webhook's proof, wait for it, or give up."""
        since = (ctx.dispatched_at or ctx.created_at) - timedelta(seconds=5)
        proof = s.execute(
            EVIDENCE,
            {"n": ctx.from_number_id, "self": ctx.id, "body": ctx.body, "to": ctx.to_number_id, "since": since},
        ).first()
        if proof is not None:
            s.commit()
            return self._record_sent(ctx, proof.wa_msg_id, status_floor="sent")
        if ctx.dispatched_at is None:
            # A reported failure (5xx) with no trace of a send: safe to try again.
            s.execute(text("UPDATE messages SET meta = meta - 'check_evidence' WHERE id = :id"), {"id": ctx.id})
            return None
        proof_by = ctx.dispatched_at + EVIDENCE_WAIT
        if self.now < proof_by:
            return self._defer(s, ctx, waits.AWAITING_EVIDENCE, proof_by, keep_dispatch=True)
        return self._fail(s, ctx, "unknown_delivery", count=True, keep_slot=True)


def _server_fault(exc: EvolutionError) -> str | None:
    """The server's health this failure shows, if it is the server's fault and provably unsent: no connection at
    all, a licence gate, or the server's key refused."""
    if exc.reason == "license_required":
        return ServerHealth.license_required
    if isinstance(exc, EvolutionUnauthorized):
        return ServerHealth.unauthorized
    if isinstance(exc, EvolutionUnavailable) and exc.status is None:
        return ServerHealth.unreachable
    return None


_RANKS = {"queued": 0, "sent": 1, "failed": 2, "server_ack": 3, "delivered": 4, "read": 5}


def _rank(status: str) -> int:
    return _RANKS.get(status, 0)
