"""Server-side sign-in sessions: random tokens handed to the browser, only their keyed hashes stored.

A session expires after `SESSION_IDLE` without use (sliding) and in any case `SESSION_ABSOLUTE` after sign-in.
The browser never holds the token in JavaScript: a sign-in hands the page a one-time code (`hand_off`) that the
browser exchanges at /api/session/claim for an HttpOnly cookie (`claim`, api/session.py).
A sign-in waiting for its TOTP code is a short-lived session with `mfa_verified` false for a user with MFA on; it
can only be exchanged for a full session by `auth.complete_mfa`.

A person sees their own live sessions and ends any but the one they are using (or all the others at once); an
admin ends every session of a user of their tenant. The current session is `actor.session_id`, never the token.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select, update

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.core.security import hash_token, new_token
from mirage_app.models import User, UserSession

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


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime | None
    ip: str | None
    user_agent: str | None
    current: bool  # the session this request comes from


def list_my_sessions(actor: Actor, *, clock: Clock = system_clock) -> list[SessionView]:
    """The signed-in person's live sessions, the most recently used first."""
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        rows = s.exec(
            select(UserSession)
            .where(
                col(UserSession.user_id) == actor.user_id,
                col(UserSession.revoked_at).is_(None),
                col(UserSession.expires_at) > clock.now(),
            )
            .order_by(col(UserSession.last_seen_at).desc().nulls_last(), col(UserSession.created_at).desc())
        ).all()
        return [
            SessionView(r.id, r.created_at, r.last_seen_at, r.ip, r.user_agent, r.id == actor.session_id) for r in rows
        ]


def revoke_my_session(actor: Actor, session_id: uuid.UUID | str, *, clock: Clock = system_clock) -> None:
    """End one of the person's other sessions (the current one ends by signing out)."""
    authorize(actor, Action.account_self)
    wanted = _uuid(session_id)
    if wanted is not None and wanted == actor.session_id:
        raise ValidationFailed("sessions.current")
    with tenant_session(actor.tenant_id) as s:
        row = s.get(UserSession, wanted, with_for_update=True) if wanted is not None else None
        if row is None or row.user_id != actor.user_id or row.revoked_at is not None:
            raise NotFound("sessions.not_found")
        row.revoked_at = clock.now()
        audit.record(s, actor, "auth.session_revoked", "user", actor.user_id, after={"session_id": str(row.id)},
                     clock=clock)  # fmt: skip
        s.commit()


def revoke_my_other_sessions(actor: Actor, *, clock: Clock = system_clock) -> int:
    """ "Sign out everywhere else": every live session of the person but the current one; returns how many."""
    authorize(actor, Action.account_self)
    with tenant_session(actor.tenant_id) as s:
        count = revoke_in(s, actor.user_id, except_session_id=actor.session_id, clock=clock)
        audit.record(s, actor, "auth.sessions_revoked", "user", actor.user_id, after={"count": count}, clock=clock)
        s.commit()
    return count


def revoke_sessions_of(actor: Actor, user_id: uuid.UUID | str, *, clock: Clock = system_clock) -> int:
    """An admin ends every session of a user of their tenant (the user may sign in again); returns how many."""
    authorize(actor, Action.users_manage)
    wanted = _uuid(user_id)
    with tenant_session(actor.tenant_id) as s:
        user = s.get(User, wanted) if wanted is not None else None
        if user is None:
            raise NotFound("users.not_found")
        count = revoke_in(s, user.id, except_session_id=actor.session_id, clock=clock)
        audit.record(s, actor, "auth.sessions_revoked", "user", user.id, after={"count": count}, clock=clock)
        s.commit()
    return count


def _uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None
