"""TOTP enrolment, two-step sign-in, single-use codes, recovery codes, and MFA as the gate for sensitive actions."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlmodel import select

from mirage_app.base.errors import AuthFailed, Conflict, PermissionDenied, Throttled, ValidationFailed
from mirage_app.core.db import tenant_session
from mirage_app.models import AuditLog, User, UserRole
from mirage_app.services import api_keys, auth, mfa
from mirage_app.services.auth_sessions import PENDING_MFA_TTL
from tests.services.conftest import enable_mfa, next_totp, totp_now


def _user_row(user) -> User:
    with tenant_session(user.tenant_id) as s:
        return s.get(User, user.id)


def _actions(tenant_id) -> list[str]:
    with tenant_session(tenant_id) as s:
        return list(s.exec(select(AuditLog.action)).all())


def test_enrolment_needs_a_valid_code_before_mfa_is_on(tenant_a, make_user, clock):
    user = make_user(tenant_a, UserRole.admin)
    enrolment = mfa.begin_enrolment(user.actor(), clock=clock)
    uri = urlparse(enrolment.otpauth_uri)
    assert uri.scheme == "otpauth" and parse_qs(uri.query)["issuer"] == ["Mirage"]
    assert parse_qs(uri.query)["secret"] == [enrolment.secret]
    assert enrolment.qr_svg_data_uri.startswith("data:image/svg+xml")
    row = _user_row(user)
    assert not row.mfa_enabled and row.totp_secret_enc and enrolment.secret not in row.totp_secret_enc

    for bad in ("000000", "12345", "abcdef", ""):
        with pytest.raises(ValidationFailed) as info:
            mfa.confirm_enrolment(user.actor(), bad, clock=clock)
        assert info.value.code == "mfa.invalid_code" and info.value.field == "code"
    assert not _user_row(user).mfa_enabled

    codes = mfa.confirm_enrolment(user.actor(), pyotp.TOTP(enrolment.secret).at(clock.now()), clock=clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    row = _user_row(user)
    assert row.mfa_enabled and len(row.recovery_codes) == 10
    assert not set(codes) & set(row.recovery_codes)
    assert {"mfa.enrolment_started", "mfa.enabled"} <= set(_actions(tenant_a))
    with pytest.raises(Conflict):
        mfa.begin_enrolment(user.actor(), clock=clock)


def test_confirm_without_begin_is_refused(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    with pytest.raises(ValidationFailed) as info:
        mfa.confirm_enrolment(user.actor(), "123456", clock=clock)
    assert info.value.code == "mfa.not_started"


def test_code_from_a_neighbouring_step_is_accepted(tenant_a, make_user, clock):
    user = make_user(tenant_a)
    enrolment = mfa.begin_enrolment(user.actor(), clock=clock)
    previous = pyotp.TOTP(enrolment.secret).at(clock.now() - timedelta(seconds=30))
    assert mfa.confirm_enrolment(user.actor(), previous, clock=clock)


def test_sign_in_with_totp(tenant_a, make_user, clock):
    user = make_user(tenant_a, UserRole.admin, mfa_on=True)
    first = auth.login(user.email, user.password, clock=clock)
    assert first.mfa_required and first.session_token is None and first.actor is None
    assert auth.resolve_session(first.pending_token, clock=clock) is None  # a pending token is no session

    with pytest.raises(AuthFailed) as wrong:
        auth.complete_mfa(first.pending_token, "000000", clock=clock)
    assert wrong.value.code == "mfa.invalid_code"

    code = next_totp(user, clock)
    done = auth.complete_mfa(first.pending_token, code, clock=clock)
    actor = auth.resolve_session(done.session_token, clock=clock)
    assert actor.mfa_enabled and actor.role == UserRole.admin
    assert _user_row(user).failed_logins == 0

    with pytest.raises(AuthFailed) as reused:  # the pending token is spent
        auth.complete_mfa(first.pending_token, code, clock=clock)
    assert reused.value.code == "mfa.pending_expired"
    again = auth.login(user.email, user.password, clock=clock)
    with pytest.raises(AuthFailed):  # the same TOTP code cannot be replayed
        auth.complete_mfa(again.pending_token, code, clock=clock)


def test_pending_sign_in_expires(tenant_a, make_user, clock):
    user = make_user(tenant_a, mfa_on=True)
    pending = auth.login(user.email, user.password, clock=clock).pending_token
    clock.advance(PENDING_MFA_TTL + timedelta(seconds=1))
    with pytest.raises(AuthFailed) as info:
        auth.complete_mfa(pending, totp_now(user, clock), clock=clock)
    assert info.value.code == "mfa.pending_expired"


def test_wrong_codes_count_towards_the_lock(tenant_a, make_user, clock):
    user = make_user(tenant_a, mfa_on=True)
    pending = auth.login(user.email, user.password, clock=clock).pending_token
    for _ in range(9):
        with pytest.raises(AuthFailed) as info:
            auth.complete_mfa(pending, "000000", clock=clock)
        clock.advance(timedelta(seconds=info.value.retry_after or 0))  # the growing delay, waited out
    with pytest.raises(Throttled):
        auth.complete_mfa(pending, "000000", clock=clock)
    # A correct password does not reset the count (or TOTP could be guessed forever), and the account is locked.
    with pytest.raises(Throttled):
        auth.login(user.email, user.password, clock=clock)


def test_recovery_codes_work_once(tenant_a, make_user, clock):
    user = make_user(tenant_a, mfa_on=True)
    code = user.recovery_codes[0]
    pending = auth.login(user.email, user.password, clock=clock).pending_token
    done = auth.complete_mfa(pending, f"  {code.upper()} ", clock=clock)
    assert auth.resolve_session(done.session_token, clock=clock).mfa_enabled
    assert len(_user_row(user).recovery_codes) == 9
    assert mfa.recovery_codes_left(user.actor()) == 9

    pending = auth.login(user.email, user.password, clock=clock).pending_token
    with pytest.raises(AuthFailed):
        auth.complete_mfa(pending, code, clock=clock)
    assert auth.complete_mfa(pending, user.recovery_codes[1], clock=clock).session_token


def test_regenerate_recovery_codes_replaces_the_old_ones(tenant_a, make_user, clock):
    user = make_user(tenant_a, mfa_on=True)
    with pytest.raises(ValidationFailed):
        mfa.regenerate_recovery_codes(user.actor(), "000000", clock=clock)
    fresh = mfa.regenerate_recovery_codes(user.actor(), next_totp(user, clock), clock=clock)
    assert len(fresh) == 10 and not set(fresh) & set(user.recovery_codes)
    pending = auth.login(user.email, user.password, clock=clock).pending_token
    with pytest.raises(AuthFailed):
        auth.complete_mfa(pending, user.recovery_codes[2], clock=clock)
    assert auth.complete_mfa(pending, fresh[0], clock=clock).session_token


def test_disable_needs_a_code_and_clears_the_secret(tenant_a, make_user, clock):
    user = make_user(tenant_a, mfa_on=True)
    with pytest.raises(ValidationFailed):
        mfa.disable(user.actor(), "000000", clock=clock)
    assert _user_row(user).mfa_enabled
    pending = auth.login(user.email, user.password, clock=clock).pending_token
    mfa.disable(user.actor(), next_totp(user, clock), clock=clock)
    row = _user_row(user)
    assert not row.mfa_enabled and row.totp_secret_enc is None and row.recovery_codes == []
    with pytest.raises(AuthFailed):  # an in-flight two-step sign-in does not become a session
        auth.complete_mfa(pending, next_totp(user, clock), clock=clock)
    assert auth.resolve_session(pending, clock=clock) is None
    assert auth.login(user.email, user.password, clock=clock).session_token
    with pytest.raises(Conflict):
        mfa.disable(user.actor(mfa_enabled=False), "123456", clock=clock)


def test_enabling_mfa_keeps_this_session_and_ends_the_others(tenant_a, make_user, clock):
    user = make_user(tenant_a, UserRole.admin)
    here = auth.login(user.email, user.password, clock=clock).session_token
    elsewhere = auth.login(user.email, user.password, clock=clock).session_token
    actor = auth.resolve_session(here, clock=clock)
    assert not actor.mfa_enabled
    enrolment = mfa.begin_enrolment(actor, clock=clock)
    mfa.confirm_enrolment(actor, pyotp.TOTP(enrolment.secret).at(clock.now()), clock=clock)
    assert auth.resolve_session(here, clock=clock).mfa_enabled
    assert auth.resolve_session(elsewhere, clock=clock) is None


def test_admin_needs_mfa_for_sensitive_operations(tenant_a, make_user, clock):
    admin = make_user(tenant_a, UserRole.admin)
    token = auth.login(admin.email, admin.password, clock=clock).session_token
    actor = auth.resolve_session(token, clock=clock)
    with pytest.raises(PermissionDenied) as info:
        api_keys.create_key(actor, "ci", clock=clock)
    assert info.value.reason == "mfa_required"
    assert "two-factor" in info.value.message

    enable_mfa(admin, clock)
    pending = auth.login(admin.email, admin.password, clock=clock).pending_token
    session = auth.complete_mfa(pending, next_totp(admin, clock), clock=clock).session_token
    view, raw = api_keys.create_key(auth.resolve_session(session, clock=clock), "ci", clock=clock)
    assert raw.startswith(f"mrg_{view.prefix}_")
