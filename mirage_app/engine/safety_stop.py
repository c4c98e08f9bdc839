"""The tenant's send gate as the engine sees it: whether it is closed, and releasing the sends it held.

The gate (`models.tenancy.sends_held_since`) is closed by the tenant's emergency stop (services.emergency_stop)
or by a platform suspension (services.platform). While it is closed the send pipeline defers every send of the
tenant (`waits.EMERGENCY_STOP`, looked at again every few minutes), and status posts and group setup do nothing.
Lifting either calls `release_held`, which puts the held sends back on the queue at once, but only when the other
one is not closing the gate still.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text

from mirage_app.engine import send_outcomes
from mirage_app.engine.runtime import runtime
from mirage_app.logic import waits
from mirage_app.models.tenancy import sends_held_since

# It names its tenant, not relying on row-level security: the platform's resume runs it on the owner's connection,
# which bypasses row-level security.
_RELEASE = text(
    f"""
    UPDATE messages m SET send_after = :now, wait_reason = NULL, updated_at = :now
    FROM tenants t
    WHERE t.id = :t AND m.tenant_id = :t AND {sends_held_since("t")} IS NULL
      AND m.status = 'queued' AND m.direction = 'out' AND m.wait_reason = :held
    RETURNING m.id
    """
)


def stopped_since(s) -> datetime | None:
    """When the current tenant's emergency stop went on (None: it is off), in the caller's tenant session."""
    return s.execute(text("SELECT emergency_stop_at FROM tenants")).scalar()


def held_since(s) -> datetime | None:
    """Since when the current tenant's send gate is closed (None: it is open), in the caller's tenant session."""
    return s.execute(text(f"SELECT {sends_held_since('tenants')} FROM tenants")).scalar()


def release_held(s, tenant_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """Make every send the gate held for `tenant_id` due now, in the caller's transaction, once its gate is open
    (nothing while the stop or the suspension still closes it); call `schedule_released` after commit."""
    return list(s.execute(_RELEASE, {"t": tenant_id, "now": now, "held": waits.EMERGENCY_STOP}).scalars())


def schedule_released(tenant_id: uuid.UUID, message_ids: list[uuid.UUID]) -> None:
    """Queue the send job of each released message (after the release committed)."""
    rt = runtime()
    for message_id in message_ids:
        send_outcomes.schedule(rt, tenant_id, message_id, None)
