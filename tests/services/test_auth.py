"""Sign-in, sessions (sliding and absolute expiry, revocation) and password changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from mirage_app.base.errors import AuthFailed, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_password, hash_token
from mirage_app.models import AuditLog, User, UserRole, UserSession
from mirage_app.services import auth, users
from mirage_app.services.auth_sessions import SESSION_ABSOLUTE, SESSION_IDLE, revoke_user_sessions
from mirage_app.services.seed import DEFAULT_ADMIN_EMAIL, ensure_default_tenant, reset_admin_password
from tests.services.conftest import unique_email


def _session_row(tenant_id, token: str) -> UserSession:
    with tenant_session(tenant_id) as s:
        return s.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()


def test_login_returns_a_session_that_resolves_to_the_actor(tenant_a, make_user, clock):
    user = make_user(tenant_a, UserRole.operator)
    result = auth.login(user.email.upper(), user.password, ip="192.0.2.1", user_agent="pytest", clock=clock)
    assert result.session_token and not result.mfa_required and result.pending_token is None
    assert result.actor.user_id == user.id and result.actor.role == UserRole.operator
    assert not result.password_change_required
    actor = auth.resolve_session(result.session_token, clock=clock)
    assert actor == Actor(
        tenant_id=tenant_a,
        role=UserRole.operator,
        label=user.email,
        user_id=user.id,
        session_id=actor.session_id,
        ip="192.0.2.1",
        locale="pt-BR",
    )
    with tenant_session(tenant_a) as s:
        row = s.get(User, user.id)
        entry = s.exec(select(AuditLog).where(AuditLog.action == "auth.login")).one()
    assert row.last_login_at == clock.now()
    assert entry.actor == user.email and entry.ip == "192.0.2.1"


def test_wrong_password_and_unknown_email_give_the_same_answer(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    with pytest.raises(AuthFailed) as wrong:
        auth.login(user.email, "not the password", clock=clock)
    with pytest.raises(AuthFailed) as unknown:
        auth.login("nobody@example.com", "not the password", clock=clock)
    assert wrong.value.code == unknown.value.code == "auth.invalid_credentials"
    assert wrong.value.message == unknown.value.message == "Email or password is incorrect."
    assert wrong.value.status == 401


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "a@-x.com"])
def test_malformed_email_is_a_validation_error(email, clock):
    with pytest.raises(ValidationFailed) as info:
        auth.login(email, "whatever password", clock=clock)
    assert info.value.code == "validation.email_invalid" and info.value.field == "email"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "validation.password_too_short"),
        ("", "validation.password_too_short"),
        ("x" * 257, "validation.password_too_long"),
        ("Password123", "validation.password_common"),
        ("aaaaaaaaaaaa", "validation.password_common"),
        ("my-maria.silva-pass", "validation.password_contains_email"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_code(password, code):
    with pytest.raises(ValidationFailed) as info:
        auth.validate_password(password, "Maria.Silva@example.com")
    assert info.value.code == code and info.value.field == "password"
    assert "{" not in info.value.message  # parameters were filled in


def test_validators_accept_good_input():
    assert auth.validate_email("  Ana.Souza+mirage@Example.COM ") == "ana.souza+mirage@example.com"
    assert auth.validate_password("a long unusual phrase", "ana@example.com") == "a long unusual phrase"


def test_logout_revokes_the_session(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    token = auth.login(user.email, user.password, clock=clock).session_token
    auth.logout(token, clock=clock)
    assert auth.resolve_session(token, clock=clock) is None
    assert _session_row(tenant_a, token).revoked_at == clock.now()
    auth.logout(token, clock=clock)  # twice is harmless
    auth.logout("unknown-token", clock=clock)


def test_sessions_slide_but_end_after_the_absolute_limit(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    token = auth.login(user.email, user.password, clock=clock).session_token
    # Used a little more often than the idle limit: stays alive, until the absolute limit.
    step = SESSION_IDLE - timedelta(minutes=1)
    steps = int(SESSION_ABSOLUTE / step)
    for _ in range(steps):
        clock.advance(step)
        assert auth.resolve_session(token, clock=clock) is not None
    clock.advance(SESSION_ABSOLUTE - steps * step + timedelta(seconds=1))
    assert auth.resolve_session(token, clock=clock) is None


def test_idle_session_expires(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    token = auth.login(user.email, user.password, clock=clock).session_token
    clock.advance(SESSION_IDLE - timedelta(seconds=1))
    assert auth.resolve_session(token, clock=clock) is not None
    clock.advance(SESSION_IDLE + timedelta(seconds=1))
    assert auth.resolve_session(token, clock=clock) is None


def test_last_seen_is_written_at_most_once_a_minute(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    token = auth.login(user.email, user.password, clock=clock).session_token
    start = clock.now()
    clock.advance(timedelta(seconds=30))
    auth.resolve_session(token, clock=clock)
    assert _session_row(tenant_a, token).last_seen_at == start
    clock.advance(timedelta(seconds=31))
    auth.resolve_session(token, clock=clock)
    assert _session_row(tenant_a, token).last_seen_at == clock.now()


def test_password_change_revokes_other_sessions(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    here = auth.login(user.email, user.password, clock=clock).session_token
    elsewhere = auth.login(user.email, user.password, clock=clock).session_token
    actor = auth.resolve_session(here, clock=clock)
    assert auth.change_password(actor, user.password, "a brand new passphrase", clock=clock) == 1
    assert auth.resolve_session(here, clock=clock) is not None
    assert auth.resolve_session(elsewhere, clock=clock) is None
    with pytest.raises(AuthFailed):
        auth.login(user.email, user.password, clock=clock)
    assert auth.login(user.email, "a brand new passphrase", clock=clock).session_token


@pytest.mark.parametrize(
    ("current", "new", "field", "code"),
    [
        ("wrong current pass", "a brand new passphrase", "current_password", "auth.wrong_password"),
        (None, "short", "new_password", "validation.password_too_short"),
        (None, None, "new_password", "validation.password_reused"),
    ],
)
def test_bad_password_change_changes_nothing(tenant_a, make_user, clock, current, new, field, code):
    user = make_user(tenant_a)
    token = auth.login(user.email, user.password, clock=clock).session_token
    actor = auth.resolve_session(token, clock=clock)
    with tenant_session(tenant_a) as s:
        before = s.get(User, user.id).password_hash
    with pytest.raises(ValidationFailed) as info:
        auth.change_password(actor, current or user.password, new or user.password, clock=clock)
    assert (info.value.field, info.value.code) == (field, code)
    with tenant_session(tenant_a) as s:
        assert s.get(User, user.id).password_hash == before
    assert auth.resolve_session(token, clock=clock) is not None


def test_api_key_cannot_change_a_password(tenant_a):
    key_actor = Actor(tenant_id=tenant_a, role=UserRole.operator, label="api_key:x", api_key_id=tenant_a)
    with pytest.raises(PermissionDenied) as info:
        auth.change_password(key_actor, "a", "b")
    assert info.value.reason == "user_required"


def test_first_run_admin_must_choose_a_password(tenant_a, clock):
    """The seed stores only a generated password's hash and leaves password_changed_at empty."""
    email = unique_email("first")
    with tenant_session(tenant_a) as s:
        generated = hash_password("Gen3rated-pw-xyz")
        s.add(User(tenant_id=tenant_a, email=email, role=UserRole.admin, password_hash=generated))
        s.commit()
    result = auth.login(email, "Gen3rated-pw-xyz", clock=clock)
    assert result.password_change_required
    auth.change_password(result.actor, "Gen3rated-pw-xyz", "my own long passphrase", clock=clock)
    assert not auth.login(email, "my own long passphrase", clock=clock).password_change_required


def test_role_change_and_deactivation_apply_to_live_sessions(tenant_a, make_user, clock):
    admin = make_user(tenant_a, UserRole.admin, mfa_on=True)
    user = make_user(tenant_a, UserRole.operator)
    token = auth.login(user.email, user.password, clock=clock).session_token
    users.change_role(admin.actor(), user.id, "viewer", clock=clock)
    actor = auth.resolve_session(token, clock=clock)
    assert actor.role == UserRole.viewer
    with pytest.raises(PermissionDenied):
        authorize(actor, Action.contacts_manage)
    users.deactivate_user(admin.actor(), user.id, clock=clock)
    assert auth.resolve_session(token, clock=clock) is None
    with pytest.raises(AuthFailed):
        auth.login(user.email, user.password, clock=clock)


def test_revoke_user_sessions(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    tokens = [auth.login(user.email, user.password, clock=clock).session_token for _ in range(3)]
    assert revoke_user_sessions(tenant_a, user.id, clock=clock) == 3
    assert all(auth.resolve_session(t, clock=clock) is None for t in tokens)


@pytest.mark.parametrize("token", [None, "", "x" * 500, "not-a-token"])
def test_unknown_session_tokens_resolve_to_nobody(services, token):
    assert auth.resolve_session(token) is None


def test_authorize_session_is_the_event_handler_guard(tenant_a, make_user, clock):
    viewer = make_user(tenant_a, UserRole.viewer)
    token = auth.login(viewer.email, viewer.password, clock=clock).session_token
    assert auth.authorize_session(token, Action.data_read, clock=clock).user_id == viewer.id
    with pytest.raises(PermissionDenied):
        auth.authorize_session(token, Action.personas_manage, clock=clock)
    auth.logout(token, clock=clock)
    with pytest.raises(AuthFailed) as info:
        auth.authorize_session(token, Action.data_read, clock=clock)
    assert info.value.code == "auth.session_expired"


def test_first_run_admin_from_the_seed(services, clock):
    """No fixed password: the seed generates one, and the CLI reset issues a new one and ends every session."""
    seeded = ensure_default_tenant()
    password = seeded.generated_password or reset_admin_password(DEFAULT_ADMIN_EMAIL)
    first = auth.login(DEFAULT_ADMIN_EMAIL, password, clock=clock)
    assert first.session_token and first.password_change_required and first.actor.role == UserRole.admin
    replacement = reset_admin_password(DEFAULT_ADMIN_EMAIL)
    assert replacement != password
    assert auth.resolve_session(first.session_token, clock=clock) is None
    assert auth.login(DEFAULT_ADMIN_EMAIL, replacement, clock=clock).session_token


def _failed_sign_ins(tenant_id) -> list[AuditLog]:
    with tenant_session(tenant_id) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == "auth.login_failed").order_by(AuditLog.at)))


def test_failed_sign_ins_are_in_the_tenants_audit_log(tenant_a, make_user, clock, new_ip):
    user = make_user(tenant_a, UserRole.operator)
    ip = new_ip()
    with pytest.raises(AuthFailed):
        auth.login(user.email, "Wrong-Password-123", ip=ip, clock=clock)
    (entry,) = _failed_sign_ins(tenant_a)
    assert (entry.actor, entry.actor_user_id, entry.ip, entry.entity_id) == (user.email, None, ip, str(user.id))
    assert entry.after == {"email": user.email, "ip": ip, "step": "password", "failures": 1}
    assert "Wrong-Password-123" not in str(entry.before) + str(entry.after)

    with pytest.raises(AuthFailed):  # an unknown email has no tenant: only the throttle counts it
        auth.login(unique_email("nobody"), "Wrong-Password-123", ip=ip, clock=clock)
    assert len(_failed_sign_ins(tenant_a)) == 1


def test_a_wrong_second_factor_is_a_failed_sign_in(tenant_a, make_user, clock, new_ip):
    user = make_user(tenant_a, UserRole.admin, mfa_on=True)
    ip = new_ip()
    pending = auth.login(user.email, user.password, ip=ip, clock=clock).pending_token
    with pytest.raises(AuthFailed):
        auth.complete_mfa(pending, "000000", ip=ip, clock=clock)
    (entry,) = _failed_sign_ins(tenant_a)
    assert entry.after["step"] == "mfa" and entry.ip == ip and entry.actor == user.email


def test_a_wrong_current_password_at_a_change_is_logged(tenant_a, make_user, clock):
    user = make_user(tenant_a, UserRole.viewer)
    with pytest.raises(ValidationFailed):
        auth.change_password(user.actor(), "Not-The-Password-1", "Another-Good-One-42", clock=clock)
    (entry,) = _failed_sign_ins(tenant_a)
    assert entry.after["step"] == "current_password" and entry.ip == user.actor().ip
