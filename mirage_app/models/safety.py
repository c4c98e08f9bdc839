"""Number safety: the tenant's proxy pool and the restrictions WhatsApp puts on a number."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mirage_app.models.base import created_field, enum_field, id_field, json_field, tenant_field, ts_field
from mirage_app.models.enums import pg_enum


class RestrictionSource(StrEnum):
    inferred = "inferred"  # read from the ERROR pattern of sends; Evolution 2.3.7 drops WhatsApp's code
    reported = "reported"  # an operator (or a newer Evolution) said so


class Proxy(SQLModel, table=True):
    """One proxy of the tenant's pool; up to `max_numbers` numbers route their WhatsApp session through it."""

    __tablename__ = "proxies"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "host", "port", "username", name="uq_proxies_endpoint"),
        # Protocol names are shown as they are (http, socks5): plain text, not a translated enum.
        sa.CheckConstraint("protocol IN ('http', 'https', 'socks4', 'socks5')", name="ck_proxies_protocol"),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)
    label: str = Field(max_length=120)
    host: str = Field(max_length=253)
    port: int
    protocol: str = Field(default="http", max_length=10)
    username: str = Field(default="", max_length=200)
    # core.security.encrypt of the password; never shown back.
    password_enc: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    max_numbers: int = Field(default=3)
    last_test_at: datetime | None = ts_field()
    last_test_ok: bool | None = Field(default=None)
    last_test_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class NumberRestriction(SQLModel, table=True):
    """A span during which a number must not contact anyone new (chats already under way continue)."""

    __tablename__ = "number_restrictions"
    __table_args__ = (sa.Index("ix_number_restrictions_number_ends", "number_id", "ends_at"),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    number_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("numbers.id", ondelete="CASCADE"), nullable=False)
    )
    # reach_out (the 463 timelock) is the only kind Mirage recognises today.
    kind: str = Field(max_length=40)
    source: RestrictionSource = enum_field(pg_enum(RestrictionSource, "restriction_source"), RestrictionSource.inferred)
    started_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    ends_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    # True when WhatsApp never told the end: Mirage's estimate (logic.restrictions).
    ends_at_estimated: bool = Field(default=True)
    evidence: dict = json_field(dict)
    # Ended early by an operator.
    lifted_at: datetime | None = ts_field()
    created_at: datetime = created_field()
