"""Messages sent and received, and the raw webhook events they were built from."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from mirage_app.logic import waits
from mirage_app.models.base import (
    created_field,
    enum_field,
    fk_field,
    id_field,
    json_field,
    tenant_field,
    ts_field,
    utcnow,
)
from mirage_app.models.enums import MessageDirection, MessageKind, MessageStatus, pg_enum


def counted_sends(alias: str) -> str:
    """SQL: the messages of `alias` that count against their number's caps, by their `cap_weight`. One rule for
    the send pipeline (engine.send_context COUNTS), the scheduler's look-ahead and the number cards: sent by the
    number and not failed, except a send whose outcome is unknown (it may well have gone out)."""
    return f"{alias}.direction = 'out' AND ({alias}.status <> 'failed' OR {alias}.error = 'unknown_delivery')"


def insert_once_per_send_key(columns: str, values: str, message_id: str = "gen_random_uuid()") -> str:
    """SQL: `INSERT INTO messages (id, <columns>) VALUES (<message_id>, <values>) RETURNING id` that writes nothing when
    the send key in its `:meta` is taken (one message per round turn, outreach reply, opt-out confirmation or status
    post). The key is claimed first in `message_send_keys` (alembic 0027: `messages` is partitioned, so it cannot
    hold the rule): a concurrent writer of the same key waits there, then writes nothing. `:t` and `:now` (the
    message's created_at) must be among the parameters; a message without a send key is always written."""
    return f"""
    WITH k AS (
        INSERT INTO message_send_keys (tenant_id, send_key, message_id, created_at)
        SELECT :t, CAST(:meta AS jsonb)->>'send_key', {message_id}, :now WHERE CAST(:meta AS jsonb) ? 'send_key'
        ON CONFLICT DO NOTHING RETURNING message_id
    ),
    new AS (
        SELECT COALESCE((SELECT message_id FROM k), {message_id}) AS id
        WHERE NOT CAST(:meta AS jsonb) ? 'send_key' OR EXISTS (SELECT FROM k)
    )
    INSERT INTO messages (id, {columns}) SELECT new.id, {values} FROM new RETURNING id
    """


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_tenant_created", "tenant_id", sa.text("created_at DESC")),
        sa.Index("ix_messages_from_number_created", "from_number_id", "created_at"),
        sa.Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        # Look-ups by WhatsApp id and by send key. Their uniqueness lives in MessageWaId / MessageSendKey, since a
        # partitioned table's unique indexes must hold the partition key (alembic 0027); with created_at, the
        # WhatsApp id is the ingest's ON CONFLICT target (engine.ingest).
        sa.Index("uq_messages_tenant_wa_msg_id_created", "tenant_id", "wa_msg_id", "created_at", unique=True),
        sa.Index("ix_messages_send_key", "tenant_id", "send_key", postgresql_where=sa.text("send_key IS NOT NULL")),
        # The send pipeline's queue and cap counts, outreach's look-ups (alembic 0004, 0006).
        sa.Index("ix_messages_queued_send_after", "send_after", postgresql_where=sa.text("status = 'queued'")),
        sa.Index(
            "ix_messages_from_number_sent", "from_number_id", "sent_at", postgresql_where=sa.text("sent_at IS NOT NULL")
        ),
        sa.Index(
            "ix_messages_inbound_unhandled",
            "created_at",
            postgresql_where=sa.text("direction = 'in' AND NOT (meta ? 'outreach_handled')"),
        ),
        sa.Index(
            "ix_messages_outreach_number",
            "from_number_id",
            "created_at",
            postgresql_where=sa.text("(meta->>'app_origin') = 'outreach'"),
        ),
        # Which files a number sent to a partner (a number, or a group); "never twice" is MessageMediaPartner.
        sa.Index(
            "ix_messages_media_partner",
            "from_number_id",
            sa.text("COALESCE(group_id, to_number_id)"),
            "media_id",
            postgresql_where=sa.text("media_id IS NOT NULL AND direction = 'out' AND kind <> 'status'"),
        ),
        sa.Index(
            "ix_messages_outreach_target",
            "outreach_target_id",
            "created_at",
            postgresql_where=sa.text("outreach_target_id IS NOT NULL"),
        ),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)
    conversation_id: uuid.UUID | None = fk_field("conversations.id", index=False)
    round_id: uuid.UUID | None = fk_field("rounds.id")
    from_number_id: uuid.UUID | None = fk_field("numbers.id", index=False)
    to_number_id: uuid.UUID | None = fk_field("numbers.id")
    contact_id: uuid.UUID | None = fk_field("contacts.id")
    wa_msg_id: str | None = Field(default=None, max_length=128)
    direction: MessageDirection = enum_field(pg_enum(MessageDirection, "msg_direction"), MessageDirection.outbound)
    kind: MessageKind = enum_field(pg_enum(MessageKind, "message_kind"), MessageKind.text)
    body: str = Field(default="")
    # The file a voice note, picture, sticker or image status sent (models.media.MediaAsset).
    media_id: uuid.UUID | None = fk_field("media_assets.id", index=False)
    # A message in a warming group (its chat is the group's JID; to_number_id is then NULL).
    group_id: uuid.UUID | None = fk_field("warming_groups.id")
    # The message this one points at: the quoted one, the one reacted to, the one an edit corrects.
    ref_wa_msg_id: str | None = Field(default=None, max_length=128)
    # What it counts for against the caps (logic.actions.CAP_WEIGHT: a voice note is not a reaction).
    cap_weight: float = Field(default=1.0, sa_column_kwargs={"server_default": "1"})
    meta: dict = json_field(dict)
    status: MessageStatus = enum_field(pg_enum(MessageStatus, "message_status"), MessageStatus.queued)
    error: str | None = Field(default=None, max_length=500)
    # The partition key (by month, alembic 0027). Each partition's primary key is id (the parent has none).
    created_at: datetime = created_field()
    sent_at: datetime | None = ts_field()
    updated_at: datetime | None = ts_field()
    # Send pipeline state (services/sending.py): when the next attempt may run, how many were made, and when
    # the last one was handed to Evolution (set just before the HTTP call: a crash after it means "maybe sent").
    send_after: datetime | None = ts_field()
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    dispatched_at: datetime | None = ts_field()
    # Why a queued message has not gone out yet (a logic.waits reason), set where it is deferred; until when is
    # derived (`wait_until`).
    wait_reason: str | None = Field(default=None, max_length=60)
    # Copies of two `meta` keys that look-ups compare with `=` (alembic 0007): under row-level security an index on
    # `meta->>'...'` cannot serve such a look-up, as jsonb's operators are not leakproof.
    send_key: str | None = Field(
        default=None, sa_column=sa.Column(sa.Text, sa.Computed("meta->>'send_key'", persisted=True))
    )
    outreach_target_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.Computed("CAST(meta->>'outreach_target_id' AS uuid)", persisted=True)
        ),
    )

    @property
    def wait_until(self) -> datetime | None:
        """Until when its stored wait lasts (logic.waits.message_until)."""
        return waits.message_until(self.wait_reason, self.send_after, self.dispatched_at, self.meta)


class WebhookEvent(SQLModel, table=True):
    """Partitioned by day on received_at (alembic 0020): hence the primary key (id, received_at). Retries are
    de-duplicated through `WebhookDedupeKey`, which no partition boundary splits."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.Index("ix_webhook_events_unprocessed", "received_at", postgresql_where=sa.text("processed_at IS NULL")),
        # The retention job's per-tenant deletes (engine.retention).
        sa.Index("ix_webhook_events_tenant_received", "tenant_id", "received_at"),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = tenant_field(index=False)  # ix_webhook_events_tenant_received starts with it
    session_id: str = Field(max_length=100, index=True)
    event_type: str = Field(max_length=60)
    payload: dict = json_field(dict)
    wa_ts: datetime | None = ts_field()
    received_at: datetime = Field(
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), primary_key=True, server_default=sa.func.now()),
    )
    processed_at: datetime | None = ts_field()
    error: str | None = Field(default=None, max_length=500)
    # sha256 of the raw body: Evolution's retries deliver byte-identical bodies, which then add no row.
    dedupe_key: str | None = Field(default=None, max_length=64)


class WebhookDedupeKey(SQLModel, table=True):
    """One row per (tenant, sha256 of a delivered body) for a bounded time (engine.retention.DEDUPE_WINDOW): a
    byte-identical redelivery finds its key here and adds nothing."""

    __tablename__ = "webhook_dedupe_keys"
    __table_args__ = (sa.Index("ix_webhook_dedupe_keys_tenant_received", "tenant_id", "received_at"),)
    tenant_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    dedupe_key: str = Field(max_length=64, primary_key=True)
    received_at: datetime = created_field()


def _message_key_columns() -> tuple[sa.Column, sa.Column]:
    return (
        sa.Column("message_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


class MessageWaId(SQLModel, table=True):
    """One row per (tenant, WhatsApp message id): the uniqueness `messages` cannot hold across its monthly
    partitions (alembic 0027). The trigger `mirage_message_keys` keeps it in step with `messages`; the ingest claims
    it first (ON CONFLICT here, where it once was on `messages`). Pruned with the partitions it points into."""

    __tablename__ = "message_wa_ids"
    __table_args__ = (
        sa.PrimaryKeyConstraint("tenant_id", "wa_msg_id", name="uq_messages_tenant_wa_msg_id"),
        sa.Index("ix_message_wa_ids_created", "created_at", postgresql_using="brin"),
    )
    tenant_id: uuid.UUID = tenant_field(index=False)
    wa_msg_id: str = Field(max_length=128)
    message_id: uuid.UUID = Field(sa_column=_message_key_columns()[0])
    created_at: datetime = Field(sa_column=_message_key_columns()[1])


class MessageSendKey(SQLModel, table=True):
    """One row per (tenant, send key): one message per round turn, outreach reply or opt-out confirmation,
    whoever races to create it (alembic 0027; kept like MessageWaId)."""

    __tablename__ = "message_send_keys"
    __table_args__ = (
        sa.PrimaryKeyConstraint("tenant_id", "send_key", name="uq_messages_send_key"),
        sa.Index("ix_message_send_keys_created", "created_at", postgresql_using="brin"),
    )
    tenant_id: uuid.UUID = tenant_field(index=False)
    send_key: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    message_id: uuid.UUID = Field(sa_column=_message_key_columns()[0])
    created_at: datetime = Field(sa_column=_message_key_columns()[1])


class MessageMediaPartner(SQLModel, table=True):
    """A number never sends the same file twice to the same partner (a number, or a group): one row per file a
    number sent to a partner, for as long as both exist (alembic 0027)."""

    __tablename__ = "message_media_partners"
    __table_args__ = (
        sa.PrimaryKeyConstraint("from_number_id", "partner_id", "media_id", name="uq_messages_media_partner"),
        sa.Index("ix_message_media_partners_tenant", "tenant_id"),
    )
    tenant_id: uuid.UUID = tenant_field(index=False)
    from_number_id: uuid.UUID = Field(
        sa_column=sa.Column(UUID(as_uuid=True), sa.ForeignKey("numbers.id", ondelete="CASCADE"), nullable=False)
    )
    partner_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
    media_id: uuid.UUID = Field(
        sa_column=sa.Column(UUID(as_uuid=True), sa.ForeignKey("media_assets.id", ondelete="CASCADE"), nullable=False)
    )
    message_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
