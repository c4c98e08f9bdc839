"""Audit trail of security and configuration changes: who, what, when, before/after, from which IP."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import col, func, select

from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.models import AuditLog

REDACTED = "[redacted]"
# Any key containing one of these is never written, whatever the caller passes.
_SECRET_MARKERS = ("password", "token", "secret", "totp", "recovery", "hash", "api_key_raw", "raw_key")
MAX_LIMIT = 500


def redact(value: Any) -> Any:
    """Copy of `value` with secret-looking keys masked, recursively; values become JSON-safe strings if needed."""
    if isinstance(value, dict):
        return {
            str(k): REDACTED if any(m in str(k).lower() for m in _SECRET_MARKERS) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_INSERT = text(
    """
    INSERT INTO audit_log (tenant_id, actor_user_id, actor, action, entity, entity_id, before, after, ip, at)
    VALUES (:tenant, :user, :actor, :action, :entity, :entity_id, CAST(:before AS jsonb), CAST(:after AS jsonb),
            :ip, :at)
    """
)


def record(
    session: Any,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    *,
    tenant_id: uuid.UUID | None = None,
    by: str | None = None,
    ip: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """Write an entry in the caller's transaction, so it commits (or rolls back) with the change it describes.
    `session`: anything with `execute(text, params)` (a Session, or the engine's TenantConnection).

    `actor` None means nobody signed in: the system (e.g. an account locked by throttling), or `by` (the email
    tried at a failed sign-in) from `ip`; then `tenant_id` is required.
    """
    tenant = actor.tenant_id if actor is not None else tenant_id
    if tenant is None:
        raise ValueError("audit.record needs an actor or a tenant_id")
    flush = getattr(session, "flush", None)
    if flush is not None:  # an ORM session: the rows this entry may refer to (a new tenant, user...) go first
        flush()
    session.execute(
        _INSERT,
        {
            "tenant": tenant,
            "user": actor.user_id if actor is not None else None,
            "actor": (actor.label if actor is not None else by or "system")[:254],
            "action": action[:80],
            "entity": entity[:80],
            "entity_id": None if entity_id is None else str(entity_id)[:80],
            "before": json.dumps(redact(before or {})),
            "after": json.dumps(redact(after or {})),
            "ip": actor.ip if actor is not None else ip,
            "at": clock.now(),
        },
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditLog]
    total: int


def list_entries(
    actor: Actor,
    *,
    action: str | None = None,
    who: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Newest first. `action` matches a prefix ("users." finds every user change); `who` a part of the actor."""
    authorize(actor, Action.audit_read)
    filters = []
    if action:
        filters.append(col(AuditLog.action).startswith(action, autoescape=True))
    if who:
        filters.append(col(AuditLog.actor).icontains(who, autoescape=True))
    if entity:
        filters.append(AuditLog.entity == entity)
    if since is not None:
        filters.append(AuditLog.at >= since)
    if until is not None:
        filters.append(AuditLog.at < until)
    limit = max(1, min(limit, MAX_LIMIT))
    with tenant_session(actor.tenant_id) as s:
        total = s.exec(select(func.count()).select_from(AuditLog).where(*filters)).one()
        rows = s.exec(
            select(AuditLog).where(*filters).order_by(col(AuditLog.at).desc()).offset(max(0, offset)).limit(limit)
        ).all()
    return AuditPage(entries=list(rows), total=total)
