"""Webhook bodies copied from the Evolution reference (§4), used by the normalisation tests."""

from __future__ import annotations

from typing import Any

ENVELOPE: dict[str, Any] = {
    "destination": "https://app.example.com/evo/webhook",
    "date_time": "2025-10-21T14:06:01.532Z",
    "sender": "5511999990000@s.whatsapp.net",
    "server_url": "https://evo.example.com",
    "apikey": "5A793D2C-EF7A-4AC5-86AE-5DE05F1CCC22",
}


def body(event: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"event": event, "instance": "acme-sales", "data": data, **ENVELOPE, **extra}


UPSERT = body(
    "messages.upsert",
    {
        "key": {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "3A554E20ECABF3D45BB2"},
        "pushName": "Maria",
        "status": "DELIVERY_ACK",
        "message": {
            "conversation": "Oi, tudo bem?",
            "messageContextInfo": {"deviceListMetadataVersion": 2, "messageSecret": "..."},
        },
        "messageType": "conversation",
        "messageTimestamp": 1761055561,
        "instanceId": "0b8a5c1e-6f43-4b0e-9d0b-3f3c8d1f2a77",
        "source": "android",
    },
)

UPSERT_LID = body(
    "messages.upsert",
    {
        "key": {
            "remoteJid": "232366454870257@lid",
            "remoteJidAlt": "5511997529604@s.whatsapp.net",
            "addressingMode": "lid",
            "fromMe": False,
            "id": "3A11",
        },
        "pushName": "João",
        "status": "DELIVERY_ACK",
        "message": {"conversation": "oi"},
        "messageType": "conversation",
        "messageTimestamp": 1761055561,
        "source": "ios",
    },
)

UPSERT_V1_EXTENDED = body(  # the real 1.8 shape: extendedTextMessage, string timestamp, `owner`
    "messages.upsert",
    {
        "key": {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "BAE5F1"},
        "pushName": "tigo",
        "message": {"extendedTextMessage": {"text": "typed on the phone"}},
        "messageType": "extendedTextMessage",
        "messageTimestamp": "1717689097",
        "owner": "tigo1",
    },
)

UPSERT_GROUP = body(
    "messages.upsert",
    {
        "key": {
            "remoteJid": "120363029388654192@g.us",
            "fromMe": False,
            "id": "3A99",
            "participant": "99887766554433@lid",
            "participantAlt": "5511977776666@s.whatsapp.net",
        },
        "pushName": "Ana",
        "message": {"conversation": "bom dia grupo"},
        "messageType": "conversation",
        "messageTimestamp": {"low": 1761055561, "high": 0, "unsigned": False},
    },
)

SEND_MESSAGE = body(
    "send.message",
    {
        "key": {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "3EB02BDF6F19D73AB79438"},
        "pushName": "Você",
        "status": "PENDING",
        "message": {"conversation": "Hello from the API"},
        "contextInfo": {"mentionedJid": [], "groupMentions": []},
        "messageType": "conversation",
        "messageTimestamp": 1772167051,
        "instanceId": "0b8a5c1e-6f43-4b0e-9d0b-3f3c8d1f2a77",
        "source": "web",
    },
)


def status_update(status: str) -> dict[str, Any]:
    return body(
        "messages.update",
        {
            "keyId": "3EB02BDF6F19D73AB79438",
            "remoteJid": "5511988887777@s.whatsapp.net",
            "fromMe": True,
            "status": status,
            "instanceId": "0b8a5c1e-6f43-4b0e-9d0b-3f3c8d1f2a77",
            "messageId": "cmfyoow42000hov4xwkdug3lv",
        },
    )


QR = {  # no `sender` before the first login
    "event": "qrcode.updated",
    "instance": "acme-sales",
    "data": {
        "qrcode": {
            "instance": "acme-sales",
            "pairingCode": None,
            "code": "2@y8eK...,...",
            "base64": "data:image/png;base64,iVBORw0KGgo...",
        }
    },
    "destination": "https://app.example.com/evo/webhook",
    "date_time": "2025-10-21T14:00:06.101Z",
    "server_url": "https://evo.example.com",
    "apikey": None,
}

QR_LIMIT = body("qrcode.updated", {"message": "QR code limit reached, please login again", "statusCode": 500})

CONNECTING = body("connection.update", {"instance": "acme-sales", "state": "connecting", "statusReason": 200})
OPEN = body(
    "connection.update",
    {
        "instance": "acme-sales",
        "wuid": "5511999990000@s.whatsapp.net",
        "profileName": "Acme Sales",
        "profilePictureUrl": "https://pps.whatsapp.net/x",
        "state": "open",
        "statusReason": 200,
    },
)
REFUSED = body("connection.update", {"instance": "acme-sales", "state": "refused", "statusReason": 428})


def closed(reason: int) -> dict[str, Any]:
    return body("connection.update", {"instance": "acme-sales", "state": "close", "statusReason": reason})


STATUS_INSTANCE = body(
    "status.instance",
    {"instance": "acme-sales", "status": "closed", "disconnectionReasonCode": 401, "disconnectionObject": "{}"},
)
LOGOUT = body("logout.instance", None)
PRESENCE = body(
    "presence.update",
    {
        "id": "5511988887777@s.whatsapp.net",
        "presences": {"5511988887777@s.whatsapp.net": {"lastKnownPresence": "composing"}},
    },
)
