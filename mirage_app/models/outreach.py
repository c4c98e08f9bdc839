"""External contacts, their consent, outreach policies and targets, and the tenant-wide suppression list."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from mirage_app.models.base import (
    created_field,
    enum_field,
    fk_field,
    id_field,
    tenant_field,
    text_array_field,
    ts_field,
)
from mirage_app.models.enums import ConsentStatus, TargetStatus, pg_enum

DEFAULT_OPTOUT_KEYWORDS = ["SAIR", "PARAR", "PARE", "STOP", "CANCELAR", "DESCADASTRAR"]


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "wa_number", name="uq_contacts_tenant_number"),
        sa.Index("ix_contacts_tags", "tags", postgresql_using="gin"),  # the tag filter
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    wa_number: str = Field(max_length=20)
    display_name: str = Field(default="", max_length=120)
    tags: list[str] = text_array_field()
    notes: str = Field(default="", max_length=2000)
    consent_status: ConsentStatus = enum_field(pg_enum(ConsentStatus, "consent_status"), ConsentStatus.unknown)
    consent_basis: str | None = Field(default=None, max_length=40)
    consent_source: str | None = Field(default=None, max_length=200)
    consent_at: datetime | None = ts_field()
    opted_out_at: datetime | None = ts_field()
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class OutreachPolicy(SQLModel, table=True):
    __tablename__ = "outreach_policies"
    __table_args__ = (
        sa.CheckConstraint("daily_limit >= 0 AND hourly_limit >= 0 AND hourly_limit <= daily_limit", name="limits"),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    number_id: uuid.UUID = fk_field("numbers.id", nullable=False, ondelete="CASCADE")
    persona_id: uuid.UUID | None = fk_field("personas.id")
    daily_limit: int = Field(default=20)
    hourly_limit: int = Field(default=5)
    max_rounds_per_contact: int = Field(default=3)
    min_gap_minutes: int = Field(default=10)
    dayparts: list[str] = text_array_field()
    allow_days: list[str] = text_array_field()
    optout_keywords: list[str] = text_array_field()
    active: bool = Field(default=False, index=True)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()
    archived_at: datetime | None = ts_field()  # deleted after it wrote to contacts: kept, inactive, not listed
    # Why its last tick sent no opener (a logic.waits reason) and until when: what its waiting targets wait for.
    wait_reason: str | None = Field(default=None, max_length=60)
    wait_until: datetime | None = ts_field()


class OutreachTarget(SQLModel, table=True):
    __tablename__ = "outreach_targets"
    __table_args__ = (
        sa.UniqueConstraint("policy_id", "contact_id", name="uq_targets_policy_contact"),
        sa.Index("ix_targets_queue", "policy_id", "status", sa.text("priority DESC"), "created_at"),
        sa.Index(
            "ix_targets_in_progress", "tenant_id", "contact_id", postgresql_where=sa.text("status = 'in_progress'")
        ),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    policy_id: uuid.UUID = fk_field("outreach_policies.id", nullable=False, ondelete="CASCADE", index=False)
    contact_id: uuid.UUID = fk_field("contacts.id", nullable=False, ondelete="CASCADE")
    priority: int = Field(default=0)
    status: TargetStatus = enum_field(pg_enum(TargetStatus, "target_status"), TargetStatus.pending)
    last_contact_at: datetime | None = ts_field()
    rounds_done: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class Suppression(SQLModel, table=True):
    __tablename__ = "suppression"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "wa_number", name="uq_suppression_tenant_number"),
        sa.UniqueConstraint("tenant_id", "number_hash", name="uq_suppression_tenant_hash"),
        sa.CheckConstraint("wa_number IS NOT NULL OR number_hash IS NOT NULL", name="number_or_hash"),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    # NULL once the person was erased (LGPD Art. 18): only `number_hash` (core.security.number_hash) is kept then,
    # so the number is still refused everywhere without being stored.
    wa_number: str | None = Field(default=None, max_length=20)
    number_hash: str | None = Field(default=None, max_length=64)
    contact_id: uuid.UUID | None = fk_field("contacts.id")
    reason: str = Field(default="optout", max_length=200)
    created_at: datetime = created_field()


class ConsentEvent(SQLModel, table=True):
    """The append-only consent history (LGPD Art. 8: the controller proves consent): one row per grant, revocation
    or erasure, never updated or deleted (the database refuses both, alembic 0021). It outlives the contact row, so
    it has no foreign key; an erasure blanks the number and the free-text source of the person's rows."""

    __tablename__ = "consent_events"
    __table_args__ = (sa.Index("ix_consent_events_contact", "tenant_id", "contact_id", "recorded_at"),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)
    contact_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
    wa_number: str | None = Field(default=None, max_length=20)
    event: str = Field(max_length=20)  # granted | revoked | erased
    basis: str | None = Field(default=None, max_length=40)
    source: str | None = Field(default=None, max_length=200)
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))  # when it was given/taken
    actor: str = Field(max_length=254)  # the user's email, "api_key:<name>", "system" or "contact" (an opt-out)
    recorded_at: datetime = created_field()
