"""Tenant API keys for `/api/*`: "mrg_<prefix>_<secret>", shown once, stored as a keyed hash.

The prefix is stored in the clear so people can tell keys apart in /settings; it is useless without the secret.
Keys act with the role `permissions.API_KEY_ROLE` (operator).
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import AuthFailed, NotFound, ValidationFailed
from mirage_app.base.permissions import API_KEY_ROLE, Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import hash_token, new_token
from mirage_app.models import ApiKey
from mirage_app.services import plan_limits
from mirage_app.services.suspension import refuse_if_suspended
from mirage_app.services.throttle import LoginThrottle, api_key_throttle

KEY_SCHEME = "mrg"
PREFIX_LENGTH = 8
NAME_MAX = 120
LAST_USED_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_KEY_RE = re.compile(rf"^{KEY_SCHEME}_([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{32,128}})$")


@dataclass(frozen=True)
class ApiKeyView:
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def display(self) -> str:
        return f"{KEY_SCHEME}_{self.prefix}_…"

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        return cls(key.id, key.name, key.prefix, key.created_at, key.last_used_at, key.expires_at, key.revoked_at)


def _name(name: str | None) -> str:
    value = (name or "").strip()
    if not value:
        raise ValidationFailed("validation.name_required", field="name")
    if len(value) > NAME_MAX:
        raise ValidationFailed("validation.name_too_long", field="name", max_length=NAME_MAX)
    return value


def create_key(actor: Actor, name: str, *, clock: Clock = system_clock) -> tuple[ApiKeyView, str]:
    """Returns the key's view and the raw key, which is never available again."""
    authorize(actor, Action.api_keys_manage)
    label = _name(name)
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    raw = f"{KEY_SCHEME}_{prefix}_{new_token(32)}"
    with tenant_session(actor.tenant_id) as s:
        plan_limits.ensure_room(s, "api_keys", clock=clock)
        key = ApiKey(
            tenant_id=actor.tenant_id,
            name=label,
            prefix=prefix,
            key_hash=hash_token(raw),
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        s.add(key)
        s.flush()
        audit.record(
            s, actor, "api_keys.created", "api_key", key.id, None, {"name": label, "prefix": prefix}, clock=clock
        )
        s.commit()
        return ApiKeyView.of(key), raw


def revoke_key(actor: Actor, key_id: uuid.UUID | str, *, clock: Clock = system_clock) -> ApiKeyView:
    """Immediate: the next request with the key gets 401. Revoking twice is harmless."""
    authorize(actor, Action.api_keys_manage)
    with tenant_session(actor.tenant_id) as s:
        try:
            key = s.get(ApiKey, uuid.UUID(str(key_id)), with_for_update=True)
        except ValueError:
            key = None
        if key is None:
            raise NotFound("api_keys.not_found")
        if key.revoked_at is None:
            key.revoked_at = clock.now()
            after = {"name": key.name, "prefix": key.prefix, "revoked": True}
            audit.record(s, actor, "api_keys.revoked", "api_key", key.id, {"revoked": False}, after, clock=clock)
            s.commit()
        return ApiKeyView.of(key)


def list_keys(actor: Actor, *, include_revoked: bool = True) -> list[ApiKeyView]:
    authorize(actor, Action.api_keys_read)
    with tenant_session(actor.tenant_id) as s:
        query = select(ApiKey).order_by(col(ApiKey.created_at).desc())
        if not include_revoked:
            query = query.where(col(ApiKey.revoked_at).is_(None))
        return [ApiKeyView.of(k) for k in s.exec(query).all()]


def authenticate(
    raw_key: str | None,
    ip: str | None = None,
    *,
    clock: Clock = system_clock,
    throttle: LoginThrottle = api_key_throttle,
) -> Actor:
    """The actor for a raw key, or AuthFailed("api_keys.invalid") for a malformed, unknown, revoked or expired one.

    Wrong keys count against the caller's address; over its budget every attempt from it, even with a good key, is
    Throttled("rate_limited") until the window moves on, so keys cannot be guessed at speed."""
    throttle.check_ip(ip, now=clock.now())
    try:
        return _key_actor(raw_key, ip, clock)
    except AuthFailed:
        throttle.ip_failure(ip, now=clock.now())
        raise


def _key_actor(raw_key: str | None, ip: str | None, clock: Clock) -> Actor:
    key_text = (raw_key or "").strip()
    if not _KEY_RE.match(key_text):
        raise AuthFailed("api_keys.invalid")
    with system_session() as s:
        row = s.execute(
            text("SELECT api_key_id, tenant_id FROM auth_api_key_by_hash(:h)"), {"h": hash_token(key_text)}
        ).first()
    if row is None:
        raise AuthFailed("api_keys.invalid")
    now = clock.now()
    with tenant_session(row.tenant_id) as s:
        key = s.get(ApiKey, row.api_key_id)
        if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            raise AuthFailed("api_keys.invalid")
        refuse_if_suspended(s)
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_INTERVAL:
            key.last_used_at = now
            s.commit()
        return Actor(
            tenant_id=key.tenant_id,
            role=API_KEY_ROLE,
            label=f"api_key:{key.name}#{key.prefix}"[:254],
            api_key_id=key.id,
            ip=ip,
            locale="en",
        )
