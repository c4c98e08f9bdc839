"""Role × action matrix: allowed actions succeed, the rest are refused on the server and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from mirage_app.base import audit
from mirage_app.base.errors import AuthFailed, PermissionDenied
from mirage_app.base.permissions import (
    API_KEY_ROLE,
    ROLE_PERMISSIONS,
    SENSITIVE_ACTIONS,
    Action,
    Actor,
    allowed_actions,
    authorize,
    can,
)
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_password
from mirage_app.models import ApiKey, AuditLog, Invitation, User, UserRole
from mirage_app.services import api_keys, auth, users
from mirage_app.services.seed import create_tenant
from tests.services.conftest import PASSWORD, TestUser, enable_mfa, next_totp

PRINCIPALS = ("admin_mfa", "admin_no_mfa", "operator", "viewer", "api_key")
ADMINS = {"admin_mfa", "admin_no_mfa"}
OPERATE = {"admin_mfa", "admin_no_mfa", "operator", "api_key"}

# The specification, written out independently of ROLE_PERMISSIONS.
EXPECTED: dict[Action, set[str]] = {
    Action.data_read: set(PRINCIPALS),
    Action.account_self: {"admin_mfa", "admin_no_mfa", "operator", "viewer"},
    Action.numbers_manage: OPERATE,
    Action.personas_manage: OPERATE,
    Action.conversations_manage: OPERATE,
    Action.contacts_manage: OPERATE,
    Action.outreach_manage: OPERATE,
    Action.media_manage: OPERATE,
    Action.contacts_export: {"admin_mfa"},
    Action.contacts_erase: {"admin_mfa"},
    Action.settings_tenant: ADMINS,
    Action.settings_safety_limits_raise: {"admin_mfa"},
    Action.users_read: ADMINS,
    Action.users_manage: {"admin_mfa"},
    Action.api_keys_read: ADMINS,
    Action.api_keys_manage: {"admin_mfa"},
    Action.audit_read: ADMINS,
    Action.servers_manage: ADMINS,
    Action.servers_credentials: {"admin_mfa"},
}


def test_matrix_covers_every_action():
    assert set(EXPECTED) == set(Action)
    assert set(ROLE_PERMISSIONS) == set(UserRole)
    sensitive = {Action.users_manage, Action.api_keys_manage, Action.contacts_export, Action.contacts_erase}
    assert sensitive <= SENSITIVE_ACTIONS
    assert UserRole.operator == API_KEY_ROLE


def _static_actor(principal: str) -> Actor:
    tenant = uuid.uuid4()
    if principal == "api_key":
        return Actor(tenant_id=tenant, role=API_KEY_ROLE, label="api_key:ci", api_key_id=uuid.uuid4())
    role = UserRole.admin if principal in ADMINS else UserRole(principal)
    return Actor(
        tenant_id=tenant, role=role, label="x@example.com", user_id=uuid.uuid4(), mfa_enabled=principal == "admin_mfa"
    )


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("action", list(Action))
def test_authorize_matrix(action, principal):
    actor = _static_actor(principal)
    allowed = principal in EXPECTED[action]
    assert can(actor, action) is allowed
    assert (action.value in allowed_actions(actor)) is allowed
    if allowed:
        assert authorize(actor, action) is actor
        return
    with pytest.raises(PermissionDenied) as info:
        authorize(actor, action)
    expected_reason = "role"
    if principal == "admin_no_mfa" and action in SENSITIVE_ACTIONS:
        expected_reason = "mfa_required"
    if principal == "api_key" and action == Action.account_self:
        expected_reason = "user_required"
    assert info.value.reason == expected_reason
    assert info.value.status == 403 and info.value.code == f"permission.{expected_reason}"


def test_nobody_signed_in_is_refused():
    with pytest.raises(AuthFailed):
        authorize(None, Action.data_read)
    assert not can(None, Action.data_read)


# -- the same matrix through the real services, with actors obtained by real sign-in ----------------------------------


@dataclass
class World:
    tenant_id: uuid.UUID
    clock: FrozenClock
    actors: dict[str, Actor]
    admin: Actor  # admin_mfa, used to prepare targets


def _user(tenant_id: uuid.UUID, role: UserRole, *, can_sign_in: bool = True) -> TestUser:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    password_hash = hash_password(PASSWORD) if can_sign_in else None
    with tenant_session(tenant_id) as s:
        row = User(tenant_id=tenant_id, email=email, role=role, password_hash=password_hash)
        s.add(row)
        s.commit()
    return TestUser(row.id, tenant_id, email, PASSWORD, role)


@pytest.fixture(scope="module")
def world(services) -> World:
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    tenant_id = create_tenant(f"Matrix {uuid.uuid4().hex[:6]}")
    people = {
        "admin_mfa": _user(tenant_id, UserRole.admin),
        "admin_no_mfa": _user(tenant_id, UserRole.admin),
        "operator": _user(tenant_id, UserRole.operator),
        "viewer": _user(tenant_id, UserRole.viewer),
    }
    enable_mfa(people["admin_mfa"], clock)
    actors = {}
    for name, person in people.items():
        result = auth.login(person.email, person.password, ip="192.0.2.10", clock=clock)
        if result.mfa_required:
            result = auth.complete_mfa(result.pending_token, next_totp(person, clock), clock=clock)
        actors[name] = auth.resolve_session(result.session_token, ip="192.0.2.10", clock=clock)
    assert actors["admin_mfa"].mfa_enabled and not actors["admin_no_mfa"].mfa_enabled
    _view, raw = api_keys.create_key(actors["admin_mfa"], "matrix", clock=clock)
    actors["api_key"] = api_keys.authenticate(raw, "192.0.2.20", clock=clock)
    return World(tenant_id, clock, actors, actors["admin_mfa"])


@dataclass
class Targets:
    user_id: uuid.UUID
    invitation_id: uuid.UUID
    key_id: uuid.UUID


def _targets(w: World) -> Targets:
    target = _user(w.tenant_id, UserRole.viewer, can_sign_in=False)
    invitation = users.invite(w.admin, f"inv-{uuid.uuid4().hex[:8]}@example.com", "viewer", clock=w.clock)
    key, _raw = api_keys.create_key(w.admin, "target", clock=w.clock)
    return Targets(target.id, invitation.invitation.id, key.id)


def _snapshot(tenant_id: uuid.UUID) -> tuple:
    with tenant_session(tenant_id) as s:
        people = sorted((u.id, u.role, u.is_active, u.locale) for u in s.exec(select(User)).all())
        invitations = sorted((i.id, i.revoked_at) for i in s.exec(select(Invitation)).all())
        keys = sorted((k.id, k.revoked_at) for k in s.exec(select(ApiKey)).all())
        entries = s.exec(select(func.count()).select_from(AuditLog)).one()
    return people, invitations, keys, entries


def _entries_by(tenant_id: uuid.UUID, label: str) -> int:
    with tenant_session(tenant_id) as s:
        return s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.actor == label)).one()


OPERATIONS: dict[str, tuple[Action, Callable[[Actor, Targets, World], object]]] = {
    "invite": (
        Action.users_manage,
        lambda a, t, w: users.invite(a, f"n-{uuid.uuid4().hex[:6]}@example.com", "operator"),
    ),
    "change_role": (Action.users_manage, lambda a, t, w: users.change_role(a, t.user_id, "operator")),
    "deactivate_user": (Action.users_manage, lambda a, t, w: users.deactivate_user(a, t.user_id)),
    "revoke_invitation": (Action.users_manage, lambda a, t, w: users.revoke_invitation(a, t.invitation_id)),
    "list_users": (Action.users_read, lambda a, t, w: users.list_users(a)),
    "list_invitations": (Action.users_read, lambda a, t, w: users.list_invitations(a)),
    "create_key": (Action.api_keys_manage, lambda a, t, w: api_keys.create_key(a, "new key")),
    "revoke_key": (Action.api_keys_manage, lambda a, t, w: api_keys.revoke_key(a, t.key_id)),
    "list_keys": (Action.api_keys_read, lambda a, t, w: api_keys.list_keys(a)),
    "list_audit": (Action.audit_read, lambda a, t, w: audit.list_entries(a)),
    "set_locale": (Action.account_self, lambda a, t, w: users.set_locale(a, "en")),
}

MUTATING = {"invite", "change_role", "deactivate_user", "revoke_invitation", "create_key", "revoke_key", "set_locale"}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_service_matrix(world, operation, principal):
    action, call = OPERATIONS[operation]
    actor = world.actors[principal]
    targets = _targets(world)
    before = _snapshot(world.tenant_id)
    audited_before = _entries_by(world.tenant_id, actor.label)
    if principal in EXPECTED[action]:
        call(actor, targets, world)
        if operation in MUTATING:
            assert _snapshot(world.tenant_id) != before
            assert _entries_by(world.tenant_id, actor.label) == audited_before + 1
        return
    with pytest.raises(PermissionDenied):
        call(actor, targets, world)
    assert _snapshot(world.tenant_id) == before
