"""A tenant's plan limits and their use, read inside the tenant's own session (row-level security applies).

Services check the limits before creating a number, a contact, an API key... (services.plan_limits); the outreach
tick asks `outreach_room` before each opener, so the engine and the screens count the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.engine.outreach_sends import IS_OUTREACH_SEND
from mirage_app.logic.caps import local_day_bounds
from mirage_app.logic.dayparts import DEFAULT_TZ
from mirage_app.logic.plan_limits import LIMIT_KINDS, Limits, effective_limits, fits


def _pair(kind: str) -> str:
    return f"p.{kind} AS default_{kind}, o.{kind} AS override_{kind}"


# The tenant's plan, zone, its plan's defaults and its own overrides in one read. It names the session's tenant
# itself (not row-level security alone), so the same read holds on the platform's owner connection.
PLAN_SQL = text(
    f"SELECT t.plan::text AS plan, t.timezone, {', '.join(_pair(kind) for kind in LIMIT_KINDS)} FROM tenants t "
    "LEFT JOIN plan_limits p ON p.tenant_id IS NULL AND p.plan = t.plan "
    "LEFT JOIN plan_limits o ON o.tenant_id = t.id "
    "WHERE t.id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
)

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
_USE_OF = {kind: text(sql) for kind, sql in USE_SQL.items()}


@dataclass(frozen=True)
class PlanState:
    """A tenant's plan as stored: the plan's defaults, the tenant's own overrides and the zone its days count in."""

    plan: str
    timezone: str
    defaults: Limits
    overrides: Limits

    @property
    def limits(self) -> Limits:
        return effective_limits(self.defaults, self.overrides)


def plan_state(s) -> PlanState:
    """The current tenant's plan (caller's tenant session)."""
    row = s.execute(PLAN_SQL).first()
    if row is None:
        return PlanState("", DEFAULT_TZ, dict.fromkeys(LIMIT_KINDS), dict.fromkeys(LIMIT_KINDS))
    return PlanState(
        row.plan,
        row.timezone or DEFAULT_TZ,
        {kind: getattr(row, f"default_{kind}") for kind in LIMIT_KINDS},
        {kind: getattr(row, f"override_{kind}") for kind in LIMIT_KINDS},
    )


def _params(state: PlanState, now: datetime) -> dict:
    return {"now": now, "day_start": local_day_bounds(now, state.timezone)[0]}


def use_of(s, state: PlanState, kind: str, now: datetime) -> int:
    return int(s.execute(_USE_OF[kind], _params(state, now)).scalar() or 0)


def all_use(s, state: PlanState, now: datetime) -> dict[str, int]:
    row = s.execute(ALL_USE, _params(state, now)).one()
    return {kind: int(getattr(row, kind)) for kind in LIMIT_KINDS}


def outreach_room(s, now: datetime) -> bool:
    """Whether the tenant's plan lets one more outreach message be written today."""
    state = plan_state(s)
    limit = state.limits["outreach_per_day"]
    return limit is None or fits(limit, use_of(s, state, "outreach_per_day", now))
