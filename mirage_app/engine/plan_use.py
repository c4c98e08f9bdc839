"""A tenant's plan limits and their use, read inside the tenant's own session (row-level security applies).

Services check the limits before creating a number, a contact, an API key... (services.plan_limits); the outreach
tick asks `outreach_room` before each opener, so the engine and the screens count the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from mirage_app.engine.outreach_sends import IS_OUTREACH_SEND
from mirage_app.logic.caps import local_day_bounds
from mirage_app.logic.plan_limits import LIMIT_KINDS, Limits, effective_limits, fits

_COLUMNS = ", ".join(f"p.{kind}" for kind in LIMIT_KINDS)
PLAN_DEFAULTS = text(
    f"SELECT t.plan::text AS plan, {_COLUMNS} FROM tenants t "
    "LEFT JOIN plan_limits p ON p.tenant_id IS NULL AND p.plan = t.plan"
)
OVERRIDES = text(f"SELECT {_COLUMNS} FROM plan_limits p WHERE p.tenant_id IS NOT NULL")

# Each limit's use; `outreach_per_day` counts outreach messages written since the tenant-local midnight.
USE_SQL = {
    "numbers": "SELECT count(*) FROM numbers WHERE archived_at IS NULL",
    "active_conversations": "SELECT count(*) FROM conversations WHERE active AND archived_at IS NULL",
    "contacts": "SELECT count(*) FROM contacts",
    "outreach_per_day": f"SELECT count(*) FROM messages WHERE {IS_OUTREACH_SEND} AND created_at >= :day_start",
    "api_keys": "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now)",
    # Pending invitations hold a seat: inviting is where the user limit is met.
    "users": "SELECT (SELECT count(*) FROM users WHERE is_active) + (SELECT count(*) FROM invitations "
    "WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > :now)",
}
ALL_USE = text("SELECT " + ", ".join(f"({sql}) AS {kind}" for kind, sql in USE_SQL.items()))
TENANT_TZ = text("SELECT timezone FROM tenants")


def plan_and_limits(s) -> tuple[str, Limits]:
    """The current tenant's plan and effective limits (its plan's defaults under its overrides)."""
    row = s.execute(PLAN_DEFAULTS).first()
    if row is None:
        return "", dict.fromkeys(LIMIT_KINDS)
    defaults = {kind: getattr(row, kind) for kind in LIMIT_KINDS}
    override_row = s.execute(OVERRIDES).first()
    overrides = {kind: getattr(override_row, kind) for kind in LIMIT_KINDS} if override_row is not None else None
    return row.plan, effective_limits(defaults, overrides)


def _params(s, now: datetime) -> dict:
    tz = s.execute(TENANT_TZ).scalar() or "America/Sao_Paulo"
    return {"now": now, "day_start": local_day_bounds(now, tz)[0]}


def use_of(s, kind: str, now: datetime) -> int:
    return int(s.execute(text(USE_SQL[kind]), _params(s, now)).scalar() or 0)


def all_use(s, now: datetime) -> dict[str, int]:
    row = s.execute(ALL_USE, _params(s, now)).one()
    return {kind: int(getattr(row, kind)) for kind in LIMIT_KINDS}


def outreach_room(s, now: datetime) -> bool:
    """Whether the tenant's plan lets one more outreach message be written today."""
    limit = plan_and_limits(s)[1]["outreach_per_day"]
    return limit is None or fits(limit, use_of(s, "outreach_per_day", now))
