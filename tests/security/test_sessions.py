"""A person sees their live sessions and ends the others; an admin ends every session of a user; failed sign-ins
and lock-outs are in the audit log (issue 14, finding 9)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.core.db import tenant_session
from mirage_app.models import AuditLog, UserRole
from mirage_app.services import auth, auth_sessions
from mirage_app.services.throttle import POLICY


def _sign_in(user, clock, ip, agent):
    token = auth.login(user.email, user.password, ip=ip, user_agent=agent, clock=clock).session_token
    return token, auth.resolve_session(token, clock=clock)


def test_a_person_lists_their_live_sessions_with_the_current_one_marked(tenant_a, make_user, clock, new_ip):
    user, other = make_user(tenant_a, UserRole.viewer), make_user(tenant_a, UserRole.viewer)
    _, laptop = _sign_in(user, clock, new_ip(), "Firefox on Linux")
    clock.advance(timedelta(minutes=5))
    _, phone = _sign_in(user, clock, new_ip(), "Safari on iPhone")
    _sign_in(other, clock, new_ip(), "someone else")
    listed = auth_sessions.list_my_sessions(phone, clock=clock)
    assert [(v.id, v.current, v.user_agent) for v in listed] == [
        (phone.session_id, True, "Safari on iPhone"),
        (laptop.session_id, False, "Firefox on Linux"),
    ]
    assert listed[1].ip == laptop.ip and listed[1].created_at < listed[0].created_at


def test_revoking_another_session_ends_it_at_once(tenant_a, make_user, clock, new_ip):
    user = make_user(tenant_a, UserRole.operator)
    laptop_token, laptop = _sign_in(user, clock, new_ip(), "laptop")
    _, phone = _sign_in(user, clock, new_ip(), "phone")
    auth_sessions.revoke_my_session(phone, laptop.session_id, clock=clock)
    assert auth.resolve_session(laptop_token, clock=clock) is None
    assert [v.id for v in auth_sessions.list_my_sessions(phone, clock=clock)] == [phone.session_id]
    with pytest.raises(NotFound):  # already ended
        auth_sessions.revoke_my_session(phone, laptop.session_id, clock=clock)
    with pytest.raises(ValidationFailed):  # the current one ends by signing out
        auth_sessions.revoke_my_session(phone, phone.session_id, clock=clock)
    with pytest.raises(NotFound):
        auth_sessions.revoke_my_session(phone, "not-an-id", clock=clock)


def test_sign_out_everywhere_else_keeps_the_current_session(tenant_a, make_user, clock, new_ip):
    user = make_user(tenant_a, UserRole.viewer)
    tokens = [_sign_in(user, clock, new_ip(), f"device {i}")[0] for i in range(3)]
    current_token, current = _sign_in(user, clock, new_ip(), "this one")
    assert auth_sessions.revoke_my_other_sessions(current, clock=clock) == 3
    assert all(auth.resolve_session(t, clock=clock) is None for t in tokens)
    assert auth.resolve_session(current_token, clock=clock) is not None


def test_nobody_ends_someone_elses_session(tenant_a, tenant_b, make_user, clock, new_ip):
    user, colleague = make_user(tenant_a, UserRole.admin), make_user(tenant_a, UserRole.operator)
    stranger = make_user(tenant_b, UserRole.operator)
    _, mine = _sign_in(user, clock, new_ip(), "mine")
    colleague_token, theirs = _sign_in(colleague, clock, new_ip(), "theirs")
    stranger_token, foreign = _sign_in(stranger, clock, new_ip(), "foreign")
    for session_id in (theirs.session_id, foreign.session_id):
        with pytest.raises(NotFound):
            auth_sessions.revoke_my_session(mine, session_id, clock=clock)
    assert auth.resolve_session(colleague_token, clock=clock) is not None
    assert auth.resolve_session(stranger_token, clock=clock) is not None


def test_an_admin_ends_every_session_of_a_user(tenant_a, tenant_b, make_user, clock, new_ip):
    admin, operator = make_user(tenant_a, UserRole.admin, mfa_on=True), make_user(tenant_a, UserRole.operator)
    stranger = make_user(tenant_b, UserRole.operator)
    tokens = [_sign_in(operator, clock, new_ip(), f"device {i}")[0] for i in range(2)]
    acting = admin.actor()
    assert auth_sessions.revoke_sessions_of(acting, operator.id, clock=clock) == 2
    assert all(auth.resolve_session(t, clock=clock) is None for t in tokens)
    with pytest.raises(NotFound):  # another tenant's user is not there at all
        auth_sessions.revoke_sessions_of(acting, stranger.id, clock=clock)
    with pytest.raises(NotFound):
        auth_sessions.revoke_sessions_of(acting, uuid.uuid4(), clock=clock)
    with pytest.raises(PermissionDenied):  # an operator may not
        auth_sessions.revoke_sessions_of(operator.actor(), admin.id, clock=clock)
    with pytest.raises(PermissionDenied):  # nor an admin whose session has not passed MFA
        auth_sessions.revoke_sessions_of(admin.actor(mfa_enabled=False), operator.id, clock=clock)
    with tenant_session(tenant_a) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "auth.sessions_revoked")).one()
    assert entry.entity_id == str(operator.id) and entry.after == {"count": 2}


def test_an_api_key_has_no_sessions(tenant_a):
    from mirage_app.base.permissions import Actor

    key = Actor(tenant_id=tenant_a, role=UserRole.operator, label="api_key:x", api_key_id=uuid.uuid4())
    with pytest.raises(PermissionDenied):
        auth_sessions.list_my_sessions(key)


def test_a_lock_out_is_in_the_audit_log(tenant_a, make_user, clock, new_ip):
    user, ip = make_user(tenant_a, UserRole.operator), new_ip()
    for _ in range(POLICY.lock_after):
        clock.advance(timedelta(seconds=POLICY.max_delay_s + 1))  # past each cooling-down delay
        with pytest.raises((auth.AuthFailed, auth.Throttled)):
            auth.login(user.email, "Wrong-Password-123", ip=ip, clock=clock)
    with tenant_session(tenant_a) as s:
        actions = [e.action for e in s.exec(select(AuditLog).where(AuditLog.entity_id == str(user.id)))]
        (locked,) = s.exec(select(AuditLog).where(AuditLog.action == "auth.account_locked")).all()
    assert actions.count("auth.login_failed") == POLICY.lock_after
    assert locked.ip == ip and locked.after["email"] == user.email and locked.after["locked_until"]
