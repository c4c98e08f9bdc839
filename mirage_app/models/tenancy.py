"""Tenants, people, their credentials and the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime, time

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mirage_app.models.base import (
    created_field,
    enum_field,
    fk_field,
    id_field,
    json_field,
    tenant_field,
    ts_field,
)
from mirage_app.models.enums import TenantPlan, UserRole, pg_enum

user_role = pg_enum(UserRole, "user_role")


def sends_held_since(alias: str) -> str:
    """SQL: since when the tenant `alias` may not send (NULL: it may). Its own emergency stop or a platform
    suspension closes the one gate that the send pipeline, status posts, group setup and the release of held
    sends all read."""
    return f"COALESCE({alias}.emergency_stop_at, {alias}.suspended_at)"


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"
    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    plan: TenantPlan = enum_field(pg_enum(TenantPlan, "tenant_plan"), TenantPlan.free)
    timezone: str = Field(default="America/Sao_Paulo", max_length=64)
    locale: str = Field(default="pt-BR", max_length=10)
    # The emergency stop (services.emergency_stop): while set, nothing of the tenant is sent.
    emergency_stop_at: datetime | None = ts_field()
    emergency_stop_reason: str | None = Field(default=None, max_length=300)
    emergency_stop_by: uuid.UUID | None = Field(default=None)  # the user; no FK: users already point here
    # Suspended by the platform operator (services.platform): no sign-in, API keys refused, every send held.
    suspended_at: datetime | None = ts_field()
    suspended_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (sa.Index("uq_users_email_lower", sa.text("lower(email)"), unique=True),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    email: str = Field(max_length=254)
    password_hash: str | None = Field(default=None)
    role: UserRole = enum_field(pg_enum(UserRole, "user_role"), UserRole.operator)
    display_name: str | None = Field(default=None, max_length=120)
    locale: str = Field(default="pt-BR", max_length=10)
    mfa_enabled: bool = Field(default=False)
    totp_secret_enc: str | None = Field(default=None)
    recovery_codes: list = json_field(list)
    is_active: bool = Field(default=True)
    # The platform-level role (tenants and plans), apart from the tenant roles above.
    is_platform_operator: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = ts_field()
    last_login_at: datetime | None = ts_field()
    password_changed_at: datetime | None = ts_field()
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    email: str = Field(max_length=254)
    role: UserRole = enum_field(pg_enum(UserRole, "user_role"), UserRole.operator)
    token_hash: str = Field(max_length=128, unique=True)
    invited_by: uuid.UUID | None = fk_field("users.id")
    expires_at: datetime = ts_field(nullable=False)
    accepted_at: datetime | None = ts_field()
    revoked_at: datetime | None = ts_field()
    created_at: datetime = created_field()


class UserSession(SQLModel, table=True):
    __tablename__ = "user_sessions"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    user_id: uuid.UUID = fk_field("users.id", nullable=False, ondelete="CASCADE")
    token_hash: str = Field(max_length=128, unique=True)
    mfa_verified: bool = Field(default=False)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    created_at: datetime = created_field()
    last_seen_at: datetime | None = ts_field()
    expires_at: datetime = ts_field(nullable=False)
    revoked_at: datetime | None = ts_field()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=128, unique=True)
    created_by: uuid.UUID | None = fk_field("users.id")
    created_at: datetime = created_field()
    last_used_at: datetime | None = ts_field()
    expires_at: datetime | None = ts_field()
    revoked_at: datetime | None = ts_field()


class TenantSettings(SQLModel, table=True):
    __tablename__ = "settings_tenant"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    min_delay_s: int = Field(default=15)
    max_delay_s: int = Field(default=180)
    hourly_burst_limit: int = Field(default=20)
    quiet_start: time = Field(default=time(22, 0))
    quiet_end: time = Field(default=time(8, 0))
    humanize: bool = Field(default=True)
    allow_bot_to_bot: bool = Field(default=True)
    warmup: dict = json_field(dict)
    # Which actions beyond text each warm-up day allows (logic.actions.ActionRules as JSON).
    actions: dict = json_field(dict)
    # First messages to new contacts that may go unanswered per calendar month before outreach to new contacts stops.
    unanswered_first_allowance: int = Field(default=200)
    # How long raw webhook payloads and message bodies are kept (logic.retention); the rows' facts, the rollups and
    # the audit log outlive them. `bodies_expired_before`: how far the body expiry has gone (engine.retention).
    webhook_retention_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    body_retention_days: int = Field(default=365, sa_column_kwargs={"server_default": "365"})
    bodies_expired_before: datetime | None = ts_field()
    updated_at: datetime | None = ts_field()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_tenant_at", "tenant_id", sa.text("at DESC")),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    actor_user_id: uuid.UUID | None = fk_field("users.id")
    actor: str = Field(max_length=254)
    action: str = Field(max_length=80, index=True)
    entity: str = Field(max_length=80)
    entity_id: str | None = Field(default=None, max_length=80)
    before: dict = json_field(dict)
    after: dict = json_field(dict)
    ip: str | None = Field(default=None, max_length=64)
    at: datetime = created_field()
