"""Server-side sign-in sessions: random tokens handed to the browser, only their keyed hashes stored.

A session expires after `SESSION_IDLE` without use (sliding) and in any case `SESSION_ABSOLUTE` after sign-in.
The browser never holds the token in JavaScript: a sign-in hands the page a one-time code (`hand_off`) that the
browser exchanges at /api/session/claim for an HttpOnly cookie (`claim`, api/session.py).
A sign-in waiting for its TOTP code is a short-lived session with `mfa_verified` false for a user with MFA on; it
can only be exchanged for a full session by `auth.complete_mfa`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, update

from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.core.security import hash_token, new_token
from mirage_app.models import UserSession

SESSION_IDLE = timedelta(minutes=30)  # OWASP ASVS 3.3.2 (level 2): 30 minutes idle, 12 hours in all
SESSION_ABSOLUTE = timedelta(hours=12)
HANDOFF_TTL = timedelta(seconds=60)
PENDING_MFA_TTL = timedelta(minutes=5)
TOUCH_INTERVAL = timedelta(minutes=1)  # last_seen_at / sliding expiry are written at most this often


def create_session(
    s: Session,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    ip: str | None,
    user_agent: str | None,
    mfa_verified: bool,
    pending: bool = False,
    clock: Clock = system_clock,
) -> tuple[UserSession, str]:
    """Add a session to the caller's transaction; returns it with the raw token (never stored)."""
    now = clock.now()
    token = new_token()
    row = UserSession(
        tenant_id=tenant_id,
        user_id=user_id,
        token_hash=hash_token(token),
        mfa_verified=mfa_verified,
        ip=(ip or None) and ip[:64],
        user_agent=(user_agent or None) and user_agent[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + (PENDING_MFA_TTL if pending else SESSION_IDLE),
    )
    s.add(row)
    return row, token


def find_session(token: str | None) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(tenant_id, session_id) of a live session token, through the definer look-up (before the tenant is known)."""
    if not token or len(token) > 200:
        return None
    with system_session() as s:
        row = s.execute(
            text("SELECT session_id, tenant_id FROM auth_session_by_token(:h)"), {"h": hash_token(token)}
        ).first()
    return None if row is None else (row.tenant_id, row.session_id)


def _handoff_key(code: str) -> str:
    return f"mirage:session-handoff:{hash_token(code)}"


def hand_off(token: str, destination: str) -> str:
    """A one-time code, valid for `HANDOFF_TTL`, that the browser exchanges for the session cookie before it goes
    on to `destination` (the page's own URL, as the server saw it)."""
    code = new_token()
    get_redis().set(_handoff_key(code), json.dumps([token, destination]), ex=int(HANDOFF_TTL.total_seconds()))
    return code


def claim(code: str | None) -> tuple[str, str] | None:
    """(session token, destination) that a hand-off code stands for, once: a second claim, or a late one, gets
    None."""
    if not code or len(code) > 200:
        return None
    handed = get_redis().getdel(_handoff_key(code))
    if handed is None:
        return None
    token, destination = json.loads(handed)
    return token, destination


def sliding_expiry(row: UserSession, clock: Clock = system_clock) -> datetime:
    return min(clock.now() + SESSION_IDLE, row.created_at + SESSION_ABSOLUTE)


def revoke_user_sessions(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    except_session_id: uuid.UUID | None = None,
    only_unverified: bool = False,
    clock: Clock = system_clock,
) -> int:
    """Revoke a user's live sessions (password reset or change, deactivation, MFA change); returns how many."""
    with tenant_session(tenant_id) as s:
        count = revoke_in(s, user_id, except_session_id=except_session_id, only_unverified=only_unverified, clock=clock)
        s.commit()
    return count


def revoke_in(
    s: Session,
    user_id: uuid.UUID,
    *,
    except_session_id: uuid.UUID | None = None,
    only_unverified: bool = False,
    clock: Clock = system_clock,
) -> int:
    """Same as `revoke_user_sessions`, inside the caller's transaction."""
    stmt = update(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None))
    if except_session_id is not None:
        stmt = stmt.where(col(UserSession.id) != except_session_id)
    if only_unverified:
        stmt = stmt.where(col(UserSession.mfa_verified).is_(False))
    return s.exec(stmt.values(revoked_at=clock.now())).rowcount
