"""What numbers send beyond text: the tenant's media library and the warming groups its numbers talk in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from mirage_app.models.base import created_field, enum_field, fk_field, id_field, json_field, tenant_field, ts_field
from mirage_app.models.enums import pg_enum


class MediaKind(StrEnum):
    image = "image"
    voice = "voice"
    sticker = "sticker"


class MediaAsset(SQLModel, table=True):
    """One file of the tenant's library, its bytes kept in PostgreSQL so every machine of a deployment reads it."""

    __tablename__ = "media_assets"
    __table_args__ = (
        # The same bytes are one asset per tenant: an upload of a file already there answers with that asset.
        sa.UniqueConstraint("tenant_id", "sha256", name="uq_media_assets_tenant_sha256"),
        sa.Index("ix_media_assets_tenant_kind", "tenant_id", "kind", postgresql_where=sa.text("archived_at IS NULL")),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)
    kind: MediaKind = enum_field(pg_enum(MediaKind, "media_kind"), MediaKind.image)
    name: str = Field(max_length=200)
    mime: str = Field(max_length=80)
    size_bytes: int = Field(default=0)
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    duration_s: float | None = Field(default=None)
    tags: list = json_field(list)
    # upload | generated | received
    origin: str = Field(default="upload", max_length=20)
    # The text a generated voice note speaks or a generated picture shows (empty for uploads).
    content_text: str = Field(default="", max_length=1000)
    created_by: uuid.UUID | None = fk_field("users.id", index=False)
    created_at: datetime = created_field()
    # Deleted while messages still show it: kept for their history, never sent again.
    archived_at: datetime | None = ts_field()


class GroupState(StrEnum):
    pending = "pending"  # not created on WhatsApp yet
    active = "active"
    failed = "failed"  # creation refused; `error` says why
    closed = "closed"  # every member left, or the conversation was deleted


class WarmingGroup(SQLModel, table=True):
    """A WhatsApp group among the tenant's own numbers; a `group` conversation talks in it."""

    __tablename__ = "warming_groups"
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    conversation_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    owner_number_id: uuid.UUID | None = fk_field("numbers.id")
    group_jid: str | None = Field(default=None, max_length=80, index=True)
    subject: str = Field(max_length=100)
    description: str = Field(default="", max_length=500)
    state: GroupState = enum_field(pg_enum(GroupState, "group_state"), GroupState.pending)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime | None = ts_field()


class WarmingGroupMember(SQLModel, table=True):
    __tablename__ = "warming_group_members"
    __table_args__ = (sa.UniqueConstraint("group_id", "number_id", name="uq_warming_group_members"),)
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field()
    group_id: uuid.UUID = fk_field("warming_groups.id", nullable=False, ondelete="CASCADE", index=False)
    number_id: uuid.UUID = fk_field("numbers.id", nullable=False, ondelete="CASCADE")
    admin: bool = Field(default=False)
    joined_at: datetime | None = ts_field()
    left_at: datetime | None = ts_field()
