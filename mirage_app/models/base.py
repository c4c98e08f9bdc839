"""Column helpers shared by every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> uuid.UUID:
    return Field(
        default_factory=uuid.uuid4,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
        primary_key=True,
    )


def tenant_field(*, index: bool = True) -> uuid.UUID:
    """`index=False` where a composite index or unique constraint already starts with tenant_id."""
    return Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=index
        )
    )


def created_field() -> datetime:
    return Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def ts_field(nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index))


def fk_field(target: str, *, nullable: bool = True, ondelete: str = "SET NULL", index: bool = True):
    return Field(
        default=None,
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


def json_field(default_factory=dict):
    return Field(
        default_factory=default_factory,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )


def text_array_field():
    return Field(
        default_factory=list,
        sa_column=sa.Column(sa.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")),
    )


def enum_field(enum_type: sa.Enum, default, *, index: bool = False):
    return Field(
        default=default,
        sa_column=sa.Column(enum_type, nullable=False, server_default=default.value, index=index),
    )
