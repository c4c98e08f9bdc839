"""Sign-in, sign-out, session resolution and password changes, shared by the Reflex UI and the API.

The browser holds only a random session token; `resolve_session` turns it into an `Actor` on every event, so role
changes, deactivation and revocation take effect at once. With MFA on, the password step yields a short-lived
pending token that only `complete_mfa` can exchange for a session.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, select

from mirage_app.base import audit
from mirage_app.base.errors import AuthFailed, ServiceError, Throttled, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import hash_password, needs_rehash, verify_password
from mirage_app.models import Tenant, User, UserSession
from mirage_app.services.auth_sessions import (
    TOUCH_INTERVAL,
    create_session,
    find_session,
    revoke_in,
    sliding_expiry,
)
from mirage_app.services.mfa import own_user, verify_second_factor
from mirage_app.services.suspension import refuse_if_suspended
from mirage_app.services.throttle import FailureOutcome, LoginThrottle, default_throttle

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256  # argon2 copes with more, but nobody needs it and it bounds the work per attempt
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd", "passw0rd123",
        "1234567890", "0123456789", "12345678910", "123456789a", "0987654321", "1111111111", "1q2w3e4r5t",
        "qwertyuiop", "qwerty1234", "qwerty12345", "asdfghjkl1", "abc1234567", "abcdefghij", "iloveyou12",
        "letmein123", "welcome123", "changeme123", "admin12345", "administrator", "admin@123456", "senha12345",
        "senha123456", "senhasenha", "mudar123456", "brasil1234", "mirage1234", "mirage12345", "whatsapp123",
        "trustno1234", "sunshine123", "football123", "monkey12345", "dragon12345", "princess123",
    }
)  # fmt: skip


@dataclass(frozen=True)
class LoginResult:
    """Either a session (`session_token` + `actor`) or, with MFA on, a `pending_token` for `complete_mfa`."""

    session_token: str | None
    mfa_required: bool
    pending_token: str | None
    actor: Actor | None
    # The first-run admin signs in with a generated password and is asked to choose their own.
    password_change_required: bool = False


def validate_email(email: str | None, *, field: str = "email") -> str:
    """The address, trimmed and lower-cased, or ValidationFailed("validation.email_invalid")."""
    value = (email or "").strip().lower()
    if len(value) > 254 or not _EMAIL_RE.match(value) or len(value.split("@")[0]) > 64:
        raise ValidationFailed("validation.email_invalid", field=field)
    return value


def validate_password(password: str | None, email: str | None = None, *, field: str = "password") -> str:
    value = password or ""
    if len(value) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed("validation.password_too_short", field=field, min_length=PASSWORD_MIN_LENGTH)
    if len(value) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed("validation.password_too_long", field=field, max_length=PASSWORD_MAX_LENGTH)
    lowered = value.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        raise ValidationFailed("validation.password_common", field=field)
    local = (email or "").split("@")[0].lower()
    if len(local) >= 3 and local in lowered:
        raise ValidationFailed("validation.password_contains_email", field=field)
    return value


def lookup_user(email: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(tenant_id, user_id) of the active user with this email, across tenants (definer look-up)."""
    with system_session() as s:
        row = s.execute(text("SELECT user_id, tenant_id FROM auth_user_by_email(:e)"), {"e": email}).first()
    return None if row is None else (row.tenant_id, row.user_id)


def actor_for(user: User, row: UserSession, ip: str | None) -> Actor:
    return Actor(
        tenant_id=user.tenant_id,
        role=user.role,
        label=user.email,
        user_id=user.id,
        session_id=row.id,
        mfa_enabled=user.mfa_enabled and row.mfa_verified,
        ip=ip,
        locale=user.locale,
        display_name=user.display_name,
        platform_operator=user.is_platform_operator,
    )


def _failure_error(outcome: FailureOutcome, code: str = "auth.invalid_credentials") -> ServiceError:
    if outcome.locked_until is not None:
        return Throttled("auth.account_locked", outcome.retry_after or 1)
    return AuthFailed(code, retry_after=outcome.retry_after)


def _count_failure(
    s: Session, user: User, ip: str | None, throttle: LoginThrottle, clock: Clock, step: str
) -> FailureOutcome:
    """Record a failed attempt on a known account, in the caller's transaction (which must then commit), and in
    its tenant's audit log. `step`: what was wrong — "password", "mfa" or "current_password" (a password change).
    An unknown email has no tenant to log it in: only the throttle counts those."""
    outcome = throttle.failure(user.email, ip, now=clock.now(), db_failures=user.failed_logins)
    user.failed_logins = 0 if outcome.locked_until else outcome.failures
    failed = {"email": user.email, "ip": ip, "step": step, "failures": outcome.failures}
    audit.record(
        s, None, "auth.login_failed", "user", user.id, None, failed,
        tenant_id=user.tenant_id, by=user.email, ip=ip, clock=clock,
    )  # fmt: skip
    if outcome.locked_until is not None:
        user.locked_until = outcome.locked_until
        after = {"email": user.email, "ip": ip, "locked_until": outcome.locked_until}
        audit.record(
            s, None, "auth.account_locked", "user", user.id, None, after, tenant_id=user.tenant_id, ip=ip, clock=clock
        )
    return outcome


def _signed_in(
    s: Session, user: User, *, ip: str | None, user_agent: str | None, mfa_method: str | None, clock: Clock
) -> LoginResult:
    now = clock.now()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    row, token = create_session(
        s,
        tenant_id=user.tenant_id,
        user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        mfa_verified=mfa_method is not None,
        clock=clock,
    )
    s.flush()
    actor = actor_for(user, row, ip)
    after = {"session_id": str(row.id), "user_agent": user_agent, "mfa": mfa_method}
    if mfa_method == "recovery":
        after["codes_left"] = len(user.recovery_codes or [])
    audit.record(s, actor, "auth.login", "user", user.id, after=after, clock=clock)
    return LoginResult(
        session_token=token,
        mfa_required=False,
        pending_token=None,
        actor=actor,
        password_change_required=user.password_changed_at is None,
    )


def login(
    email: str,
    password: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    clock: Clock = system_clock,
    throttle: LoginThrottle = default_throttle,
) -> LoginResult:
    """Check email + password. Raises ValidationFailed (malformed email), AuthFailed (wrong credentials, maybe with
    `retry_after`), Throttled (cooling down, account locked, or too many failures from this IP)."""
    address = validate_email(email)
    ref = lookup_user(address)
    if ref is None:
        throttle.check(address, ip, now=clock.now())
        verify_password(None, password or "")  # same work as for a real account: no user enumeration by timing
        raise _failure_error(throttle.failure(address, ip, now=clock.now()))
    tenant_id, user_id = ref
    with tenant_session(tenant_id) as s:
        user = s.get(User, user_id, with_for_update=True)
        if user is None or not user.is_active:
            raise AuthFailed()
        throttle.check(address, ip, now=clock.now(), db_locked_until=user.locked_until)
        if not verify_password(user.password_hash, password or ""):
            outcome = _count_failure(s, user, ip, throttle, clock, "password")
            s.commit()
            raise _failure_error(outcome)
        refuse_if_suspended(s)  # after the password: only the account's owner learns of the suspension
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        if user.mfa_enabled:
            # Failure counters are only reset once the second factor passes, so a known password does not buy
            # unlimited TOTP guesses.
            _row, pending = create_session(
                s,
                tenant_id=tenant_id,
                user_id=user.id,
                ip=ip,
                user_agent=user_agent,
                mfa_verified=False,
                pending=True,
                clock=clock,
            )
            s.commit()
            return LoginResult(session_token=None, mfa_required=True, pending_token=pending, actor=None)
        result = _signed_in(s, user, ip=ip, user_agent=user_agent, mfa_method=None, clock=clock)
        s.commit()
    throttle.success(address)
    return result


def complete_mfa(
    pending_token: str,
    code: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    clock: Clock = system_clock,
    throttle: LoginThrottle = default_throttle,
) -> LoginResult:
    """Second step of sign-in: a TOTP code or a recovery code (single use). Raises AuthFailed("mfa.invalid_code"),
    AuthFailed("mfa.pending_expired") or Throttled; wrong codes count towards the account lock."""
    ref = find_session(pending_token)
    if ref is None:
        raise AuthFailed("mfa.pending_expired")
    tenant_id, session_id = ref
    with tenant_session(tenant_id) as s:
        row = s.get(UserSession, session_id, with_for_update=True)
        user = s.get(User, row.user_id, with_for_update=True) if row is not None else None
        now = clock.now()
        if (
            row is None
            or user is None
            or row.revoked_at is not None
            or row.expires_at <= now
            or row.mfa_verified
            or not user.mfa_enabled
            or not user.is_active
        ):
            raise AuthFailed("mfa.pending_expired")
        throttle.check(user.email, ip, now=now, db_locked_until=user.locked_until)
        refuse_if_suspended(s)
        method = verify_second_factor(user, code, clock=clock)
        if method is None:
            outcome = _count_failure(s, user, ip, throttle, clock, "mfa")
            if outcome.locked_until is not None:
                row.revoked_at = now
            s.commit()
            raise _failure_error(outcome, "mfa.invalid_code")
        row.revoked_at = now  # the pending token is spent; the session gets a fresh token
        result = _signed_in(s, user, ip=ip, user_agent=user_agent, mfa_method=method, clock=clock)
        s.commit()
    throttle.success(user.email)
    return result


def resolve_session(token: str | None, *, ip: str | None = None, clock: Clock = system_clock) -> Actor | None:
    """The signed-in actor for a session token, or None (unknown, expired, revoked, pending MFA, inactive user).

    Slides the expiry (at most once per `TOUCH_INTERVAL`, to keep writes rare) up to the absolute limit.
    """
    ref = find_session(token)
    if ref is None:
        return None
    tenant_id, session_id = ref
    with tenant_session(tenant_id) as s:
        # One statement for the session, its person and the tenant's suspension: every page event comes here.
        found = s.exec(
            select(UserSession, User, Tenant.suspended_at)
            .join(User, User.id == UserSession.user_id)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(UserSession.id == session_id)
        ).first()
        now = clock.now()
        if found is None:
            return None
        row, user, suspended_at = found
        if row.revoked_at is not None or row.expires_at <= now or suspended_at is not None:
            return None
        if not user.is_active or (user.mfa_enabled and not row.mfa_verified):
            return None
        if row.last_seen_at is None or now - row.last_seen_at >= TOUCH_INTERVAL:
            row.last_seen_at = now
            row.expires_at = sliding_expiry(row, clock)
            s.commit()
        return actor_for(user, row, ip or row.ip)


def authorize_session(
    token: str | None, action: Action, *, ip: str | None = None, clock: Clock = system_clock
) -> Actor:
    """What every Reflex event handler calls first: the session's actor if it may do `action`.

    Raises AuthFailed("auth.session_expired") when the token no longer resolves, PermissionDenied otherwise.
    """
    actor = resolve_session(token, ip=ip, clock=clock)
    if actor is None:
        raise AuthFailed("auth.session_expired")
    return authorize(actor, action)


def logout(token: str | None, *, ip: str | None = None, clock: Clock = system_clock) -> None:
    """Revoke the session behind `token` (also a pending MFA one); unknown tokens are ignored."""
    ref = find_session(token)
    if ref is None:
        return
    tenant_id, session_id = ref
    with tenant_session(tenant_id) as s:
        row = s.get(UserSession, session_id, with_for_update=True)
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = clock.now()
        user = s.get(User, row.user_id)
        if user is not None:
            audit.record(s, actor_for(user, row, ip or row.ip), "auth.logout", "user", user.id, clock=clock)
        s.commit()


def change_password(
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    clock: Clock = system_clock,
    throttle: LoginThrottle = default_throttle,
) -> int:
    """Change one's own password; every other session of the user is revoked (returns how many).

    Raises ValidationFailed on field "current_password" (wrong; counts as a failed sign-in) or "new_password".
    """
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        user = own_user(s, actor)
        throttle.check(user.email, actor.ip, now=clock.now(), db_locked_until=user.locked_until)
        if not verify_password(user.password_hash, current_password or ""):
            outcome = _count_failure(s, user, actor.ip, throttle, clock, "current_password")
            s.commit()
            if outcome.locked_until is not None:
                raise _failure_error(outcome)
            raise ValidationFailed("auth.wrong_password", field="current_password")
        validate_password(new_password, user.email, field="new_password")
        if new_password == current_password:
            raise ValidationFailed("validation.password_reused", field="new_password")
        now = clock.now()
        user.password_hash = hash_password(new_password)
        user.password_changed_at = now
        user.updated_at = now
        revoked = revoke_in(s, user.id, except_session_id=actor.session_id, clock=clock)
        after = {"sessions_revoked": revoked}
        audit.record(s, actor, "auth.password_changed", "user", user.id, after=after, clock=clock)
        s.commit()
    return revoked
