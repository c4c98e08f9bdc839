"""Evolution API servers: where each number's WhatsApp session lives (many servers behind one Mirage)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from mirage_app.models.base import created_field, id_field, ts_field


class ServerState(StrEnum):
    """What the operator decided: active servers take new numbers, draining ones keep theirs, disabled ones send
    nothing."""

    active = "active"
    draining = "draining"
    disabled = "disabled"


class ServerHealth(StrEnum):
    """What the last probe found."""

    unknown = "unknown"
    ok = "ok"
    unreachable = "unreachable"  # no answer: connection refused, reset or timed out
    license_required = "license_required"  # Evolution 2.4 not activated: 503 LICENSE_REQUIRED on every route
    unauthorized = "unauthorized"  # the global API key was refused
    not_evolution = "not_evolution"  # something answered, but not Evolution's welcome


# Health in which a server can neither take new numbers nor send: its sends are held, not failed.
HELD_HEALTH = frozenset({ServerHealth.unreachable, ServerHealth.license_required, ServerHealth.unauthorized})
HELD_SQL = "(" + ", ".join(f"'{health.value}'" for health in sorted(HELD_HEALTH)) + ")"  # for `health IN ...`


class EvolutionServer(SQLModel, table=True):
    """One Evolution server. `tenant_id` NULL = the platform's, offered to every tenant (without its key)."""

    __tablename__ = "evolution_servers"
    __table_args__ = (
        sa.UniqueConstraint("base_url", name="evolution_servers_base_url_key"),
        sa.Index("uq_evolution_servers_default", "is_default", unique=True, postgresql_where=sa.text("is_default")),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True),
    )
    name: str = Field(max_length=120)
    base_url: str = Field(max_length=500)
    capacity: int = Field(default=70, sa_column_kwargs={"server_default": "70"})
    state: str = Field(default=ServerState.active.value, max_length=20, sa_column_kwargs={"server_default": "active"})
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    health: str = Field(
        default=ServerHealth.unknown.value, max_length=20, sa_column_kwargs={"server_default": "unknown"}
    )
    health_since: datetime | None = ts_field()
    last_probe_at: datetime | None = ts_field()
    latency_ms: int | None = Field(default=None)
    version: str | None = Field(default=None, max_length=40)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class EvolutionServerKey(SQLModel, table=True):
    """A server's global API key (Fernet), apart from the server row so that no tenant can read a platform key:
    row-level security shows a tenant its own servers' keys only; the engine reads keys through
    `mirage_evolution_credentials`."""

    __tablename__ = "evolution_server_keys"
    server_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("evolution_servers.id", ondelete="CASCADE"), primary_key=True
        )
    )
    tenant_id: uuid.UUID | None = Field(
        default=None, sa_column=sa.Column(UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    )
    api_key_enc: str
    updated_at: datetime = created_field()
