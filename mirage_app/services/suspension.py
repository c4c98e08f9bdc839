"""The suspension gate for people and API keys: a suspended tenant's sign-ins, sessions, invitations and keys are
refused with TenantSuspended (the engine's side is the emergency stop's gate, engine.safety_stop)."""

from __future__ import annotations

from sqlalchemy import text

from mirage_app.base.errors import TenantSuspended

SUSPENSION = text("SELECT suspended_at, suspended_reason FROM tenants")


def refuse_if_suspended(s) -> None:
    row = s.execute(SUSPENSION).first()
    if row is not None and row.suspended_at is not None:
        raise TenantSuspended(row.suspended_reason)
