"""WhatsApp numbers, their Evolution sessions and the personas that speak through them."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
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
from mirage_app.models.enums import NumberStatus, pg_enum

# `numbers.disconnect_reason` of the disconnects Mirage itself causes (the operator stopped the number, a QR attempt
# was cancelled or ran out, the number was archived): not a fault, so no alert, and the close webhook that follows
# keeps this reason rather than "logged_out".
STOPPED = "stopped"
QR_CANCELLED = "qr_cancelled"
QR_EXPIRED = "qr_expired"
ARCHIVED = "archived"
OPERATOR_DISCONNECTS = (STOPPED, QR_CANCELLED, QR_EXPIRED, ARCHIVED)


class Persona(SQLModel, table=True):
    __tablename__ = "personas"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    name: str = Field(max_length=120)
    style: str = Field(default="", max_length=2000)
    greeting_morning: str = Field(default="", max_length=300)
    greeting_afternoon: str = Field(default="", max_length=300)
    greeting_evening: str = Field(default="", max_length=300)
    # age, occupation, writing_style, emoji_use, typical_length
    traits: dict = json_field(dict)
    # How this person uses WhatsApp beyond typing: rates 0..1 per habit (logic.actions.Habits).
    habits: dict = json_field(dict)
    # e.g. {"start": "08:00", "end": "22:00"}
    active_hours: dict = json_field(dict)
    locale: str = Field(default="pt-BR", max_length=10)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class Number(SQLModel, table=True):
    __tablename__ = "numbers"
    __table_args__ = (
        sa.Index("ix_numbers_creating_since", "creating_since", postgresql_where=sa.text("creating_since IS NOT NULL")),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    wa_number: str | None = Field(default=None, max_length=20, index=True)
    # The Evolution instance name; unique across the whole installation because Evolution's namespace is.
    session_id: str = Field(max_length=100, unique=True)
    status: NumberStatus = enum_field(pg_enum(NumberStatus, "number_status"), NumberStatus.disconnected, index=True)
    label: str = Field(max_length=120)
    persona_id: uuid.UUID | None = fk_field("personas.id")
    paired_at: datetime | None = ts_field()
    last_seen_at: datetime | None = ts_field()
    disconnect_reason: str | None = Field(default=None, max_length=200)
    failure_streak: int = Field(default=0)
    paused_reason: str | None = Field(default=None, max_length=200)
    active_days: int = Field(default=0)
    # The Evolution server that holds this number's session: every call for it goes there (sticky placement).
    server_id: uuid.UUID | None = fk_field("evolution_servers.id", ondelete="RESTRICT")
    # The proxy its WhatsApp session goes out through (sticky; services.proxies keeps each proxy under its limit).
    proxy_id: uuid.UUID | None = fk_field("proxies.id")
    # Deleted after it had history: kept for that history, out of every list, never sends, holds no server slot.
    archived_at: datetime | None = ts_field()
    # Its Evolution instance was asked for and not confirmed yet ("creating…"): the reconciliation job
    # (services.instance_reconcile) completes or removes a number whose creation failed with an unknown outcome.
    creating_since: datetime | None = ts_field()
    # Its reputation (logic.reputation, recomputed by engine.reputation): None until first computed.
    reputation_score: float | None = Field(default=None)
    reputation_band: str | None = Field(default=None, max_length=20)
    reputation_cooldown_until: datetime | None = ts_field()
    # {"top": [{"signal", "points"}...], "contributions": {signal: points}}
    reputation_signals: dict = json_field(dict)
    reputation_at: datetime | None = ts_field()
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class ReputationHistory(SQLModel, table=True):
    """One recompute of a number's reputation that changed its score or band (the number's chart)."""

    __tablename__ = "reputation_history"
    __table_args__ = (sa.Index("ix_reputation_history_number_at", "number_id", "at"),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    number_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("numbers.id", ondelete="CASCADE"), nullable=False)
    )
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    score: float
    band: str = Field(max_length=20)
    top_signals: list = Field(
        default_factory=list,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )


class EvolutionSession(SQLModel, table=True):
    __tablename__ = "sessions"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    number_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("numbers.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    token_enc: str | None = Field(default=None)
    last_qr: str | None = Field(default=None)
    last_qr_at: datetime | None = ts_field()
    last_seen_at: datetime | None = ts_field()
    webhook_secret_hash: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
