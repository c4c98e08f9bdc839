"""TOTP two-factor authentication: enrolment by QR code, verification, single-use recovery codes.

The TOTP secret is stored encrypted (Fernet, key derived from MIRAGE_SECRET_KEY) and only turns MFA on once a
code generated from it is confirmed. Recovery codes are shown once and stored as keyed hashes.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from redis.exceptions import RedisError
from sqlmodel import Session

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.core.security import decrypt, encrypt, hash_token, tokens_equal
from mirage_app.models import User, UserSession
from mirage_app.services.auth_sessions import revoke_in

log = logging.getLogger("mirage.auth.mfa")

ISSUER = "Mirage"
RECOVERY_CODE_COUNT = 10
VALID_WINDOW = 1  # accept the previous and next 30-second step too (clock drift)
_TOTP_RE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class MfaEnrolment:
    secret: str  # for manual entry in the authenticator app; shown once, never stored in the clear
    otpauth_uri: str
    qr_svg_data_uri: str


def own_user(s: Session, actor: Actor) -> User:
    """The acting person's row, locked for update."""
    user = s.get(User, actor.user_id, with_for_update=True) if actor.user_id else None
    if user is None or not user.is_active:
        raise NotFound("users.not_found")
    return user


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _hash_recovery(code: str) -> str:
    return hash_token("recovery:" + _normalise_recovery(code))


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _first_use(user_id: uuid.UUID, step: int) -> bool:
    """A TOTP code works once: a code seen over someone's shoulder cannot be replayed. Without Redis, allow."""
    try:
        return bool(get_redis().set(f"mirage:totp:used:{user_id}:{step}", 1, nx=True, ex=300))
    except (RedisError, RuntimeError) as exc:
        log.warning("TOTP replay check skipped, Redis error: %s", exc)
        return True


def _verify_totp(user: User, code: str, now: datetime) -> bool:
    if not user.totp_secret_enc or not _TOTP_RE.match(code):
        return False
    totp = pyotp.TOTP(decrypt(user.totp_secret_enc))
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if tokens_equal(totp.generate_otp(step), code):
            return _first_use(user.id, step)
    return False


def verify_second_factor(user: User, code: str | None, *, clock: Clock = system_clock) -> str | None:
    """Which factor matched ("totp" or "recovery"), or None. A recovery code is consumed in the caller's session."""
    code = (code or "").strip().replace(" ", "")
    if not code or not user.mfa_enabled:
        return None
    if _TOTP_RE.match(code):
        return "totp" if _verify_totp(user, code, clock.now()) else None
    wanted = _hash_recovery(code)
    stored = list(user.recovery_codes or [])
    for candidate in stored:
        if tokens_equal(candidate, wanted):
            stored.remove(candidate)
            user.recovery_codes = stored  # a new list, so the JSONB change is detected
            return "recovery"
    return None


def begin_enrolment(actor: Actor, *, clock: Clock = system_clock) -> MfaEnrolment:
    """New pending secret (replacing any earlier unconfirmed one); MFA stays off until `confirm_enrolment`."""
    authorize(actor, Action.account_self)
    secret = pyotp.random_base32()
    with tenant_session(actor.tenant_id) as s:
        user = own_user(s, actor)
        if user.mfa_enabled:
            raise Conflict("mfa.already_enabled")
        user.totp_secret_enc = encrypt(secret)
        user.updated_at = clock.now()
        audit.record(s, actor, "mfa.enrolment_started", "user", user.id, clock=clock)
        s.commit()
        email = user.email
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return MfaEnrolment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=qr)


def confirm_enrolment(actor: Actor, code: str, *, clock: Clock = system_clock) -> list[str]:
    """Turn MFA on with a first valid code; returns the recovery codes, which are never shown again.

    This session counts as MFA-verified; the user's other sessions (signed in without MFA) are revoked.
    """
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        user = own_user(s, actor)
        if user.mfa_enabled:
            raise Conflict("mfa.already_enabled")
        if not user.totp_secret_enc:
            raise ValidationFailed("mfa.not_started", field="code")
        if not _verify_totp(user, (code or "").strip().replace(" ", ""), clock.now()):
            raise ValidationFailed("mfa.invalid_code", field="code")
        codes = _new_recovery_codes()
        user.mfa_enabled = True
        user.recovery_codes = [_hash_recovery(c) for c in codes]
        user.updated_at = clock.now()
        if actor.session_id is not None and (row := s.get(UserSession, actor.session_id)) is not None:
            row.mfa_verified = True
        revoked = revoke_in(s, user.id, except_session_id=actor.session_id, clock=clock)
        after = {"mfa_enabled": True, "other_sessions_revoked": revoked}
        audit.record(s, actor, "mfa.enabled", "user", user.id, {"mfa_enabled": False}, after, clock=clock)
        s.commit()
    return codes


def disable(actor: Actor, code: str, *, clock: Clock = system_clock) -> None:
    """Turn MFA off; needs a current TOTP or recovery code. Admins then lose the sensitive operations."""
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        user = own_user(s, actor)
        if not user.mfa_enabled:
            raise Conflict("mfa.not_enabled")
        method = verify_second_factor(user, code, clock=clock)
        if method is None:
            raise ValidationFailed("mfa.invalid_code", field="code")
        user.mfa_enabled = False
        user.totp_secret_enc = None
        user.recovery_codes = []
        user.updated_at = clock.now()
        # A sign-in still waiting for its TOTP code must not turn into a full session now that none is asked.
        revoke_in(s, user.id, only_unverified=True, clock=clock)
        audit.record(
            s,
            actor,
            "mfa.disabled",
            "user",
            user.id,
            {"mfa_enabled": True},
            {"mfa_enabled": False, "by": method},
            clock=clock,
        )
        s.commit()


def regenerate_recovery_codes(actor: Actor, code: str, *, clock: Clock = system_clock) -> list[str]:
    """Replace every recovery code (the old ones stop working); needs a current TOTP or recovery code."""
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        user = own_user(s, actor)
        if not user.mfa_enabled:
            raise Conflict("mfa.not_enabled")
        if verify_second_factor(user, code, clock=clock) is None:
            raise ValidationFailed("mfa.invalid_code", field="code")
        codes = _new_recovery_codes()
        user.recovery_codes = [_hash_recovery(c) for c in codes]
        user.updated_at = clock.now()
        audit.record(s, actor, "mfa.recovery_codes_regenerated", "user", user.id, clock=clock)
        s.commit()
    return codes


def recovery_codes_left(actor: Actor) -> int:
    """For the settings page: how many unused recovery codes remain."""
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        user = s.get(User, actor.user_id)
        return len(user.recovery_codes or []) if user is not None else 0
