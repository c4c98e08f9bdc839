"""Enumerations stored as PostgreSQL enum types."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class TenantPlan(StrEnum):
    free = "free"
    pro = "pro"
    enterprise = "enterprise"


class UserRole(StrEnum):
    admin = "admin"
    operator = "operator"
    viewer = "viewer"


class NumberStatus(StrEnum):
    disconnected = "disconnected"
    connecting = "connecting"
    connected = "connected"
    error = "error"
    paused = "paused"


class ConversationMode(StrEnum):
    pair = "pair"
    round_robin = "round_robin"
    random = "random"
    group = "group"  # talks in a WhatsApp group among the tenant's numbers (models.media.WarmingGroup)


class ParticipantKind(StrEnum):
    bot = "bot"
    human = "human"


class Weekday(StrEnum):
    sun = "sun"
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"


class RoundState(StrEnum):
    planned = "planned"
    running = "running"
    done = "done"
    aborted = "aborted"


class MessageDirection(StrEnum):
    inbound = "in"
    outbound = "out"


class MessageStatus(StrEnum):
    """Declared in progress order: PostgreSQL compares enum values by it, so GREATEST() moves a status only
    forward whatever order webhooks arrive in. `failed` sits below any ack: an ack proves the message left."""

    queued = "queued"
    sent = "sent"
    failed = "failed"
    server_ack = "server_ack"
    delivered = "delivered"
    read = "read"


class MessageKind(StrEnum):
    """What a message row is. Each kind has its cap weight in logic.actions."""

    text = "text"
    reaction = "reaction"  # on `ref_wa_msg_id`; an empty body removes it
    voice = "voice"  # a voice note (PTT)
    image = "image"
    sticker = "sticker"
    location = "location"
    contact = "contact"  # a contact card
    edit = "edit"  # corrects the text of `ref_wa_msg_id` (a typo fixed shortly after sending)
    status = "status"  # a status post (text, or an image with `media_id`) seen by the tenant's own numbers


class ConsentStatus(StrEnum):
    unknown = "unknown"
    granted = "granted"
    revoked = "revoked"


class TargetStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    paused = "paused"
    done = "done"
    optout = "optout"
    failed = "failed"


def pg_enum(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A native enum that stores the values (not the Python member names)."""
    return sa.Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e], create_type=True)
