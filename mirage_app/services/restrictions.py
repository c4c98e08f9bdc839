"""Restriction signals and the monthly allowance of unanswered first messages, for screens, routes and the sweep.

- `sweep_all` (the periodic `restriction-sweep` job): `engine.number_safety.detect` per tenant; each restriction
  it records is audited and handed to `on_restriction`, the one place alerts hook in.
- Restrictions are shown per number with their end in the tenant's time zone and whether Mirage inferred them
  (Evolution 2.3.7 never says "463") or someone reported them. Reporting one is an operator's call; lifting one
  early lets the number contact new people again, which is less safe: `settings.safety_limits_raise`.
- The allowance is a tenant setting: lowering it needs `settings.tenant`, raising it the safety permission.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine import alerts, number_safety, reputation
from mirage_app.engine.runtime import runtime
from mirage_app.logic.alerts import RESTRICTION
from mirage_app.logic.restrictions import REACH_OUT, allowance_left
from mirage_app.models import NumberRestriction, RestrictionSource, Tenant
from mirage_app.services.instances import get_number
from mirage_app.services.tenant_settings import settings_row

log = logging.getLogger("mirage.restrictions")

MAX_ALLOWANCE = 100_000
MAX_REPORTED = timedelta(days=30)


@dataclass(frozen=True)
class RestrictionView:
    id: uuid.UUID
    number_id: uuid.UUID
    kind: str
    source: str  # inferred | reported
    started_at: datetime
    ends_at: datetime
    ends_at_estimated: bool
    evidence: dict


@dataclass(frozen=True)
class AllowanceView:
    allowance: int
    unanswered: int
    left: int
    month_ends_at: datetime


def on_restriction(tenant_id: uuid.UUID, number_id: uuid.UUID, restriction_id: uuid.UUID, ends_at: datetime) -> None:
    """A number was found restricted (it will contact no one new until `ends_at`), after the commit: an alert to
    the tenant's channels, and its reputation recomputed with the new signal."""
    log.warning("number %s restricted until %s (restriction %s)", number_id, ends_at.isoformat(), restriction_id)
    alerts.emit(tenant_id, RESTRICTION, number_id=number_id, detail={"until": ends_at.isoformat(timespec="minutes")})
    reputation.request_recompute(tenant_id, number_id, runtime().clock)


def sweep_tenant(tenant_id: uuid.UUID, clock: Clock = system_clock) -> list[number_safety.Detected]:
    now = clock.now()
    with tenant_session(tenant_id) as s:
        detected = number_safety.detect(s, tenant_id, now)
        for found in detected:
            after = {"restriction_id": str(found.restriction_id), "kind": REACH_OUT, "source": "inferred",
                     "ends_at": found.ends_at.isoformat()}  # fmt: skip
            audit.record(s, None, "number.restricted", "number", found.number_id, after=after, tenant_id=tenant_id,
                         by="system", clock=clock)  # fmt: skip
        s.commit()
    for found in detected:
        on_restriction(tenant_id, found.number_id, found.restriction_id, found.ends_at)
    return detected


def sweep_all(clock: Clock = system_clock) -> int:
    """`sweep_tenant` for every tenant: the periodic `restriction-sweep` job; returns how many were found."""
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    found = 0
    for tenant_id in tenants:
        try:
            found += len(sweep_tenant(tenant_id, clock))
        except Exception:  # one tenant's bad data must not stop the others
            log.exception("restriction sweep failed for tenant %s", tenant_id)
    return found


def _view(row: NumberRestriction) -> RestrictionView:
    return RestrictionView(row.id, row.number_id, row.kind, str(row.source), row.started_at, row.ends_at,
                           row.ends_at_estimated, dict(row.evidence or {}))  # fmt: skip


def active_restrictions(actor: Actor, clock: Clock = system_clock) -> dict[uuid.UUID, RestrictionView]:
    """Number id → its restriction in force now (the latest ending), for the number cards."""
    authorize(actor, Action.data_read)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        rows = s.exec(
            select(NumberRestriction)
            .where(NumberRestriction.lifted_at.is_(None), NumberRestriction.ends_at > now)
            .order_by(NumberRestriction.ends_at)
        ).all()
        return {row.number_id: _view(row) for row in rows}  # the latest ending wins


def report_restriction(
    actor: Actor, number_id: uuid.UUID | str, ends_at: datetime, clock: Clock = system_clock
) -> RestrictionView:
    """Someone saw WhatsApp's own notice (or a newer Evolution's code): the number contacts no one new until then."""
    authorize(actor, Action.numbers_manage)
    now = clock.now()
    if ends_at.tzinfo is None or not now < ends_at <= now + MAX_REPORTED:
        raise ValidationFailed("restrictions.ends_at_invalid", field="ends_at")
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id, field="number_id")
        row = NumberRestriction(tenant_id=actor.tenant_id, number_id=number.id, kind=REACH_OUT,
                                source=RestrictionSource.reported, started_at=now, ends_at=ends_at,
                                ends_at_estimated=False, evidence={"reported_by": actor.label})  # fmt: skip
        s.add(row)
        s.flush()
        audit.record(s, actor, "number.restriction_reported", "number", number.id,
                     after={"restriction_id": str(row.id), "ends_at": ends_at.isoformat()}, clock=clock)  # fmt: skip
        s.commit()
        view = _view(row)
    on_restriction(actor.tenant_id, view.number_id, view.id, view.ends_at)
    return view


def lift_restriction(actor: Actor, restriction_id: uuid.UUID | str, clock: Clock = system_clock) -> None:
    """End a restriction early: the number may contact new people again at once (admin with MFA)."""
    authorize(actor, Action.settings_safety_limits_raise)
    with tenant_session(actor.tenant_id) as s:
        try:
            row = s.get(NumberRestriction, uuid.UUID(str(restriction_id)), with_for_update=True)
        except ValueError:
            row = None
        if row is None:
            raise NotFound("restrictions.not_found")
        if row.lifted_at is None:
            row.lifted_at = clock.now()
            s.add(row)
            audit.record(s, actor, "number.restriction_lifted", "number", row.number_id,
                         before={"ends_at": row.ends_at.isoformat()}, after={"lifted_at": row.lifted_at.isoformat()},
                         clock=clock)  # fmt: skip
        s.commit()


def get_allowance(actor: Actor, clock: Clock = system_clock) -> AllowanceView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        allowance = settings_row(s, actor.tenant_id).unanswered_first_allowance
        tz = s.get(Tenant, actor.tenant_id).timezone
        used, month_end = number_safety.unanswered_this_month(s, actor.tenant_id, clock.now(), tz)
        s.commit()
    return AllowanceView(allowance, used, allowance_left(allowance, used), month_end)


def set_allowance(actor: Actor, allowance: object, clock: Clock = system_clock) -> AllowanceView:
    """The tenant's monthly allowance of unanswered first messages; raising it needs the safety permission."""
    authorize(actor, Action.settings_tenant)
    if isinstance(allowance, bool) or not isinstance(allowance, int | str) or not str(allowance).strip().isdigit():
        raise ValidationFailed("restrictions.allowance_invalid", field="allowance", high=MAX_ALLOWANCE)
    value = int(str(allowance).strip())
    if value > MAX_ALLOWANCE:
        raise ValidationFailed("restrictions.allowance_invalid", field="allowance", high=MAX_ALLOWANCE)
    with tenant_session(actor.tenant_id) as s:
        row = settings_row(s, actor.tenant_id)
        before = row.unanswered_first_allowance
        if value > before:
            authorize(actor, Action.settings_safety_limits_raise)
        if value != before:
            row.unanswered_first_allowance = value
            s.add(row)
            audit.record(s, actor, "settings.first_message_allowance", "settings_tenant", row.id,
                         before={"allowance": before}, after={"allowance": value}, clock=clock)  # fmt: skip
        s.commit()
    return get_allowance(actor, clock)
