"""The tenant's emergency stop as the engine sees it: whether it is on, and releasing the sends it held.

While `tenants.emergency_stop_at` is set the send pipeline defers every send of the tenant (`waits.EMERGENCY_STOP`,
looked at again every few minutes), status posts and group setup do nothing; `release_held` puts the held sends
back on the queue at once when an admin resumes (services.emergency_stop). A platform suspension
(`tenants.suspended_at`, services.platform) closes the same gate, so a suspended tenant sends nothing either;
resuming it releases the held sends like lifting the stop does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text

from mirage_app.engine import send_outcomes
from mirage_app.engine.runtime import runtime
from mirage_app.logic import waits


def stopped_since(s) -> datetime | None:
    """When the current tenant's emergency stop went on (None: it is off), in the caller's tenant session."""
    return s.execute(text("SELECT emergency_stop_at FROM tenants")).scalar()


def held_since(s) -> datetime | None:
    """When the tenant's sends started being held: by its emergency stop or by a platform suspension."""
    return s.execute(text("SELECT COALESCE(emergency_stop_at, suspended_at) FROM tenants")).scalar()


def release_held(s, now: datetime) -> list[uuid.UUID]:
    """Make every send the stop held due now, in the caller's transaction; call `schedule_released` after commit."""
    return list(
        s.execute(
            text(
                "UPDATE messages SET send_after = :now, wait_reason = NULL, updated_at = :now "
                "WHERE status = 'queued' AND direction = 'out' AND wait_reason = :held RETURNING id"
            ),
            {"now": now, "held": waits.EMERGENCY_STOP},
        ).scalars()
    )


def schedule_released(tenant_id: uuid.UUID, message_ids: list[uuid.UUID]) -> None:
    """Queue the send job of each released message (after the release committed)."""
    rt = runtime()
    for message_id in message_ids:
        send_outcomes.schedule(rt, tenant_id, message_id, None)
