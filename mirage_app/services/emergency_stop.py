"""The tenant-wide emergency stop: one switch that holds every send of the tenant at once, and its resume.

Stopping only makes things safer, so an admin may do it at once (`settings.tenant`); resuming lets every number send
again, so it needs what raising a safety limit needs (`settings.safety_limits_raise`: admin with MFA). Held sends
are deferred, not failed (engine.safety_stop): a resume sends them. Both are audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import safety_stop

REASON_MAX = 300


@dataclass(frozen=True)
class StopState:
    since: datetime
    reason: str
    by: str | None  # who stopped it (the user's email), when known


def stop(actor: Actor, reason: str, clock: Clock = system_clock) -> StopState:
    """Switch the emergency stop on for the actor's tenant (refused when it is on already)."""
    authorize(actor, Action.settings_tenant)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("emergency_stop.reason_required", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("emergency_stop.reason_too_long", field="reason", max=REASON_MAX)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        if safety_stop.stopped_since(s) is not None:
            raise Conflict("emergency_stop.already_on")
        s.execute(
            text(
                "UPDATE tenants SET emergency_stop_at = :now, emergency_stop_reason = :r, emergency_stop_by = :u, "
                "updated_at = :now"
            ),
            {"now": now, "r": reason, "u": actor.user_id},
        )
        audit.record(
            s, actor, "tenant.emergency_stop", "tenant", actor.tenant_id, after={"reason": reason}, clock=clock
        )
        s.commit()
    return StopState(now, reason, actor.label)


def resume(actor: Actor, clock: Clock = system_clock) -> int:
    """Lift the emergency stop; every send it held is queued again at once, unless the platform suspended the
    tenant meanwhile (its resume releases them then). How many were released."""
    authorize(actor, Action.settings_safety_limits_raise)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        since = safety_stop.stopped_since(s)
        if since is None:
            raise Conflict("emergency_stop.not_on")
        s.execute(
            text(
                "UPDATE tenants SET emergency_stop_at = NULL, emergency_stop_reason = NULL, emergency_stop_by = NULL, "
                "updated_at = :now"
            ),
            {"now": now},
        )
        released = safety_stop.release_held(s, actor.tenant_id, now)
        audit.record(
            s, actor, "tenant.emergency_resume", "tenant", actor.tenant_id,
            before={"since": since.isoformat()}, after={"released": len(released)}, clock=clock,
        )  # fmt: skip
        s.commit()
    safety_stop.schedule_released(actor.tenant_id, released)
    return len(released)


def is_stopped(tenant_id: uuid.UUID | str) -> bool:
    with tenant_session(tenant_id) as s:
        return safety_stop.stopped_since(s) is not None


def current(actor: Actor) -> StopState | None:
    """The stop in force for the actor's tenant (for the banner), or None."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        row = s.execute(
            text(
                "SELECT t.emergency_stop_at AS since, t.emergency_stop_reason AS reason, u.email AS by "
                "FROM tenants t LEFT JOIN users u ON u.id = t.emergency_stop_by WHERE t.emergency_stop_at IS NOT NULL"
            )
        ).first()
    return StopState(row.since, row.reason or "", row.by) if row is not None else None
