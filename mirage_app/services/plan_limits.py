"""Plan limits enforced in the services, so the UI, the API and the engine meet the same ones.

Each creating service calls `ensure_room(s, kind)` inside its own tenant transaction before adding one more of
something; over the limit it raises Conflict("plan.limit.<kind>") carrying the limit and the current use. The
overview shows `plan_use` against the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from mirage_app.base.errors import Conflict
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import plan_use
from mirage_app.logic.plan_limits import LIMIT_KINDS, Limits, Use, fits


class PlanLimitReached(Conflict):
    """409: one more would pass the tenant's plan limit `kind`; `limit` and `used` say where it stands."""

    def __init__(self, kind: str, limit: int, used: int, plan: str) -> None:
        self.kind = kind
        super().__init__(f"plan.limit.{kind}", limit=limit, used=used, plan=plan)


@dataclass(frozen=True)
class PlanUse:
    plan: str
    uses: list[Use]
    overrides: Limits  # the tenant's own limits over its plan's (None: the plan's)


def ensure_room(s, kind: str, *, adding: int = 1, clock: Clock = system_clock) -> None:
    """Raise PlanLimitReached unless `adding` more of `kind` fit the current tenant's plan (caller's session)."""
    state = plan_use.plan_state(s)
    limit = state.limits[kind]
    if limit is None:
        return
    used = plan_use.use_of(s, state, kind, clock.now())
    if not fits(limit, used, adding):
        raise PlanLimitReached(kind, limit, used, state.plan)


@dataclass
class Room:
    """How many more of a limited thing fit (a CSV import counts it down row by row)."""

    limit: int
    left: int


def room_for(s, kind: str, *, clock: Clock = system_clock) -> Room | None:
    """The room left under the current tenant's limit `kind`, None when unlimited (caller's session)."""
    state = plan_use.plan_state(s)
    limit = state.limits[kind]
    if limit is None:
        return None
    return Room(limit, max(0, limit - plan_use.use_of(s, state, kind, clock.now())))


def use_in(s, now) -> PlanUse:
    """The current tenant's plan, each limit against its use (caller's session)."""
    state = plan_use.plan_state(s)
    used, limits = plan_use.all_use(s, state, now), state.limits
    return PlanUse(state.plan, [Use(kind, used[kind], limits[kind]) for kind in LIMIT_KINDS], state.overrides)


def plan_use_of(actor: Actor, *, clock: Clock = system_clock) -> PlanUse:
    """The actor's tenant's use against its plan, for the overview."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return use_in(s, clock.now())
