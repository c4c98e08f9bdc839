"""The simulator's in-memory records: instances with their webhook, external humans and the message log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mirage_app.evolution.jids import user_jid

ConnectionStatus = Literal["close", "connecting", "open"]

DEFAULT_REPLIES = (
    "Oi! Tudo bem?",
    "Opa, tudo certo por aqui 😊",
    "Legal, me conta mais",
    "Pode ser, vamos conversar",
    "Hmm, interessante",
    "Obrigado pela mensagem!",
)


@dataclass
class SimWebhook:
    """The stored Prisma `Webhook` row; field names follow the row, not the request."""

    id: str
    instance_id: str
    url: str
    headers: dict[str, str]
    enabled: bool
    events: list[str]
    by_events: bool
    base64: bool
    created_at: datetime
    updated_at: datetime


@dataclass
class SimInstance:
    name: str
    instance_id: str
    token: str
    integration: str
    created_at: datetime
    updated_at: datetime
    settings: dict[str, Any]
    status: ConnectionStatus = "close"
    qr_count: int = 0
    qr_code: str | None = None
    qr_base64: str | None = None
    pairing_code: str | None = None
    phone: str | None = None  # the linked number (kept after logout: the SIM card does not change)
    has_opened: bool = False  # Evolution only knows `wuid` (webhook `sender`) after the first open
    profile_name: str | None = None
    webhook: SimWebhook | None = None
    disconnection_code: int | None = None
    disconnection_at: datetime | None = None
    disconnection_object: str | None = None

    @property
    def jid(self) -> str | None:
        return user_jid(self.phone) if self.phone else None


@dataclass
class SimHuman:
    """An external WhatsApp user who may answer or opt out when a simulated instance writes to them."""

    phone: str
    name: str
    reply_probability: float = 0.5
    optout_probability: float = 0.1
    reply_texts: list[str] = field(default_factory=lambda: list(DEFAULT_REPLIES))
    optout_text: str = "SAIR"
    opted_out: bool = False
    # when they answer: the share of answers that are a reaction, a quoted reply, or a voice note to a voice note
    react_probability: float = 0.0
    quote_probability: float = 0.0
    voice_back_probability: float = 0.0


@dataclass
class SimMessage:
    """One text as seen by one instance: sends are `from_me`, receptions are not (same `key_id` on both ends)."""

    instance: str
    key_id: str
    from_me: bool
    peer_phone: str
    text: str
    at: datetime
    delay_ms: int | None = None
    lid: bool = False
    message_type: str = "conversation"
    chat_jid: str | None = None  # the group or status@broadcast chat; None for 1:1
    author_phone: str | None = None  # who wrote it (groups and status)
    media_sha256: str | None = None  # hex sha256 of the decoded media bytes
    media_size: int | None = None
    message: dict[str, Any] | None = None  # the content as this instance saw it (for quotes and edits)
    edited_text: str | None = None


@dataclass
class SimParticipant:
    phone: str
    admin: str | None = None  # "superadmin" (creator), "admin" or None


@dataclass
class SimGroup:
    """A group of the simulated network: every server of a pool sees the same one."""

    jid: str
    subject: str
    desc: str | None
    owner_phone: str
    creation: int
    participants: dict[str, SimParticipant] = field(default_factory=dict)  # phone → participant
    desc_id: str | None = None
