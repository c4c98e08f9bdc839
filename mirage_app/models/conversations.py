"""Warming conversations between a tenant's own numbers: who talks, when, about what, in which rounds."""

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
from mirage_app.models.enums import ConversationMode, ParticipantKind, RoundState, Weekday, pg_enum


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        # The tick reads only due conversations (alembic 0004).
        sa.Index("ix_conversations_due", "next_due_at", postgresql_where=sa.text("active AND next_due_at IS NOT NULL")),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    name: str = Field(max_length=120)
    mode: ConversationMode = enum_field(pg_enum(ConversationMode, "conversation_mode"), ConversationMode.pair)
    active: bool = Field(default=False, index=True)
    openai_model: str = Field(default="gpt-4o-mini", max_length=80)
    temperature: float = Field(default=0.8)
    topic_strategy: str = Field(default="rotate", max_length=20)
    topic_refresh_minutes: int = Field(default=120)
    next_due_at: datetime | None = ts_field(index=True)
    # Where plan_round continues (pair / round-robin order); see logic.rounds.
    round_cursor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()
    archived_at: datetime | None = ts_field()  # deleted with history: kept inactive with it, not listed by default


class ConversationParticipant(SQLModel, table=True):
    __tablename__ = "conversation_participants"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = fk_field("conversations.id", nullable=False, ondelete="CASCADE")
    kind: ParticipantKind = enum_field(pg_enum(ParticipantKind, "participant_kind"), ParticipantKind.bot)
    number_id: uuid.UUID | None = fk_field("numbers.id", ondelete="CASCADE")
    contact_id: uuid.UUID | None = fk_field("contacts.id", ondelete="CASCADE")
    role: str = Field(default="member", max_length=40)
    start_order: int = Field(default=0)


class Pairing(SQLModel, table=True):
    __tablename__ = "pairings"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = fk_field("conversations.id", nullable=False, ondelete="CASCADE")
    number_a_id: uuid.UUID = fk_field("numbers.id", nullable=False, ondelete="CASCADE")
    number_b_id: uuid.UUID = fk_field("numbers.id", nullable=False, ondelete="CASCADE")


class Topic(SQLModel, table=True):
    __tablename__ = "topics"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = fk_field("conversations.id", nullable=False, ondelete="CASCADE")
    seed: str = Field(max_length=500)
    system_prompt: str = Field(default="", max_length=4000)
    active_from: datetime | None = ts_field()
    active_to: datetime | None = ts_field()
    created_at: datetime = created_field()


class ConversationSchedule(SQLModel, table=True):
    __tablename__ = "conversation_schedule"
    __table_args__ = (sa.UniqueConstraint("conversation_id", "day", name="uq_schedule_conversation_day"),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = fk_field("conversations.id", nullable=False, ondelete="CASCADE")
    day: Weekday = enum_field(pg_enum(Weekday, "weekday"), Weekday.mon)
    morning_enabled: bool = Field(default=True)
    morning_start: time = Field(default=time(8, 0))
    morning_end: time = Field(default=time(12, 0))
    afternoon_enabled: bool = Field(default=True)
    afternoon_start: time = Field(default=time(12, 0))
    afternoon_end: time = Field(default=time(18, 0))
    evening_enabled: bool = Field(default=False)
    evening_start: time = Field(default=time(18, 0))
    evening_end: time = Field(default=time(22, 0))
    max_rounds_per_window: int = Field(default=2)
    pause_between_rounds_min: int = Field(default=20)
    pause_between_rounds_max: int = Field(default=60)


class ConversationSettings(SQLModel, table=True):
    """Per-conversation overrides; NULL means "use the tenant default"."""

    __tablename__ = "settings_conversation"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    min_delay_s: int | None = Field(default=None)
    max_delay_s: int | None = Field(default=None)
    hourly_burst_limit: int | None = Field(default=None)
    humanize: bool | None = Field(default=None)
    allow_bot_to_bot: bool | None = Field(default=None)
    guard_no_echo: bool = Field(default=True)
    # Overrides of the tenant's action rules (logic.actions.ActionRules keys); empty means "the tenant's".
    actions: dict = json_field(dict)


class Round(SQLModel, table=True):
    __tablename__ = "rounds"
    __table_args__ = (
        sa.Index("ix_rounds_conversation_window", "conversation_id", "window_key"),
        sa.Index("ix_rounds_conversation_running", "conversation_id", postgresql_where=sa.text("state = 'running'")),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = fk_field("conversations.id", nullable=False, ondelete="CASCADE")
    pairing_id: uuid.UUID | None = fk_field("pairings.id")
    topic_id: uuid.UUID | None = fk_field("topics.id")
    participants: list = json_field(list)
    planned_turns: int = Field(default=4)
    turns_done: int = Field(default=0)
    state: RoundState = enum_field(pg_enum(RoundState, "round_state"), RoundState.planned, index=True)
    window_key: str = Field(max_length=40)
    started_at: datetime | None = ts_field()
    ended_at: datetime | None = ts_field()
    end_reason: str | None = Field(default=None, max_length=60)
    created_at: datetime = created_field()
