"""The platform operator's work: tenants (create with a first admin's invitation, list with their plan and use,
suspend, resume, change plan), plans (each plan's default limits, a tenant's overrides) and the platform's
Evolution servers (list, add probed first, probe, capacity, key, drain / activate / disable, delete; over
services.evolution_servers, as the CLI is).

Callers are the platform page (a signed-in `Actor`, checked by `authorize_platform`: the platform role with MFA) and
the `mirage tenant` CLI (`CLI_OPERATOR`: whoever runs commands on the server already holds the database owner's
credentials). Row-level security stays forced for tenant code: what crosses tenants here goes either through the
owner connection (creating a tenant row, listing tenants, editing a plan's defaults; as the seed and the platform's
Evolution servers do) or through a tenant session pinned to the one tenant acted on. Each change is audited in
the tenant's own audit log, by the operator's name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Impact
from mirage_app.base.permissions import Actor, authorize_platform
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import admin_engine, system_session, tenant_session
from mirage_app.engine import plan_use, safety_stop
from mirage_app.i18n import LOCALES
from mirage_app.logic.dayparts import zone
from mirage_app.logic.plan_limits import LIMIT_KINDS, Limits, Use, clean_limit
from mirage_app.models import Tenant, TenantPlan, TenantSettings
from mirage_app.services import evolution_servers
from mirage_app.services.auth import lookup_user, validate_email
from mirage_app.services.plan_limits import use_in
from mirage_app.services.users import InviteResult, invite_first_admin

NAME_MAX = 200
REASON_MAX = 300


@dataclass(frozen=True)
class CliOperator:
    """The CLI on the server: it already holds the owner's database credentials, so it is the platform."""

    label: str = "platform:cli"


CLI_OPERATOR = CliOperator()
Operator = Actor | CliOperator


@dataclass(frozen=True)
class TenantRow:
    id: uuid.UUID
    name: str
    plan: str
    timezone: str
    created_at: datetime
    suspended_at: datetime | None
    suspended_reason: str | None
    uses: list[Use]
    overrides: Limits
    holds_operator: bool  # a platform operator belongs to it: it cannot be suspended

    @property
    def status(self) -> str:
        return "suspended" if self.suspended_at is not None else "active"


@dataclass(frozen=True)
class CreatedTenant:
    tenant_id: uuid.UUID
    invitation: InviteResult  # its `accept_path` is the first admin's link, shown once


def _label(op: Operator) -> tuple[str, str | None]:
    """Who acts, for the audit entries (checked: a person must hold the platform role with MFA)."""
    if isinstance(op, CliOperator):
        return op.label, None
    actor = authorize_platform(op)
    return f"platform:{actor.label}", actor.ip


def _tenant_uuid(tenant_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return uuid.UUID(str(tenant_id))
    except ValueError:
        raise NotFound("platform.tenant_not_found") from None


def _plan(plan: str | TenantPlan) -> TenantPlan:
    try:
        return TenantPlan(plan)
    except ValueError:
        raise ValidationFailed("platform.plan_invalid", field="plan") from None


def _audit(s, op: Operator, tenant_id: uuid.UUID, action: str, before=None, after=None, clock=system_clock) -> None:
    by, ip = _label(op)
    audit.record(s, None, action, "tenant", tenant_id, before, after, tenant_id=tenant_id, by=by, ip=ip, clock=clock)


def _platform_session(tenant_id: uuid.UUID):
    """The owner's session for one tenant's plan, suspension and limits, out of the application role's reach
    (migration 0025); the audit entry lands in the same transaction. The owner may pass row-level security, so
    every statement in it names the tenant itself."""
    return tenant_session(tenant_id, engine=admin_engine())


def _locked(s, tenant_id: uuid.UUID):
    """The tenant's suspension and plan, its row locked for the change (NotFound when it is gone, even since the
    caller looked)."""
    row = s.execute(
        text("SELECT suspended_at, plan::text AS plan FROM tenants WHERE id = :t FOR UPDATE"), {"t": tenant_id}
    ).first()
    if row is None:
        raise NotFound("platform.tenant_not_found")
    return row


# -- tenants ---------------------------------------------------------------------------------------------------------


def create_tenant(
    op: Operator,
    name: str,
    admin_email: str,
    *,
    plan: str | TenantPlan = TenantPlan.free,
    timezone: str = "America/Sao_Paulo",
    locale: str = "pt-BR",
    clock: Clock = system_clock,
) -> CreatedTenant:
    """A new tenant on `plan`, and an invitation for its first admin (the link is in the result, never a
    password). The address must not belong to anyone yet."""
    by, _ip = _label(op)
    clean_name = (name or "").strip()
    if not clean_name:
        raise ValidationFailed("validation.name_required", field="name")
    if len(clean_name) > NAME_MAX:
        raise ValidationFailed("validation.name_too_long", field="name", max_length=NAME_MAX)
    chosen = _plan(plan)
    if locale not in LOCALES:
        raise ValidationFailed("validation.locale_invalid", field="locale")
    try:
        zone(timezone)
    except ValueError:
        raise ValidationFailed("settings.timezone_invalid", field="timezone") from None
    address = validate_email(admin_email, field="admin_email")
    if lookup_user(address) is not None:
        raise Conflict("users.email_taken", field="admin_email")
    tenant_id = uuid.uuid4()
    # One transaction on the owner's connection (only the owner inserts tenants), pinned to the new tenant for
    # row-level security: a tenant never exists without its settings and its first admin's invitation.
    with tenant_session(tenant_id, engine=admin_engine()) as s:
        s.add(Tenant(id=tenant_id, name=clean_name, plan=chosen, timezone=timezone, locale=locale,
                     created_at=clock.now()))  # fmt: skip
        s.flush()
        s.add(TenantSettings(tenant_id=tenant_id))
        _audit(s, op, tenant_id, "platform.tenant_created", None, {"name": clean_name, "plan": chosen.value}, clock)
        invitation = invite_first_admin(s, tenant_id, address, by, clock=clock)
        s.commit()
    return CreatedTenant(tenant_id, invitation)


_TENANTS = (
    "SELECT id, name, plan::text AS plan, timezone, created_at, suspended_at, suspended_reason FROM tenants "
    "WHERE CAST(:only AS uuid) IS NULL OR id = CAST(:only AS uuid) ORDER BY created_at, name"
)


def _rows(only: uuid.UUID | None, clock: Clock) -> list[TenantRow]:
    with admin_engine().connect() as conn:
        rows = conn.execute(text(_TENANTS), {"only": only}).all()
    now = clock.now()
    operators = _operator_tenants()
    tenants = []
    for row in rows:
        with tenant_session(row.id) as s:  # each tenant's use is counted inside its own RLS scope
            use = use_in(s, now)
        tenants.append(
            TenantRow(
                row.id,
                row.name,
                row.plan,
                row.timezone,
                row.created_at,
                row.suspended_at,
                row.suspended_reason,
                use.uses,
                use.overrides,
                row.id in operators,
            )
        )
    return tenants


def list_tenants(op: Operator, *, clock: Clock = system_clock) -> list[TenantRow]:
    """Every tenant with its plan, its status and each limit against its use."""
    _label(op)
    return _rows(None, clock)


def get_tenant(op: Operator, tenant_id: uuid.UUID | str, *, clock: Clock = system_clock) -> TenantRow:
    _label(op)
    found = _rows(_tenant_uuid(tenant_id), clock)
    if not found:
        raise NotFound("platform.tenant_not_found")
    return found[0]


def find_tenant(op: Operator, ref: str) -> uuid.UUID:
    """A tenant by its id or its exact name (for scripts); a name two tenants share names neither."""
    _label(op)
    with admin_engine().connect() as conn:
        found = (
            conn.execute(
                text("SELECT id FROM tenants WHERE id::text = :ref OR name = :ref LIMIT 2"),
                {"ref": (ref or "").strip()},
            )
            .scalars()
            .all()
        )
    if len(found) == 2:
        raise Conflict("platform.tenant_ambiguous")
    if not found:
        raise NotFound("platform.tenant_not_found")
    return found[0]


def _operator_tenants() -> set[uuid.UUID]:
    with admin_engine().connect() as conn:
        rows = conn.execute(text("SELECT DISTINCT tenant_id FROM users WHERE is_platform_operator AND is_active"))
        return set(rows.scalars())


def suspend(op: Operator, tenant_id: uuid.UUID | str, reason: str, *, clock: Clock = system_clock) -> None:
    """Its people cannot sign in, its API keys answer 403 and its engine holds every send (webhooks are still
    stored). The tenant of a platform operator cannot be suspended: nobody could resume it from the UI."""
    _label(op)
    target = _tenant_uuid(tenant_id)
    why = (reason or "").strip()
    if not why:
        raise ValidationFailed("platform.reason_required", field="reason")
    if len(why) > REASON_MAX:
        raise ValidationFailed("platform.reason_too_long", field="reason", max=REASON_MAX)
    if target in _operator_tenants():
        raise Conflict("platform.operator_tenant")
    now = clock.now()
    with _platform_session(target) as s:
        if _locked(s, target).suspended_at is not None:
            raise Conflict("platform.already_suspended")
        s.execute(
            text("UPDATE tenants SET suspended_at = :now, suspended_reason = :r, updated_at = :now WHERE id = :t"),
            {"now": now, "r": why, "t": target},
        )
        _audit(s, op, target, "platform.tenant_suspended", None, {"reason": why}, clock)
        s.commit()


def resume(op: Operator, tenant_id: uuid.UUID | str, *, clock: Clock = system_clock) -> int:
    """Lift the suspension: sign-in and API keys work again, and the sends held meanwhile go out (unless the
    tenant's own emergency stop still holds them: safety_stop.release_held). How many sends were released."""
    _label(op)
    target = _tenant_uuid(tenant_id)
    now = clock.now()
    with _platform_session(target) as s:
        since = _locked(s, target).suspended_at
        if since is None:
            raise Conflict("platform.not_suspended")
        s.execute(
            text("UPDATE tenants SET suspended_at = NULL, suspended_reason = NULL, updated_at = :now WHERE id = :t"),
            {"now": now, "t": target},
        )
        released = safety_stop.release_held(s, target, now)  # none while its emergency stop still holds them
        _audit(s, op, target, "platform.tenant_resumed", {"since": since.isoformat()}, None, clock)
        s.commit()
    safety_stop.schedule_released(target, released)
    return len(released)


def change_plan(op: Operator, tenant_id: uuid.UUID | str, plan: str | TenantPlan, *, clock: Clock = system_clock):
    """Move the tenant to another plan; what it already has stays, only new things meet the new limits."""
    _label(op)
    target = _tenant_uuid(tenant_id)
    chosen = _plan(plan)
    with _platform_session(target) as s:
        before = _locked(s, target).plan
        if before != chosen.value:
            s.execute(
                text("UPDATE tenants SET plan = CAST(:p AS tenant_plan), updated_at = :now WHERE id = :t"),
                {"p": chosen.value, "now": clock.now(), "t": target},
            )
            _audit(s, op, target, "platform.plan_changed", {"plan": before}, {"plan": chosen.value}, clock)
            s.commit()


def _clean_limits(values: dict[str, object]) -> Limits:
    cleaned: Limits = {}
    for kind in LIMIT_KINDS:
        try:
            cleaned[kind] = clean_limit(values.get(kind))
        except ValueError:
            raise ValidationFailed("platform.limit_invalid", field=kind) from None
    return cleaned


def set_overrides(
    op: Operator, tenant_id: uuid.UUID | str, values: dict[str, object], *, clock: Clock = system_clock
) -> Limits:
    """The tenant's own limits over its plan's (a blank value: the plan's)."""
    _label(op)
    target = _tenant_uuid(tenant_id)
    limits = _clean_limits(values)
    columns = ", ".join(LIMIT_KINDS)
    params = ", ".join(f":{kind}" for kind in LIMIT_KINDS)
    updates = ", ".join(f"{kind} = EXCLUDED.{kind}" for kind in LIMIT_KINDS)
    with _platform_session(target) as s:
        _locked(s, target)
        before = plan_use.plan_state(s).overrides
        s.execute(
            text(
                f"INSERT INTO plan_limits (tenant_id, {columns}, updated_at) VALUES (:t, {params}, :now) "
                f"ON CONFLICT (tenant_id) WHERE tenant_id IS NOT NULL DO UPDATE SET {updates}, updated_at = :now"
            ),
            {"t": target, "now": clock.now(), **limits},
        )
        _audit(s, op, target, "platform.limits_overridden", before, limits, clock)
        s.commit()
    return limits


# -- plans -----------------------------------------------------------------------------------------------------------


def plan_defaults(op: Operator) -> dict[str, Limits]:
    """Each plan's default limits (None: unlimited)."""
    _label(op)
    with system_session() as s:  # the plan rows carry no tenant: every session may read them
        rows = s.execute(
            text(f"SELECT plan::text AS plan, {', '.join(LIMIT_KINDS)} FROM plan_limits WHERE tenant_id IS NULL")
        ).all()
    found = {row.plan: {kind: getattr(row, kind) for kind in LIMIT_KINDS} for row in rows}
    return {plan.value: found.get(plan.value, dict.fromkeys(LIMIT_KINDS)) for plan in TenantPlan}


def set_plan_defaults(
    op: Operator, plan: str | TenantPlan, values: dict[str, object], *, clock: Clock = system_clock
) -> Limits:
    """A plan's default limits for every tenant on it (a blank value: unlimited). Audited in each such tenant."""
    _label(op)
    chosen = _plan(plan)
    limits = _clean_limits(values)
    before = plan_defaults(op)[chosen.value]
    sets = ", ".join(f"{kind} = :{kind}" for kind in LIMIT_KINDS)
    with admin_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan_limits (plan) SELECT CAST(:p AS tenant_plan) WHERE NOT EXISTS "
                "(SELECT 1 FROM plan_limits WHERE tenant_id IS NULL AND plan = CAST(:p AS tenant_plan))"
            ),
            {"p": chosen.value},
        )
        conn.execute(
            text(
                f"UPDATE plan_limits SET {sets}, updated_at = :now WHERE tenant_id IS NULL AND plan = CAST(:p AS "
                "tenant_plan)"
            ),
            {"p": chosen.value, "now": clock.now(), **limits},
        )
        tenants = (
            conn.execute(text("SELECT id FROM tenants WHERE plan = CAST(:p AS tenant_plan)"), {"p": chosen.value})
            .scalars()
            .all()
        )
    for tenant in tenants:
        with tenant_session(tenant) as s:
            _audit(s, op, tenant, "platform.plan_defaults_changed", before, {"plan": chosen.value, **limits}, clock)
            s.commit()
    return limits


# -- the platform's Evolution servers (offered to every tenant) ------------------------------------------------------

# Disabling a platform server stops every tenant's numbers on it: the page asks first, naming them
# (`server_impact(..., "disable")`).
SERVER_STATES = ("active", "draining", "disabled")
SERVER_CHANGES = ("delete", "disable")  # what `server_impact` reads


def _audit_server(actor: Actor, action: str, server_id: uuid.UUID, before=None, after=None, clock=system_clock):
    """A platform server belongs to no tenant: the entry goes to the operator's own tenant's log."""
    with tenant_session(actor.tenant_id) as s:
        audit.record(
            s, None, action, "evolution_server", server_id, before, after,
            tenant_id=actor.tenant_id, by=f"platform:{actor.label}", ip=actor.ip, clock=clock,
        )  # fmt: skip
        s.commit()


def list_servers(actor: Actor) -> list[evolution_servers.ServerView]:
    """The platform's servers, with the numbers placed on each across every tenant (never their key)."""
    authorize_platform(actor)
    return [view for view in evolution_servers.platform_servers() if view.owner == "platform"]


def add_server(
    actor: Actor,
    name: str,
    base_url: str,
    api_key: str,
    capacity: int | str | None = None,
    *,
    clock: Clock = system_clock,
) -> evolution_servers.ServerView:
    """A new platform server, probed first like `mirage evolution add` (its key is stored encrypted). An address
    already registered is refused here, where the CLI's add would update it."""
    authorize_platform(actor)
    name = evolution_servers.clean_name(name)
    url = evolution_servers.clean_url(base_url)
    key = evolution_servers.clean_key(api_key)
    size = evolution_servers.clean_capacity(capacity)
    if any(view.base_url == url for view in evolution_servers.platform_servers()):
        raise ValidationFailed("servers.duplicate_url", field="base_url")
    server_id = evolution_servers.register_platform_server(name, url, key, size)
    after = {"name": name, "base_url": url, "capacity": size}
    _audit_server(actor, "platform.server_added", server_id, None, after, clock)
    return evolution_servers.platform_server(server_id)


def set_server_state(
    actor: Actor, server_id: uuid.UUID | str, state: str, *, clock: Clock = system_clock
) -> evolution_servers.ServerView:
    """Drain (its numbers stay, no new one goes to it) or activate again."""
    authorize_platform(actor)
    if state not in SERVER_STATES:
        raise ValidationFailed("servers.state_invalid", field="state")
    before = evolution_servers.platform_server(server_id)
    view = evolution_servers.set_platform_state(str(before.id), state)
    _audit_server(actor, "platform.server_state", view.id, {"state": before.state}, {"state": view.state}, clock)
    return view


def probe_server(actor: Actor, server_id: uuid.UUID | str) -> evolution_servers.ServerView:
    """Probe one platform server now (the periodic probe does all of them every 30 s); records health only."""
    authorize_platform(actor)
    return evolution_servers.probe_platform_server(server_id)


def set_server_capacity(
    actor: Actor, server_id: uuid.UUID | str, capacity: int | str | None, *, clock: Clock = system_clock
) -> evolution_servers.ServerView:
    """Never below the numbers already on it, across every tenant; a blank is the default, as on Settings → Servers
    (evolution_servers.clean_capacity)."""
    authorize_platform(actor)
    before = evolution_servers.platform_server(server_id)
    # There None means "unchanged"; a cleared box here is a blank, which clean_capacity reads as the default.
    view = evolution_servers.update_platform_server(before.id, capacity="" if capacity is None else capacity)
    _audit_server(
        actor, "platform.server_capacity", view.id, {"capacity": before.capacity}, {"capacity": view.capacity}, clock
    )
    return view


def set_server_key(
    actor: Actor, server_id: uuid.UUID | str, api_key: str, *, clock: Clock = system_clock
) -> evolution_servers.ServerView:
    """A new global key, probed first (a key the server refuses is not saved); stored encrypted, never returned."""
    authorize_platform(actor)
    before = evolution_servers.platform_server(server_id)
    view = evolution_servers.update_platform_server(before.id, api_key=evolution_servers.clean_key(api_key))
    _audit_server(actor, "platform.server_key", view.id, None, {"api_key": "changed"}, clock)
    return view


def server_impact(actor: Actor, server_id: uuid.UUID | str, change: str) -> Impact:
    """What deleting or disabling a platform server would do: how many numbers of which tenants sit on it."""
    authorize_platform(actor)
    if change not in SERVER_CHANGES:
        raise ValidationFailed("servers.state_invalid", field="state")
    return evolution_servers.platform_server_impact(server_id, change)


def delete_server(actor: Actor, server_id: uuid.UUID | str, *, clock: Clock = system_clock) -> None:
    """Remove an empty platform server; one with numbers on it is refused (drain it, re-pair them elsewhere)."""
    authorize_platform(actor)
    gone = evolution_servers.delete_platform_server(server_id)
    _audit_server(
        actor, "platform.server_deleted", gone.id, {"name": gone.name, "base_url": gone.base_url}, None, clock
    )
