"""Pure normalisation of Evolution webhook bodies (reference §4) into one flat `NormalisedEvent`.

No I/O here, so the ingestion route can call it inline and the function can be fuzzed. Anything that lacks the
fields its kind needs raises `MalformedEvent` (a ValueError) and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mirage_app.evolution import webhook_content
from mirage_app.evolution.jids import is_group_jid, is_lid_jid, phone_from_jid
from mirage_app.evolution.webhook_content import MalformedEvent

__all__ = ["MalformedEvent", "NormalisedEvent", "normalise"]

EventKind = Literal[
    "message", "message_status", "message_edit", "message_delete", "group", "presence", "qr", "connection", "other"
]
ContentKind = Literal[
    "text",
    "reaction",
    "voice",
    "audio",
    "image",
    "video",
    "sticker",
    "location",
    "contact",
    "document",
    "poll",
    "other",
]
STATUS_BROADCAST = "status@broadcast"

# Event names `/webhook/set` accepts in 2.3.x (`EventController.events`); an empty list at set time means all.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "APPLICATION_STARTUP", "QRCODE_UPDATED", "MESSAGES_SET", "MESSAGES_UPSERT", "MESSAGES_EDITED",
    "MESSAGES_UPDATE", "MESSAGES_DELETE", "SEND_MESSAGE", "SEND_MESSAGE_UPDATE", "CONTACTS_SET", "CONTACTS_UPSERT",
    "CONTACTS_UPDATE", "PRESENCE_UPDATE", "CHATS_SET", "CHATS_UPSERT", "CHATS_UPDATE", "CHATS_DELETE",
    "GROUPS_UPSERT", "GROUP_UPDATE", "GROUP_PARTICIPANTS_UPDATE", "CONNECTION_UPDATE", "LABELS_EDIT",
    "LABELS_ASSOCIATION", "CALL", "TYPEBOT_START", "TYPEBOT_CHANGE_STATUS", "REMOVE_INSTANCE",
    "LOGOUT_INSTANCE", "INSTANCE_CREATE", "INSTANCE_DELETE", "STATUS_INSTANCE",
)  # fmt: skip

# Mirage message statuses in the order a message may move through them. `failed` sits above `sent` (an ERROR
# or a send timeout beats "accepted") but below any ack, because an ack proves the message went out.
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "sent": 1,
    "failed": 2,
    "server_ack": 3,
    "delivered": 4,
    "read": 5,
}

_EVOLUTION_STATUS: dict[str, str] = {
    "ERROR": "failed",
    "PENDING": "sent",
    "SERVER_ACK": "server_ack",
    "DELIVERY_ACK": "delivered",
    "READ": "read",
    "PLAYED": "read",
}
_RENDER_STATUS = ("ERROR", "PENDING", "SERVER_ACK", "DELIVERY_ACK", "READ", "PLAYED")  # renderStatus.ts order
BAN_LIKE_REASONS = frozenset({402, 403, 406})
_LOGGED_OUT_REASON = 401


@dataclass(frozen=True)
class NormalisedEvent:
    """One webhook body, flattened. Which optional fields are set depends on `kind`."""

    kind: EventKind
    event: str  # canonical SCREAMING_SNAKE name, e.g. "MESSAGES_UPSERT"
    instance: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    # kind "message" and "message_status"
    wa_msg_id: str | None = None
    remote_jid: str | None = None
    phone: str | None = None  # digits of the peer (the author in groups); None for an unresolved @lid
    from_me: bool | None = None
    status: str | None = None  # Mirage status (see STATUS_RANK) or None when Evolution's has no meaning
    # kind "message" only (and `text`/`timestamp` for "message_edit")
    text: str | None = None  # the text, a media caption, "" for other content (never a reaction's emoji)
    push_name: str | None = None
    timestamp: datetime | None = None
    is_group: bool = False
    message_type: str | None = None
    content_kind: ContentKind | None = None  # "voice" = audioMessage with ptt
    quoted_wa_msg_id: str | None = None  # contextInfo.stanzaId: the message this one replies to
    quoted_text: str | None = None
    reaction_target_id: str | None = None  # the reacted message's id (inner key.id)
    reaction_text: str | None = None  # the emoji; "" = the reaction was removed
    caption: str | None = None
    media_mime: str | None = None
    media_seconds: int | None = None
    media_sha256: str | None = None  # hex of fileSha256 (the plain file's hash)
    media_base64: str | None = None  # only with webhook base64 on
    location: dict[str, Any] | None = None  # {lat, lng, name, address}
    contact_card: dict[str, Any] | None = None  # {display_name, vcard}
    group_jid: str | None = None  # the @g.us chat (also for kind "group")
    author_phone: str | None = None  # digits of who wrote it in a group or a status (and who acted, kind "group")
    is_status: bool = False  # a status post (status@broadcast); `phone` is None, `author_phone` the poster
    # kind "message_edit": `wa_msg_id` is the ORIGINAL message, `text` the new text
    revoked: bool = False  # a REVOKE protocol message (delete for everyone) arriving as an edit
    # kind "group"
    group_action: str | None = None  # "create" (groups.upsert), add/remove/promote/demote/modify
    group_participants: tuple[str, ...] = ()  # phones (or @lid JIDs when no phone is known)
    group_subject: str | None = None
    # kind "presence"
    presence: str | None = None  # composing / recording / available / unavailable
    # kind "qr"
    qr_code: str | None = None
    qr_base64: str | None = None
    pairing_code: str | None = None
    qr_limit_reached: bool = False
    # kind "connection"
    state: str | None = None  # open / connecting / close / refused
    status_reason: int | None = None
    wuid: str | None = None  # digits of the connected number
    profile_name: str | None = None
    is_ban_like: bool = False  # close with 402/403/406: WhatsApp refused the number
    logged_out: bool = False  # close with 401: logged out from the phone or the API


_EVENT_NAME = re.compile(r"[A-Z0-9_]+")  # ASCII only: str.isalnum would let other scripts' letters through


def normalise_event_name(name: object) -> str:
    """`messages.upsert`, `MESSAGES_UPSERT`, `messages-upsert` and `/messages-upsert` → `MESSAGES_UPSERT`."""
    if not isinstance(name, str):
        raise MalformedEvent(f"event name must be a string, got {type(name).__name__}")
    canonical = name.strip().strip("/").replace(".", "_").replace("-", "_").upper()
    if not _EVENT_NAME.fullmatch(canonical):
        raise MalformedEvent(f"not an event name: {name!r}")
    return canonical


def event_suffix(event_name: object) -> str:
    """The path suffix Evolution appends with `byEvents`: `messages.upsert` → `messages-upsert`."""
    return normalise_event_name(event_name).replace("_", "-").lower()


def map_status(value: object) -> str | None:
    """Evolution status (`SERVER_ACK`, or renderStatus' integer) → Mirage status; DELETED/unknown → None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(_RENDER_STATUS):
        value = _RENDER_STATUS[value]
    return _EVOLUTION_STATUS.get(value) if isinstance(value, str) else None


def status_advances(current: str | None, new: str | None) -> bool:
    """True when `new` should replace `current`: statuses only move forward, whatever the arrival order."""
    if new not in STATUS_RANK:
        return False
    return current not in STATUS_RANK or STATUS_RANK[new] > STATUS_RANK[current]


def normalise(payload: object) -> NormalisedEvent:
    """Normalise one webhook body; raises `MalformedEvent` (only) when required fields are missing."""
    if not isinstance(payload, dict):
        raise MalformedEvent("payload must be a JSON object")
    event = normalise_event_name(payload.get("event"))
    base: dict[str, Any] = {
        "event": event,
        "instance": _require_str(payload.get("instance"), "instance"),
        "raw": payload,
    }
    data = payload.get("data")
    if event == "MESSAGES_UPSERT":
        return NormalisedEvent(kind="message", **base, **_message_fields(data))
    if event == "SEND_MESSAGE":
        fields = _message_fields(data) | {"from_me": True, "status": "sent"}
        return NormalisedEvent(kind="message", **base, **fields)
    if event == "MESSAGES_UPDATE":
        return NormalisedEvent(kind="message_status", **base, **_status_fields(data))
    if event == "MESSAGES_EDITED":
        return NormalisedEvent(kind="message_edit", **base, **_edit_fields(data, from_me=None))
    if event == "SEND_MESSAGE_UPDATE":
        return NormalisedEvent(kind="message_edit", **base, **_edit_fields(data, from_me=True))
    if event == "MESSAGES_DELETE":
        return NormalisedEvent(kind="message_delete", **base, **_delete_fields(data))
    if event in ("GROUPS_UPSERT", "GROUP_PARTICIPANTS_UPDATE"):
        return NormalisedEvent(kind="group", **base, **_group_fields(event, data))
    if event == "PRESENCE_UPDATE":
        return NormalisedEvent(kind="presence", **base, **_presence_fields(data))
    if event == "QRCODE_UPDATED":
        return NormalisedEvent(kind="qr", **base, **_qr_fields(data))
    if event == "CONNECTION_UPDATE":
        return NormalisedEvent(kind="connection", **base, **_connection_fields(data))
    return NormalisedEvent(kind="other", **base)


def _message_fields(data: object) -> dict[str, Any]:
    data = _require_dict(data, "data")
    key = _require_dict(data.get("key"), "data.key")
    remote_jid = _require_str(key.get("remoteJid"), "data.key.remoteJid")
    remote_jid = _resolve_lid(remote_jid, key.get("remoteJidAlt"))
    is_group = is_group_jid(remote_jid)
    is_status = remote_jid == STATUS_BROADCAST
    participant = _optional_str(key.get("participant"), "data.key.participant")
    author = _resolve_lid(participant, key.get("participantAlt")) if participant else None
    author_phone = phone_from_jid(author) if author else None
    phone = author_phone if is_group else None if is_status else phone_from_jid(remote_jid)
    return {
        "wa_msg_id": _require_str(key.get("id"), "data.key.id"),
        "remote_jid": remote_jid,
        "phone": phone,
        "from_me": bool(_optional_bool(key.get("fromMe"), "data.key.fromMe")),
        "push_name": _optional_str(data.get("pushName"), "data.pushName"),
        "timestamp": _timestamp(data.get("messageTimestamp")),
        "is_group": is_group,
        "message_type": _optional_str(data.get("messageType"), "data.messageType"),
        "status": map_status(data.get("status")),
        "group_jid": remote_jid if is_group else None,
        "author_phone": author_phone if is_group or is_status else None,
        "is_status": is_status,
        **webhook_content.fields(data.get("message"), data.get("contextInfo")),
    }


def _edit_fields(data: object, from_me: bool | None) -> dict[str, Any]:
    """`messages.edited` (protobuf toJSON) or `send.message.update` (plain object): a protocolMessage whose
    `key` is the original message's, from the sender's point of view (reference §12.10, §12.11)."""
    data = _require_dict(data, "data")
    key = _require_dict(data.get("key"), "data.key")
    kind = data.get("type")
    if (kind is not None and not isinstance(kind, str | int)) or isinstance(kind, bool):
        raise MalformedEvent("data.type must be a name or a number")
    remote_jid = _optional_str(key.get("remoteJid"), "data.key.remoteJid")
    if from_me is None:
        from_me = _optional_bool(key.get("fromMe"), "data.key.fromMe")
    edited = data.get("editedMessage")
    revoked = kind in ("REVOKE", 0)
    return {
        "wa_msg_id": _require_str(key.get("id"), "data.key.id"),
        "remote_jid": remote_jid,
        "from_me": from_me,
        "text": None if revoked else webhook_content.edited_text(edited),
        "timestamp": _timestamp_ms(data.get("timestampMs")),
        "revoked": revoked,
        "group_jid": remote_jid if remote_jid and is_group_jid(remote_jid) else None,
    }


def _delete_fields(data: object) -> dict[str, Any]:
    """`messages.delete`: the sender's stored row (`key` inside) or the receiver's flat key with status DELETED."""
    data = _require_dict(data, "data")
    key = data["key"] if isinstance(data.get("key"), dict) else data
    remote_jid = _optional_str(key.get("remoteJid"), "data.key.remoteJid")
    if remote_jid:
        remote_jid = _resolve_lid(remote_jid, key.get("remoteJidAlt"))
    is_group = bool(remote_jid) and is_group_jid(remote_jid or "")
    return {
        "wa_msg_id": _require_str(key.get("id"), "data.key.id"),
        "remote_jid": remote_jid,
        "phone": phone_from_jid(remote_jid) if remote_jid and not is_group else None,
        "from_me": _optional_bool(key.get("fromMe"), "data.key.fromMe"),
        "is_group": is_group,
        "group_jid": remote_jid if is_group else None,
    }


def _group_fields(event: str, data: object) -> dict[str, Any]:
    """`groups.upsert` (a list of GroupMetadata; the first is taken) or `group-participants.update` (§13.9)."""
    if event == "GROUPS_UPSERT":
        if not isinstance(data, list) or not data:
            raise MalformedEvent("groups.upsert data must be a non-empty list")
        data = data[0]
    data = _require_dict(data, "data")
    group_jid = _require_str(data.get("id"), "data.id")
    if not is_group_jid(group_jid):
        raise MalformedEvent("data.id must be a group JID")
    participants = data.get("participants", [])
    if not isinstance(participants, list):
        raise MalformedEvent("data.participants must be a list")
    author = _optional_str(data.get("authorPn"), "data.authorPn") or _optional_str(data.get("author"), "data.author")
    action = "create" if event == "GROUPS_UPSERT" else _require_str(data.get("action"), "data.action")
    return {
        "remote_jid": group_jid,
        "group_jid": group_jid,
        "is_group": True,
        "group_action": action,
        "group_participants": tuple(_participant_phone(p) for p in participants),
        "group_subject": _optional_str(data.get("subject"), "data.subject"),
        "author_phone": phone_from_jid(author) if author else None,
    }


def _participant_phone(item: object) -> str:
    """Baileys 7 objects `{id, phoneNumber?}` or older plain JIDs → phone digits, else the JID itself."""
    jid = (item.get("phoneNumber") or item.get("id")) if isinstance(item, dict) else item
    jid = _require_str(jid, "data.participants[]")
    return phone_from_jid(jid) or jid


def _presence_fields(data: object) -> dict[str, Any]:
    """`presence.update`: `{id, presences: {jid: {lastKnownPresence}}}`; in groups the key is the participant."""
    data = _require_dict(data, "data")
    jid = _require_str(data.get("id"), "data.id")
    presences = _require_dict(data.get("presences"), "data.presences")
    who, state = next(iter(presences.items()), (jid, None))
    state = _require_dict(state, "data.presences[]") if state is not None else {}
    who_phone = phone_from_jid(who) if isinstance(who, str) else None
    return {
        "remote_jid": jid,
        "phone": who_phone,
        "is_group": is_group_jid(jid),
        "group_jid": jid if is_group_jid(jid) else None,
        "presence": _optional_str(state.get("lastKnownPresence"), "lastKnownPresence"),
    }


def _status_fields(data: object) -> dict[str, Any]:
    data = _require_dict(data, "data")
    key = data.get("key") if isinstance(data.get("key"), dict) else {}  # 1.x put the key object here
    key_id = data.get("keyId", key.get("id"))
    remote_jid = _optional_str(data.get("remoteJid", key.get("remoteJid")), "data.remoteJid")
    if remote_jid:
        remote_jid = _resolve_lid(remote_jid, data.get("remoteJidAlt", key.get("remoteJidAlt")))
    return {
        "wa_msg_id": _require_str(key_id, "data.keyId"),
        "remote_jid": remote_jid,
        "phone": phone_from_jid(remote_jid) if remote_jid else None,
        "from_me": _optional_bool(data.get("fromMe", key.get("fromMe")), "data.fromMe"),
        "status": map_status(data.get("status")),
    }


def _qr_fields(data: object) -> dict[str, Any]:
    data = _require_dict(data, "data")
    qrcode = data.get("qrcode")
    if isinstance(qrcode, dict):
        return {
            "qr_code": _require_str(qrcode.get("code"), "data.qrcode.code"),
            "qr_base64": _optional_str(qrcode.get("base64"), "data.qrcode.base64"),
            "pairing_code": _optional_str(qrcode.get("pairingCode"), "data.qrcode.pairingCode"),
        }
    if isinstance(data.get("message"), str):  # "QR code limit reached, please login again"
        return {"qr_limit_reached": True}
    raise MalformedEvent("qrcode.updated without data.qrcode or a limit message")


def _connection_fields(data: object) -> dict[str, Any]:
    data = _require_dict(data, "data")
    state = _require_str(data.get("state"), "data.state")
    reason = _optional_int(data.get("statusReason"), "data.statusReason")
    wuid = _optional_str(data.get("wuid"), "data.wuid")
    return {
        "state": state,
        "status_reason": reason,
        "wuid": phone_from_jid(wuid) if wuid else None,
        "profile_name": _optional_str(data.get("profileName"), "data.profileName"),
        "is_ban_like": state == "close" and reason in BAN_LIKE_REASONS,
        "logged_out": state == "close" and reason == _LOGGED_OUT_REASON,
    }


def _resolve_lid(jid: str, alt: object) -> str:
    """Prefer the phone JID Baileys 7 puts in `*Alt` when the primary one is an opaque `@lid`."""
    return alt if is_lid_jid(jid) and isinstance(alt, str) and alt else jid


def _timestamp_ms(value: object) -> datetime | None:
    """`timestampMs` (number, decimal string or Long) → aware UTC datetime."""
    millis = webhook_content.wa_int(value, "data.timestampMs")
    return _timestamp(millis / 1000) if millis is not None else None


def _timestamp(value: object) -> datetime | None:
    """Unix seconds as an int, a digit string (1.x) or a protobuf Long `{low, high}` → aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        if not (_is_int(low) and _is_int(high)):
            raise MalformedEvent("messageTimestamp Long needs integer low/high")
        value = (high << 32) + (low & 0xFFFFFFFF)
    elif isinstance(value, str):
        value = _digits(value, "messageTimestamp")
    if not (_is_int(value) or isinstance(value, float)):
        raise MalformedEvent(f"messageTimestamp is not a number: {value!r}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedEvent(f"messageTimestamp out of range: {value!r}") from exc


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_dict(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedEvent(f"{name} must be an object")
    return value


def _require_str(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{name} must be a non-empty string")
    return value


def _optional_str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise MalformedEvent(f"{name} must be a string")


def _optional_bool(value: object, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise MalformedEvent(f"{name} must be a boolean")


def _optional_int(value: object, name: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        return _digits(value, name)
    raise MalformedEvent(f"{name} must be an integer")


def _digits(value: str, name: str) -> int:
    """A decimal digit string as an int (1.x and some fields send numbers as strings)."""
    if not (value.isascii() and value.isdigit()) or len(value) > 30:
        raise MalformedEvent(f"{name} must be an integer, got {value[:40]!r}")
    return int(value)
