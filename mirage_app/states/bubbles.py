"""How a listed message shows on screen (the live panel, a number's history): one row model for every kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from mirage_app.i18n import formats
from mirage_app.services.message_history import MessageItem

# What a quote box says for a quoted message that has no text of its own.
_QUOTE_KEYS = {
    "voice": "messages.quote.voice",
    "image": "messages.quote.image",
    "sticker": "messages.quote.sticker",
    "location": "messages.quote.location",
    "contact": "messages.quote.contact",
}


@dataclass(frozen=True)
class Bubble:
    id: str
    at: str
    kind: str  # models.enums.MessageKind value: picks how the bubble draws
    outgoing: bool  # sent by the number whose history is open (the live panel has no side)
    sender: str
    recipient: str  # a number, a contact, or the group's subject
    body: str  # the text, the picture's caption, a status's text; the corrected text when edited
    status: str  # raw value, picks the badge colour
    status_label: str
    in_group: bool = False
    media_url: str = ""  # "" when the file is gone (deleted) or the kind has none
    duration: str = ""  # a voice note's length, "0:12"
    edited: bool = False
    quote: str = ""  # the quoted message's text, or "🎤 voice note"; "" when it quotes nothing
    reactions: list[str] = field(default_factory=list)
    place: str = ""  # a location's name
    address: str = ""
    card_name: str = ""  # a contact card's name and phone
    card_phone: str = ""
    phase: str = ""
    wait: str = ""  # why a queued message waits and until when; "" otherwise


def voice_length(seconds: float | None) -> str:
    if not seconds or seconds <= 0:
        return ""
    whole = max(1, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def quote_text(tr: dict[str, str], item: MessageItem) -> str:
    if item.quoted_kind is None:
        return ""
    if item.quoted_kind in _QUOTE_KEYS and not (item.quoted_kind == "image" and item.quoted_body):
        return tr[_QUOTE_KEYS[item.quoted_kind]]
    return item.quoted_body or "…"


def bubble(
    tr: dict[str, str],
    item: MessageItem,
    *,
    backend: str,
    stamp: Callable[[datetime], str],
    wait: str = "",
    outgoing: bool = False,
    status_kind: str = "conversations.msg",
) -> Bubble:
    """`backend` is the backend's origin: files are read from `/api/media/{id}/file` with the session cookie."""
    return Bubble(
        id=str(item.id),
        at=stamp(item.created_at),
        kind=item.kind,
        outgoing=outgoing,
        sender=item.from_label or "—",
        recipient=item.group_label or item.to_label or "—",
        body=item.body if item.kind not in ("text", "status") or item.body else ("" if item.media_id else "…"),
        status=item.status,
        status_label=formats.label(tr, status_kind, item.status),
        in_group=item.group_label is not None,
        media_url=f"{backend}/api/media/{item.media_id}/file" if item.media_id else "",
        duration=voice_length(item.voice_seconds),
        edited=item.edited,
        quote=quote_text(tr, item),
        reactions=list(item.reactions),
        place=str(item.location.get("name") or ""),
        address=str(item.location.get("address") or ""),
        card_name=str(item.contact_card.get("full_name") or ""),
        card_phone=str(item.contact_card.get("phone") or ""),
        phase=formats.label(tr, "conversations.phase", item.phase) if item.phase else "",
        wait=wait,
    )
