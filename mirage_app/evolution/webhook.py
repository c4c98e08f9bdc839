"""Pure normalisation of Evolution webhook bodies (reference §4) into one flat `NormalisedEvent`.

No I/O here, so the ingestion route can call it inline and the function can be fuzzed. Anything that lacks the
fields its kind needs raises `MalformedEvent` (a ValueError) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mirage_app.evolution.jids import is_group_jid, is_lid_jid, phone_from_jid

EventKind = Literal["message", "message_status", "qr", "connection", "other"]

# Event names `/webhook/set` accepts in 2.3.x (`EventController.events`); an empty list at set time means all.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "APPLICATION_STARTUP", "QRCODE_UPDATED", "MESSAGES_SET", "MESSAGES_UPSERT", "MESSAGES_EDITED",
    "MESSAGES_UPDATE", "MESSAGES_DELETE", "SEND_MESSAGE", "CONTACTS_SET", "CONTACTS_UPSERT",
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
_BAN_LIKE_REASONS = frozenset({402, 403, 406})
_LOGGED_OUT_REASON = 401


class MalformedEvent(ValueError):
    """The payload is not a usable Evolution webhook body."""


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
    # kind "message" only
    text: str | None = None
    push_name: str | None = None
    timestamp: datetime | None = None
    is_group: bool = False
    message_type: str | None = None
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


def normalise_event_name(name: object) -> str:
    """`messages.upsert`, `MESSAGES_UPSERT`, `messages-upsert` and `/messages-upsert` → `MESSAGES_UPSERT`."""
    if not isinstance(name, str):
        raise MalformedEvent(f"event name must be a string, got {type(name).__name__}")
    canonical = name.strip().strip("/").replace(".", "_").replace("-", "_").upper()
    if not canonical or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in canonical):
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
    if is_group:
        participant = _optional_str(key.get("participant"), "data.key.participant")
        author = _resolve_lid(participant, key.get("participantAlt")) if participant else None
        phone = phone_from_jid(author) if author else None
    else:
        phone = phone_from_jid(remote_jid)
    return {
        "wa_msg_id": _require_str(key.get("id"), "data.key.id"),
        "remote_jid": remote_jid,
        "phone": phone,
        "from_me": bool(_optional_bool(key.get("fromMe"), "data.key.fromMe")),
        "text": _text(data.get("message")),
        "push_name": _optional_str(data.get("pushName"), "data.pushName"),
        "timestamp": _timestamp(data.get("messageTimestamp")),
        "is_group": is_group,
        "message_type": _optional_str(data.get("messageType"), "data.messageType"),
        "status": map_status(data.get("status")),
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
        "is_ban_like": state == "close" and reason in _BAN_LIKE_REASONS,
        "logged_out": state == "close" and reason == _LOGGED_OUT_REASON,
    }


def _resolve_lid(jid: str, alt: object) -> str:
    """Prefer the phone JID Baileys 7 puts in `*Alt` when the primary one is an opaque `@lid`."""
    return alt if is_lid_jid(jid) and isinstance(alt, str) and alt else jid


def _text(message: object) -> str | None:
    if not isinstance(message, dict):
        return None
    conversation = message.get("conversation")
    if isinstance(conversation, str):
        return conversation
    extended = message.get("extendedTextMessage")
    if isinstance(extended, dict) and isinstance(extended.get("text"), str):
        return extended["text"]
    return None


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
