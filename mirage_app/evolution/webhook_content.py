"""Pure reading of a WhatsApp message object as Evolution posts it: what kind it is, its text, caption, media,
quote, reaction, location and contact card (reference §11.4, §12). Used by `webhook.normalise`.

Byte fields arrive in three encodings (index object `{"0": 146, ...}` since 2.3.6, base64 before) and longs as
`{low, high, unsigned}`, decimal strings or numbers; the helpers accept all of them. Anything that has the
right key but the wrong shape raises `MalformedEvent`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any


class MalformedEvent(ValueError):
    """The payload is not a usable Evolution webhook body."""


# content key → content_kind; the first key found wins (a message also carries messageContextInfo, base64...)
_KINDS: tuple[tuple[str, str], ...] = (
    ("reactionMessage", "reaction"),
    ("conversation", "text"),
    ("extendedTextMessage", "text"),
    ("audioMessage", "audio"),  # "voice" when ptt
    ("imageMessage", "image"),
    ("videoMessage", "video"),
    ("ptvMessage", "video"),
    ("stickerMessage", "sticker"),
    ("locationMessage", "location"),
    ("liveLocationMessage", "location"),
    ("contactMessage", "contact"),
    ("contactsArrayMessage", "contact"),
    ("documentMessage", "document"),
    ("documentWithCaptionMessage", "document"),
    ("pollCreationMessage", "poll"),
    ("pollCreationMessageV2", "poll"),
    ("pollCreationMessageV3", "poll"),
    ("pollUpdateMessage", "poll"),
)
_MEDIA = frozenset({"audio", "voice", "image", "video", "sticker", "document"})


def wa_bytes(value: object, name: str) -> bytes | None:
    """Index object | base64 string | None → bytes (reference §11.4's `wa_bytes`)."""
    if value is None:
        return None
    if isinstance(value, dict):
        try:
            items = [value[str(i)] for i in range(len(value))]
        except KeyError as exc:
            raise MalformedEvent(f"{name} index object has a gap") from exc
        if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in items):
            raise MalformedEvent(f"{name} index object holds non-byte values")
        return bytes(items)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedEvent(f"{name} is not base64") from exc
    raise MalformedEvent(f"{name} must be bytes (index object or base64)")


def wa_int(value: object, name: str) -> int | None:
    """int | decimal string | `{low, high, unsigned}` | None → int."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise MalformedEvent(f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 30:
        return int(value)
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool) and not isinstance(high, bool):
            return ((high & 0xFFFFFFFF) << 32) | (low & 0xFFFFFFFF)
    raise MalformedEvent(f"{name} must be an integer")


def content_of(message: object) -> tuple[str, str | None, dict[str, Any] | str | None]:
    """(content_kind, content key, content value) of a message object; ("other", None, None) when unknown."""
    if not isinstance(message, dict):
        return "other", None, None
    for key, kind in _KINDS:
        if key in message:
            content = message[key]
            if key == "documentWithCaptionMessage":  # {message: {documentMessage: {...}}}
                inner = content.get("message") if isinstance(content, dict) else None
                content = inner.get("documentMessage") if isinstance(inner, dict) else None
            if kind == "audio" and isinstance(content, dict) and content.get("ptt") is True:
                kind = "voice"
            if kind == "text" and key == "conversation":
                if not isinstance(content, str):
                    raise MalformedEvent("message.conversation must be a string")
                return kind, key, content
            if not isinstance(content, dict):
                raise MalformedEvent(f"message.{key} must be an object")
            return kind, key, content
    return "other", None, None


def fields(message: object, top_context: object) -> dict[str, Any]:
    """The flat content fields of `NormalisedEvent` for one message object."""
    kind, key, content = content_of(message)
    out: dict[str, Any] = {"content_kind": kind, "text": _text(kind, content) if isinstance(message, dict) else None}
    body = content if isinstance(content, dict) else {}
    if kind == "reaction":
        target = body.get("key")
        if not isinstance(target, dict) or not isinstance(target.get("id"), str):
            raise MalformedEvent("reactionMessage.key.id must be a string")
        reaction = body.get("text", "")
        if not isinstance(reaction, str):
            raise MalformedEvent("reactionMessage.text must be a string")
        out |= {"reaction_target_id": target["id"], "reaction_text": reaction}
    if kind in _MEDIA:
        out |= _media(key or "", body, message)
    if kind == "location":
        out["location"] = {
            "lat": _number(body.get("degreesLatitude"), "degreesLatitude"),
            "lng": _number(body.get("degreesLongitude"), "degreesLongitude"),
            "name": _str(body.get("name"), "location.name"),
            "address": _str(body.get("address"), "location.address"),
        }
    if kind == "contact":
        card = body
        if key == "contactsArrayMessage":
            contacts = body.get("contacts")
            card = contacts[0] if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict) else {}
        out["contact_card"] = {
            "display_name": _str(card.get("displayName"), "contact.displayName"),
            "vcard": _str(card.get("vcard"), "contact.vcard"),
        }
    out |= _quote(body.get("contextInfo"), top_context)
    return out


def edited_text(edited: object) -> str | None:
    """The new text of an `editedMessage` (text, or a media caption)."""
    kind, _, content = content_of(edited)
    return _text(kind, content) if kind != "other" else None


def _text(kind: str, content: object) -> str:
    """The text of a text message, the caption of media, "" for everything else (never a reaction's emoji)."""
    if kind == "text":
        if isinstance(content, str):
            return content
        text = content.get("text") if isinstance(content, dict) else None
        if not isinstance(text, str):
            raise MalformedEvent("extendedTextMessage.text must be a string")
        return text
    if kind in _MEDIA and isinstance(content, dict):
        return _str(content.get("caption"), "caption") or ""
    return ""


def _media(key: str, body: dict[str, Any], message: object) -> dict[str, Any]:
    digest = wa_bytes(body.get("fileSha256"), f"{key}.fileSha256")
    seconds = wa_int(body.get("seconds"), f"{key}.seconds")
    encoded = message.get("base64") if isinstance(message, dict) else None
    return {
        "caption": _str(body.get("caption"), f"{key}.caption"),
        "media_mime": _str(body.get("mimetype"), f"{key}.mimetype"),
        "media_seconds": seconds,
        "media_sha256": digest.hex() if digest else None,
        "media_base64": encoded if isinstance(encoded, str) and encoded else None,
    }


def _quote(inner: object, top: object) -> dict[str, Any]:
    """`stanzaId`/`quotedMessage` from the content's contextInfo, else the top-level one (text replies)."""
    for context in (inner, top):
        if isinstance(context, dict) and context.get("stanzaId") is not None:
            stanza = context["stanzaId"]
            if not isinstance(stanza, str) or not stanza:
                raise MalformedEvent("contextInfo.stanzaId must be a non-empty string")
            kind, _, content = content_of(context.get("quotedMessage"))
            return {"quoted_wa_msg_id": stanza, "quoted_text": _text(kind, content) if kind != "other" else None}
    return {}


def _str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise MalformedEvent(f"{name} must be a string")


def _number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise MalformedEvent(f"{name} must be a number")
