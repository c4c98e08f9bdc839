"""Metric rollups (alembic 0019): the facts of every message summed per tenant-local hour, and the changes not
summed yet. Written only by the database (the `messages_facts_*` triggers and the definer functions)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel


def _key_uuid() -> uuid.UUID:
    # No foreign key: a removed number, conversation or topic keeps its history (NONE when there was none).
    return Field(sa_column=sa.Column(UUID(as_uuid=True), primary_key=True, nullable=False))


class MessageRollup(SQLModel, table=True):
    """Messages per tenant, local day and hour, number, conversation, direction ('out' sent, 'in' received) and
    topic: `messages` counted, `failed` sends, reply latency as a sum and a count."""

    __tablename__ = "message_rollups"
    __table_args__ = (
        sa.Index("ix_message_rollups_empty", "tenant_id", postgresql_where=sa.text("messages = 0 AND failed = 0")),
    )
    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True, nullable=False))
    hour: int = Field(sa_column=sa.Column(sa.SmallInteger, primary_key=True, nullable=False))
    number_id: uuid.UUID = _key_uuid()
    conversation_id: uuid.UUID = _key_uuid()
    direction: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True, nullable=False))
    topic_id: uuid.UUID = _key_uuid()
    messages: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    failed: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    latency_sum: float = Field(sa_column=sa.Column(sa.Double, nullable=False))
    latency_n: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))


class MessageFactChange(SQLModel, table=True):
    """One signed fact of a change to `messages` (+1 for the new state, -1 for the old), until a rollup step
    adds it to `message_rollups`."""

    __tablename__ = "message_fact_changes"
    id: int = Field(sa_column=sa.Column(sa.BigInteger, sa.Identity(always=True), primary_key=True))
    # No foreign key: deleting a tenant cascades to its messages, whose triggers then still write here.
    tenant_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False, index=True))
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    number_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
    conversation_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
    direction: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    topic_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
    messages: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    failed: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    latency_sum: float = Field(sa_column=sa.Column(sa.Double, nullable=False))
    latency_n: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
