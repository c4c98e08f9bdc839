"""Number health: failure streaks, the automatic pause (circuit breaker), resuming, and the alerts the overview shows.

A failed send attempt adds one to the sender's `failure_streak`; a successful send resets it. At the engine's
`failure_streak_pause` consecutive failures the number is paused (`status = paused`,
`paused_reason = "failure_streak:<last reason>"`) and the pause is written to the audit log. A paused number
sends nothing until an operator resumes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.models import Number, NumberStatus

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
    return True


def record_success(s, number_id: uuid.UUID) -> None:
    s.execute(text("UPDATE numbers SET failure_streak = 0 WHERE id = :n AND failure_streak <> 0"), {"n": number_id})


def resume(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> None:
    """Lift a pause (automatic or manual): the number goes back to `connected` with a clean streak."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        try:
            number = s.get(Number, uuid.UUID(str(number_id)))
        except ValueError:
            number = None
        if number is None:
            raise NotFound("instances.not_found")
        if number.status != NumberStatus.paused:
            raise ValidationFailed("numbers.not_paused")
        before = {"status": number.status.value, "paused_reason": number.paused_reason}
        number.status, number.paused_reason, number.failure_streak = NumberStatus.connected, None, 0
        number.updated_at = clock.now()
        s.add(number)
        audit.record(s, actor, "number.resume", "number", number.id, before=before, after={"status": "connected"})
        s.commit()


@dataclass(frozen=True)
class Alert:
    number_id: uuid.UUID
    label: str
    kind: str  # "paused" | "failing" | "disconnected" | "error"
    detail: str | None
    since: datetime | None


def alerts(actor: Actor) -> list[Alert]:
    """Numbers that need an operator: paused (e.g. by the circuit breaker), failing, disconnected or in error."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            text(
                "SELECT id, label, status::text AS status, paused_reason, disconnect_reason, failure_streak, "
                "updated_at FROM numbers WHERE status IN ('paused', 'error') OR failure_streak > 0 "
                "OR (status = 'disconnected' AND disconnect_reason IS DISTINCT FROM 'stopped') "
                "ORDER BY updated_at DESC NULLS LAST"
            )
        ).all()
    out = []
    for r in rows:
        if r.status == "paused":
            out.append(Alert(r.id, r.label, "paused", r.paused_reason, r.updated_at))
        elif r.status in ("error", "disconnected"):
            out.append(Alert(r.id, r.label, r.status, r.disconnect_reason, r.updated_at))
        else:
            out.append(Alert(r.id, r.label, "failing", f"{r.failure_streak} failed sends in a row", r.updated_at))
    return out
