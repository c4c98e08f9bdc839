"""Alerts that reach people: the tenant's channels, what happened, and every delivery attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ENUM
from sqlmodel import Field, SQLModel

from mirage_app.logic.alerts import CHANNEL_KINDS
from mirage_app.models.base import created_field, fk_field, id_field, json_field, tenant_field, ts_field


class AlertDeliveryStatus(StrEnum):
    pending = "pending"  # queued, not tried yet
    retrying = "retrying"  # failed, another attempt planned at next_attempt_at
    sent = "sent"
    failed = "failed"  # out of attempts
    held = "held"  # over the channel's rate limit: counted into the next alert that goes out


class AlertChannel(SQLModel, table=True):
    __tablename__ = "alert_channels"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    kind: str = Field(
        sa_column=sa.Column(ENUM(*CHANNEL_KINDS, name="alert_channel_kind", create_type=False), nullable=False)
    )
    name: str = Field(max_length=120)
    config: dict = json_field()  # webhook: url; email: host, port, tls, user, from, to; whatsapp: phone
    secret_enc: str | None = Field(default=None)  # the webhook's signing secret or the SMTP password (Fernet)
    enabled: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class AlertEvent(SQLModel, table=True):
    """One alert kept after de-duplication; `repeats` counts the same alert seen again within the window."""

    __tablename__ = "alert_events"
    __table_args__ = (sa.Index("ix_alert_events_dedupe", "tenant_id", "kind", "subject", "at"),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=120)  # what it is about: "number:<id>", "server:<id>" or "tenant"
    number_id: uuid.UUID | None = fk_field("numbers.id", index=False)
    server_id: uuid.UUID | None = fk_field("evolution_servers.id", index=False)
    detail: dict = json_field()
    repeats: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    at: datetime = ts_field(nullable=False)


class AlertDelivery(SQLModel, table=True):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        sa.Index("ix_alert_deliveries_channel_at", "channel_id", "at"),
        sa.Index("ix_alert_deliveries_tenant_at", "tenant_id", "at"),
        # what the periodic recovery reads (engine.alerts.recover_overdue)
        sa.Index(
            "ix_alert_deliveries_due",
            "next_attempt_at",
            postgresql_where=sa.text("status IN ('pending', 'retrying')"),
        ),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)
    channel_id: uuid.UUID = fk_field("alert_channels.id", nullable=False, ondelete="CASCADE", index=False)
    event_id: uuid.UUID | None = fk_field("alert_events.id", ondelete="CASCADE", index=False)  # None: a test alert
    status: str = Field(max_length=20)
    attempt: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    status_code: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=500)
    held: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # held alerts this one summarises
    next_attempt_at: datetime | None = ts_field()
    at: datetime = ts_field(nullable=False)
