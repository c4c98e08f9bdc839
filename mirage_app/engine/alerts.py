"""Alerts that reach people: ONE entry point, `emit`, for whatever goes wrong with a tenant's numbers or servers.

`emit` stores the event, de-duplicates it (the same kind about the same number or server within
`logic.alerts.DEDUPE_WINDOW` only counts a repeat), applies each channel's rate limit (over it, the delivery is
held and summarised in the channel's next alert) and queues one `deliver_alert` job per channel. It never raises
into its caller: an alert must not break the path that noticed the problem.

`deliver` (the job) makes one attempt and plans the next with exponential backoff on the engine's clock; every
attempt is in `alert_deliveries` and in the audit log; `recover_overdue` (periodic) queues again an attempt whose
job was lost. The webhook ingest path is hot: it calls `emit_later`, which only enqueues `emit_alert` after its
commit.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import decrypt
from mirage_app.engine import alert_transports
from mirage_app.engine.alert_transports import Alert, Sent
from mirage_app.engine.runtime import job_id, runtime
from mirage_app.i18n import translate
from mirage_app.logic import alerts as rules
from mirage_app.models.alerts import AlertDeliveryStatus as Status

log = logging.getLogger("mirage.alerts")

EMIT_JOB = "workers.jobs.emit_alert"
DELIVER_JOB = "workers.jobs.deliver_alert"
ALERT_QUEUE = "default"
SUMMARISED = "summarised"  # a held delivery told inside a later alert of the same channel
RECOVER_AFTER = timedelta(minutes=2)  # an attempt this late has lost its job (`recover_overdue` queues it again)


def emit(
    tenant_id: uuid.UUID | str,
    kind: str,
    *,
    number_id: uuid.UUID | str | None = None,
    server_id: uuid.UUID | str | None = None,
    detail: dict | None = None,
    subject: str | None = None,
) -> None:
    """Record an alert and queue its deliveries. Never raises. `subject` (what it is about, for de-duplication)
    defaults to the number, else the server, else the tenant (`logic.alerts.subject_of`)."""
    try:
        subject = subject or rules.subject_of(number_id, server_id)
        queued = _record(uuid.UUID(str(tenant_id)), kind, number_id, server_id, subject, detail or {})
        jobs = runtime().jobs()
        for delivery_id in queued:
            jobs.enqueue(
                DELIVER_JOB, str(tenant_id), str(delivery_id), job_id=job_id("alert", delivery_id, 1), queue=ALERT_QUEUE
            )
    except Exception:
        log.exception("alert %s for tenant %s not recorded", kind, tenant_id)


def emit_later(
    tenant_id: uuid.UUID | str,
    kind: str,
    *,
    number_id: uuid.UUID | str | None = None,
    server_id: uuid.UUID | str | None = None,
    detail: dict | None = None,
) -> None:
    """`emit` in a job: one Redis write for hot paths (the webhook ingest). Never raises."""
    ids = (str(number_id) if number_id else None, str(server_id) if server_id else None)
    try:
        runtime().jobs().enqueue(EMIT_JOB, str(tenant_id), kind, *ids, detail or {}, queue=ALERT_QUEUE)
    except Exception:
        log.exception("alert %s for tenant %s not queued", kind, tenant_id)


def emit_for_server(server_id: uuid.UUID | str, kind: str, detail: dict | None = None) -> None:
    """An alert about an Evolution server, to its owner and every tenant with numbers on it. Never raises."""
    try:
        with system_session() as s:
            tenants = s.execute(
                text("SELECT tenant_id FROM mirage_alert_server_tenants(:s)"), {"s": server_id}
            ).scalars()
            tenant_ids = list(tenants)
    except Exception:
        log.exception("alert %s for server %s: tenants not found", kind, server_id)
        return
    for tenant_id in tenant_ids:
        emit(tenant_id, kind, server_id=server_id, detail=detail)


def _record(tenant_id: uuid.UUID, kind: str, number_id, server_id, subject: str, detail: dict) -> list[uuid.UUID]:
    """Store the event and its deliveries in one transaction; returns the deliveries to send now."""
    clock = runtime().clock
    now = clock.now()
    with tenant_session(tenant_id) as s:
        # Two workers noticing the same thing at once must still make one alert.
        s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"{tenant_id}:{kind}:{subject}"})
        last = s.execute(
            text("SELECT id, at FROM alert_events WHERE kind = :k AND subject = :s ORDER BY at DESC LIMIT 1"),
            {"k": kind, "s": subject},
        ).first()
        if last is not None and rules.is_duplicate(last.at, now):
            s.execute(text("UPDATE alert_events SET repeats = repeats + 1 WHERE id = :id"), {"id": last.id})
            s.commit()
            return []
        event_id = s.execute(
            text(
                "INSERT INTO alert_events (tenant_id, kind, subject, number_id, server_id, detail, at) "
                "VALUES (:t, :k, :s, :n, :srv, CAST(:d AS jsonb), :at) RETURNING id"
            ),
            {"t": tenant_id, "k": kind, "s": subject, "n": number_id, "srv": server_id, "d": _json(detail), "at": now},
        ).scalar_one()
        channels = s.execute(
            text(
                "SELECT c.id, (SELECT count(*) FROM alert_deliveries d WHERE d.channel_id = c.id "
                "AND d.event_id IS NOT NULL AND d.status NOT IN ('held', 'summarised') AND d.at > :since) AS recent "
                "FROM alert_channels c WHERE c.enabled ORDER BY c.created_at FOR UPDATE OF c"
            ),
            {"since": now - rules.RATE_WINDOW},
        ).all()  # the channel rows stay locked to the commit: concurrent alerts count each other for the limit
        queued = []
        for channel in channels:
            status = Status.held if rules.over_rate_limit(channel.recent) else Status.pending
            delivery_id = s.execute(
                text(
                    "INSERT INTO alert_deliveries (tenant_id, channel_id, event_id, status, at, next_attempt_at) "
                    "VALUES (:t, :c, :e, :st, :at, :next) RETURNING id"
                ),
                {
                    "t": tenant_id,
                    "c": channel.id,
                    "e": event_id,
                    "st": status.value,
                    "at": now,
                    "next": now if status == Status.pending else None,
                },
            ).scalar_one()
            if status == Status.pending:
                queued.append(delivery_id)
            else:
                _audit(s, tenant_id, delivery_id, channel.id, kind, 0, status.value, Sent(False), clock)
        s.commit()
    return queued


def deliver(tenant_id: uuid.UUID | str, delivery_id: uuid.UUID | str) -> str:
    """One attempt of one delivery (the `deliver_alert` job); returns the delivery's status after it."""
    rt = runtime()
    now = rt.clock.now()
    with tenant_session(tenant_id) as s:
        row = s.execute(
            text(
                "SELECT d.id, d.channel_id, d.event_id, d.status, d.attempt, d.held, d.next_attempt_at, "
                "c.kind::text AS channel_kind, c.config, c.secret_enc, c.enabled "
                "FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id "
                "WHERE d.id = :id FOR UPDATE OF d SKIP LOCKED"
            ),
            {"id": delivery_id},
        ).first()
        if row is None or row.status not in (Status.pending, Status.retrying) or not row.enabled:
            return row.status if row is not None else "missing"
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return row.status  # a job released early: the right one is planned
        claimed = s.execute(
            text(
                f"UPDATE alert_deliveries SET status = '{SUMMARISED}' WHERE channel_id = :c AND status = 'held' "
                "RETURNING id"
            ),
            {"c": row.channel_id},
        ).all()
        held = row.held + len(claimed)
        alert = _alert(s, tenant_id, row.event_id, held)
        sent = _send(s, tenant_id, row.channel_kind, row.config, row.secret_enc, alert, now)
        attempt = row.attempt + 1
        retry = not sent.ok and rules.should_retry(attempt, sent.status_code)
        status = Status.sent if sent.ok else Status.retrying if retry else Status.failed
        next_at = now + timedelta(seconds=rules.backoff_s(attempt)) if retry else None
        s.execute(
            text(
                "UPDATE alert_deliveries SET status = :st, attempt = :a, status_code = :code, error = :err, "
                "held = :held, next_attempt_at = :next, at = :now WHERE id = :id"
            ),
            {
                "st": status.value,
                "a": attempt,
                "code": sent.status_code,
                "err": sent.error,
                "held": held,
                "next": next_at,
                "now": now,
                "id": row.id,
            },
        )
        _audit(s, tenant_id, row.id, row.channel_id, alert.kind, attempt, status.value, sent, rt.clock)
        s.commit()
    if next_at is not None:
        rt.jobs().enqueue_at(
            next_at,
            DELIVER_JOB,
            str(tenant_id),
            str(delivery_id),
            job_id=job_id("alert", delivery_id, attempt + 1),
            queue=ALERT_QUEUE,
        )
    return status.value


def recover_overdue() -> int:
    """Queue again the attempts whose job was lost (Redis flushed, a worker killed), in every tenant (periodic).
    An attempt's job id is fixed, so one still queued is not doubled, and `deliver` sends a delivery only once."""
    rt = runtime()
    with system_session() as s:
        overdue = s.execute(
            text("SELECT tenant_id, delivery_id, attempt FROM mirage_alert_overdue(:before)"),
            {"before": rt.clock.now() - RECOVER_AFTER},
        ).all()
    jobs = rt.jobs()
    for row in overdue:
        jobs.enqueue(
            DELIVER_JOB,
            str(row.tenant_id),
            str(row.delivery_id),
            job_id=job_id("alert", row.delivery_id, row.attempt + 1),
            queue=ALERT_QUEUE,
        )
    return len(overdue)


def send_test(tenant_id: uuid.UUID | str, channel_id: uuid.UUID | str) -> Sent:
    """The "send a test alert" button: one attempt now, logged and audited like any delivery, never retried."""
    rt = runtime()
    now = rt.clock.now()
    with tenant_session(tenant_id) as s:
        channel = s.execute(
            text("SELECT id, kind::text AS kind, config, secret_enc FROM alert_channels WHERE id = :id"),
            {"id": channel_id},
        ).first()
        if channel is None:
            return Sent(False, error="channel not found")
        alert = _alert(s, tenant_id, None, 0)
        sent = _send(s, tenant_id, channel.kind, channel.config, channel.secret_enc, alert, now)
        status = Status.sent if sent.ok else Status.failed
        delivery_id = s.execute(
            text(
                "INSERT INTO alert_deliveries (tenant_id, channel_id, status, attempt, status_code, error, at) "
                "VALUES (:t, :c, :st, 1, :code, :err, :at) RETURNING id"
            ),
            {
                "t": tenant_id,
                "c": channel.id,
                "st": status.value,
                "code": sent.status_code,
                "err": sent.error,
                "at": now,
            },
        ).scalar_one()
        _audit(s, tenant_id, delivery_id, channel.id, rules.TEST, 1, status.value, sent, rt.clock)
        s.commit()
    return sent


def _send(s, tenant_id, channel_kind: str, config: dict, secret_enc: str | None, alert: Alert, now) -> Sent:
    secret = decrypt(secret_enc) if secret_enc else None
    if channel_kind == "webhook":
        return alert_transports.post_webhook(config["url"], secret or "", alert, str(tenant_id), now)
    if channel_kind == "email":
        return alert_transports.send_email(config, secret, alert)
    sender = s.execute(
        text(
            "SELECT session_id, server_id FROM numbers WHERE status = 'connected' AND archived_at IS NULL "
            "AND wa_number IS DISTINCT FROM :phone ORDER BY last_seen_at DESC NULLS LAST LIMIT 1"
        ),
        {"phone": config["phone"]},  # never from the operator's own phone to itself
    ).first()
    if sender is None:
        return Sent(False, error="no connected number to send from")
    client = runtime().evolution_client(tenant_id, sender.server_id)
    return alert_transports.send_whatsapp(client, sender.session_id, config["phone"], alert)


def _alert(s, tenant_id, event_id, held: int) -> Alert:
    """The alert in the tenant's language, times in its time zone."""
    tenant = s.execute(text("SELECT locale, timezone FROM tenants WHERE id = :t"), {"t": tenant_id}).first()
    locale, zone = (tenant.locale, tenant.timezone) if tenant is not None else (None, "UTC")
    event = None
    if event_id is not None:
        event = s.execute(
            text(
                "SELECT e.id, e.kind, e.number_id, e.server_id, e.detail, e.repeats, e.at, n.label, n.wa_number, "
                "srv.name AS server_name FROM alert_events e LEFT JOIN numbers n ON n.id = e.number_id "
                "LEFT JOIN evolution_servers srv ON srv.id = e.server_id WHERE e.id = :id"
            ),
            {"id": event_id},
        ).first()
    if event is None:
        now = runtime().clock.now()
        title = translate("alert.title.test", locale)
        return Alert(None, rules.TEST, title, translate("alert.text.test", locale), now, {})
    subject = _subject_label(event)
    title = translate(f"alert.title.{event.kind}", locale, subject=subject)
    when = event.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    lines = [title, translate("alert.text.when", locale, when=when, zone=zone)]
    lines += [f"{key}: {value}" for key, value in sorted(event.detail.items())]
    if event.repeats:
        lines.append(translate("alert.text.repeats", locale, n=event.repeats))
    if held:
        lines.append(translate("alert.text.held", locale, n=held))
    payload = {
        "number_id": _str(event.number_id),
        "server_id": _str(event.server_id),
        "subject": subject,
        "detail": event.detail,
        "repeats": event.repeats,
        "held": held,
    }
    return Alert(str(event.id), event.kind, title, "\n".join(lines), event.at, payload)


def _subject_label(event) -> str:
    if event.label:
        return f"{event.label} ({event.wa_number})" if event.wa_number else event.label
    return event.server_name or event.detail.get("proxy") or "Mirage"


def _audit(s, tenant_id, delivery_id, channel_id, kind: str, attempt: int, status: str, sent: Sent, clock) -> None:
    audit.record(
        s,
        None,
        "alert.delivery",
        "alert_delivery",
        delivery_id,
        after={
            "channel_id": str(channel_id),
            "kind": kind,
            "attempt": attempt,
            "status": status,
            "status_code": sent.status_code,
            "error": sent.error,
        },
        tenant_id=uuid.UUID(str(tenant_id)),
        clock=clock,
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _json(value: dict) -> str:
    return json.dumps(value, default=str)
