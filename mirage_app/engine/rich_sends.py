"""How each message kind goes out through Evolution: one call per kind, chosen by `messages.kind`.

The send pipeline (engine.sending) decides *whether* and *when*; this module only says *how*: which route, which
chat (the partner's JID, the warming group's, or `status@broadcast`), which key a reaction or an edit points at, and
the file of a voice note, picture or sticker (read from the media library only for the attempt that sends it,
and kept a while in the worker: a library file never changes, and the same few go out again and again).
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.jids import phone_digits, user_jid
from mirage_app.evolution.rich_models import MessageKey, QuotedRef

# Status posts: the plain backgrounds and fonts people pick (Evolution requires a non-zero font for text).
STATUS_COLOURS = ("#1E88E5", "#43A047", "#8E24AA", "#F4511E", "#00897B", "#6D4C41")

NEEDS_MEDIA = frozenset({"voice", "image", "sticker"})

MEDIA_FILE = text("SELECT kind::text AS kind, name, mime, data, duration_s FROM media_assets WHERE id = :id")
TARGET = text("SELECT wa_msg_id, status::text AS status, body, meta FROM messages WHERE id = :id")


@dataclass(frozen=True, slots=True)
class MediaFile:
    kind: str
    name: str
    mime: str
    duration_s: float | None
    b64: str  # the bytes as Evolution takes them


class _RecentFiles:
    """Recently sent library files, per tenant and asset: a row's bytes never change (an edit is a new asset, a
    delete only archives). Bounded by size; the first read of each still goes through the tenant's row-level
    security."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._files: OrderedDict[tuple[uuid.UUID, uuid.UUID], MediaFile] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[uuid.UUID, uuid.UUID]) -> MediaFile | None:
        with self._lock:
            media = self._files.get(key)
            if media is not None:
                self._files.move_to_end(key)
            return media

    def put(self, key: tuple[uuid.UUID, uuid.UUID], media: MediaFile) -> None:
        with self._lock:
            if key in self._files:
                return
            self._files[key] = media
            self._size += len(media.b64)
            while self._size > self.max_bytes and len(self._files) > 1:
                _, dropped = self._files.popitem(last=False)
                self._size -= len(dropped.b64)


_recent = _RecentFiles(max_bytes=32 * 1024 * 1024)


def load_media(s, tenant_id: uuid.UUID, media_id: uuid.UUID | None) -> MediaFile | None:
    if media_id is None:
        return None
    key = (tenant_id, media_id)
    media = _recent.get(key)
    if media is None:
        row = s.execute(MEDIA_FILE, {"id": media_id}).first()
        if row is None:
            return None
        data = base64.b64encode(bytes(row.data)).decode("ascii")
        media = MediaFile(row.kind, row.name, row.mime, row.duration_s, data)
        _recent.put(key, media)
    return media


def _edit_of(s, ctx: Any):
    original = ctx.meta.get("edit_of")
    return s.execute(TARGET, {"id": uuid.UUID(original)}).first() if original else None


def edit_original(s, ctx: Any) -> tuple[str | None, bool]:
    """For the message an edit corrects: its WhatsApp id once it went out, and whether it never will (failed or
    gone). (None, False) while it waits to go out."""
    row = _edit_of(s, ctx)
    if row is None or row.status == "failed":
        return None, True
    return (None, False) if row.status == "queued" else (row.wa_msg_id, False)


def chat_jid(ctx: Any) -> str:
    """The chat a message goes to: the group's JID, or the partner's (a number of ours or a contact)."""
    if ctx.group_id is not None:
        return ctx.group_jid
    return user_jid(phone_digits(ctx.to_wa or ctx.contact_wa))


def recipient(ctx: Any) -> str:
    """Evolution's `number` field: digits for a person, the JID for a group ("" for a status: it has no one)."""
    if ctx.group_id is not None:
        return ctx.group_jid
    if ctx.kind == "status":
        return ""
    return phone_digits(ctx.to_wa or ctx.contact_wa)


def _quoted(ctx: Any) -> QuotedRef | None:
    quoted = ctx.meta.get("quoted")
    if not quoted or not quoted.get("wa_msg_id"):
        return None
    author = quoted.get("author_wa")
    key = MessageKey(
        id=quoted["wa_msg_id"],
        remote_jid=chat_jid(ctx),
        from_me=False,
        participant=user_jid(author) if ctx.group_id is not None and author else None,
    )
    return QuotedRef(key, _quoted_content(quoted))


# What the quoted bubble shows for each kind (the quote's content object as WhatsApp carries it).
def _quoted_content(quoted: dict) -> dict:
    kind, body = quoted.get("kind") or "text", quoted.get("body") or ""
    if kind == "image":
        return {"imageMessage": {"caption": body}} if body else {"imageMessage": {}}
    if kind == "voice":
        return {"audioMessage": {"ptt": True}}
    if kind == "sticker":
        return {"stickerMessage": {}}
    return {"conversation": body}


def deliver(
    client: EvolutionClient,
    ctx: Any,
    media: MediaFile | None,
    edit_target: str | None = None,
    file_link: str | None = None,
) -> str:
    """Send one queued message of any kind; returns its WhatsApp message id. `edit_target`: the WhatsApp id of the
    message an edit corrects (resolved by the caller, which defers the edit until the original has one).
    `file_link`: a signed URL of the message's file, for a picture status (Evolution takes it only as a URL)."""
    kind, name, number, delay = ctx.kind, ctx.session_id, recipient(ctx), ctx.typing_ms or None
    if kind == "text":
        return client.send_text(name, number, ctx.body, delay_ms=delay, quoted=_quoted(ctx)).key_id
    if kind == "reaction":
        author = ctx.meta.get("reaction_author_wa")
        key = MessageKey(
            id=ctx.ref_wa_msg_id,
            remote_jid=chat_jid(ctx),
            from_me=False,
            participant=user_jid(author) if ctx.group_id is not None and author else None,
        )
        return client.send_reaction(name, key=key, emoji=ctx.body).key_id
    if kind == "edit":
        key = MessageKey(id=edit_target, remote_jid=chat_jid(ctx), from_me=True)
        return client.update_message(name, number, key=key, text=ctx.body).key_id
    if kind == "location":
        place = ctx.meta.get("location") or {}
        return client.send_location(
            name, number, latitude=float(place["lat"]), longitude=float(place["lng"]),
            place_name=place.get("name", ""), address=place.get("address", ""), delay_ms=delay, quoted=_quoted(ctx),
        ).key_id  # fmt: skip
    if kind == "contact":
        card = ctx.meta.get("contact_card") or {}
        return client.send_contact(
            name, number, full_name=card["full_name"], wuid=card["wuid"], phone_number=card["phone"]
        ).key_id
    if kind == "status":
        jids = [phone_digits(wa) for wa in ctx.meta.get("status_to") or []]
        if file_link is not None:
            return client.send_status(
                name, kind="image", content=file_link, caption=ctx.body or None, jid_list=jids
            ).key_id
        style = ctx.meta.get("status_style") or {}
        return client.send_status(
            name, kind="text", content=ctx.body, background_color=style.get("color", STATUS_COLOURS[0]),
            font=int(style.get("font", 1)), jid_list=jids,
        ).key_id  # fmt: skip
    if media is None:
        raise MissingMedia(kind)
    if kind == "voice":
        return client.send_voice(name, number, audio_b64=media.b64, delay_ms=recording_ms(media)).key_id
    if kind == "image":
        return client.send_media(
            name, number, mediatype="image", media_b64=media.b64, mimetype=media.mime, file_name=media.name,
            caption=ctx.body or None, delay_ms=delay, quoted=_quoted(ctx),
        ).key_id  # fmt: skip
    if kind == "sticker":
        return client.send_sticker(name, number, sticker_b64=media.b64, delay_ms=delay, quoted=_quoted(ctx)).key_id
    raise ValueError(f"unknown message kind: {kind}")


def recording_ms(media: MediaFile) -> int:
    """ "Recording…" lasts about as long as the note itself (people record in real time), at most a minute."""
    return int(min(60.0, max(1.0, media.duration_s or 3.0)) * 1000)


class MissingMedia(LookupError):
    """The file of a voice note, picture or sticker is gone from the library (deleted meanwhile)."""
