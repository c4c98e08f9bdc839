"""Number health for operators: resuming a paused number and the alerts the overview shows. The failure streak and
the automatic pause themselves are counted by the send pipeline (`engine.number_health`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.models import NumberStatus
from mirage_app.models.numbers import OPERATOR_DISCONNECTS
from mirage_app.services.instances import get_number


def resume(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> None:
    """Lift a pause (automatic or manual): the number goes back to `connected` with a clean streak."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
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
    """Numbers that need an operator: paused (e.g. by the circuit breaker), failing, disconnected or in error. A
    disconnect Mirage caused on the operator's word (stopped, a QR attempt cancelled or expired) is no alert."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            text(
                "SELECT id, label, status::text AS status, paused_reason, disconnect_reason, failure_streak, "
                "updated_at FROM numbers WHERE archived_at IS NULL AND (status IN ('paused', 'error') "
                "OR failure_streak > 0 "
                "OR (status = 'disconnected' AND COALESCE(disconnect_reason, '') <> ALL(:operator))) "
                "ORDER BY updated_at DESC NULLS LAST"
            ),
            {"operator": list(OPERATOR_DISCONNECTS)},
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
