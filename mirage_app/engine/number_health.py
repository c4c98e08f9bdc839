"""Failure streaks and the automatic pause (circuit breaker), counted by the send pipeline in its own transaction.

A failed send attempt adds one to the sender's `failure_streak`; a successful send resets it. At the engine's
`failure_streak_pause` consecutive failures the number is paused (`status = paused`,
`paused_reason = "failure_streak:<last reason>"`) and the pause is written to the audit log. A paused number
sends nothing until an operator resumes it (`services.number_health.resume`). The caller tells people with
`alert_paused` once its transaction is committed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.core.clock import Clock
from mirage_app.engine import alerts, reputation
from mirage_app.logic.alerts import AUTO_PAUSE

AUTO_PAUSE_PREFIX = "failure_streak"


def record_failure(s, tenant_id: uuid.UUID, number_id: uuid.UUID, reason: str, threshold: int, clock: Clock) -> bool:
    """Count one failed attempt inside the caller's transaction; True when this failure paused the number."""
    row = s.execute(
        text(
            "UPDATE numbers SET failure_streak = failure_streak + 1, updated_at = :now WHERE id = :n "
            "RETURNING failure_streak, status::text AS status"
        ),
        {"n": number_id, "now": clock.now()},
    ).first()
    if row is None or row.failure_streak < threshold or row.status == "paused":
        return False
    paused_reason = f"{AUTO_PAUSE_PREFIX}:{reason}"[:200]
    s.execute(
        text("UPDATE numbers SET status = 'paused', paused_reason = :r, updated_at = :now WHERE id = :n"),
        {"n": number_id, "r": paused_reason, "now": clock.now()},
    )
    audit.record(
        s,
        None,
        "number.auto_pause",
        "number",
        number_id,
        before={"status": row.status},
        after={"status": "paused", "paused_reason": paused_reason, "failure_streak": row.failure_streak},
        tenant_id=tenant_id,
        clock=clock,
    )
    reputation.request_recompute(tenant_id, number_id, clock)
    return True


def record_success(s, number_id: uuid.UUID) -> None:
    s.execute(text("UPDATE numbers SET failure_streak = 0 WHERE id = :n AND failure_streak <> 0"), {"n": number_id})


def alert_paused(tenant_id: uuid.UUID, number_id: uuid.UUID, reason: str) -> None:
    """Tell the tenant's alert channels that `record_failure` paused the number (after the commit; never raises)."""
    alerts.emit(tenant_id, AUTO_PAUSE, number_id=number_id, detail={"reason": reason})
