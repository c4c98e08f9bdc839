"""Rich-action webhook bodies shaped as in the rich-actions reference (§11.4, §12, §13.9)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tests.evolution.reference_payloads import body

PEER = "5511988887777@s.whatsapp.net"
GROUP = "120363401234567890@g.us"
SHA = hashlib.sha256(b"picture").digest()
INDEX_SHA = {str(i): b for i, b in enumerate(SHA)}
CONTEXT = {
    "mentionedJid": [],
    "groupMentions": [],
    "ephemeralSettingTimestamp": {"low": 1772053485, "high": 0, "unsigned": False},
    "disappearingMode": {"initiator": 0},
}


def message(key: dict[str, Any], content: dict[str, Any], kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "pushName": "Maria",
        "status": "DELIVERY_ACK",
        "message": content,
        "messageType": kind,
        "messageTimestamp": 1772226286,
        "instanceId": "0b8a5c1e-6f43-4b0e-9d0b-3f3c8d1f2a77",
        "source": "web",
        **extra,
    }


RECEIVED = {"remoteJid": PEER, "fromMe": False, "id": "3EB07F687BA29993B52BA3"}
SENT = {"remoteJid": PEER, "fromMe": True, "id": "3EB07F687BA29993B52BA4"}
IMAGE = {
    "url": "https://mmg.whatsapp.net/o1/v/t24/f2/m234/AQPya7M8",
    "mimetype": "image/jpeg",
    "caption": "olha que fofo",
    "fileSha256": INDEX_SHA,
    "fileLength": {"low": 262748, "high": 0, "unsigned": True},
    "height": 893,
    "width": 1600,
    "mediaKey": {"0": 146, "1": 129},
    "contextInfo": CONTEXT,
}

SENT_IMAGE = body("send.message", message(SENT, {"imageMessage": IMAGE}, "imageMessage", contextInfo=CONTEXT))
RECEIVED_IMAGE_B64 = body(
    "messages.upsert",
    message(
        RECEIVED,
        {"imageMessage": IMAGE | {"fileSha256": base64.b64encode(SHA).decode()}, "base64": "aGVsbG8="},
        "imageMessage",
    ),
)
VOICE = {
    "mimetype": "audio/ogg; codecs=opus",
    "fileSha256": INDEX_SHA,
    "fileLength": {"low": 11339, "high": 0, "unsigned": True},
    "seconds": 8,
    "ptt": True,
    "waveform": {"0": 0, "1": 6},
}
RECEIVED_VOICE = body("messages.upsert", message(RECEIVED, {"audioMessage": VOICE}, "audioMessage"))
RECEIVED_AUDIO = body("messages.upsert", message(RECEIVED, {"audioMessage": VOICE | {"ptt": False}}, "audioMessage"))
RECEIVED_STICKER = body(
    "messages.upsert",
    message(RECEIVED, {"stickerMessage": {"mimetype": "image/webp", "fileSha256": INDEX_SHA}}, "stickerMessage"),
)
SENT_REACTION = body(
    "send.message",
    message(
        {"remoteJid": PEER, "fromMe": True, "id": "3EB0C431D5A3E5D2F1A9B4"},
        {"reactionMessage": {"key": RECEIVED, "text": "👍", "senderTimestampMs": 1733412345678}},
        "reactionMessage",
    ),
)
RECEIVED_REACTION_REMOVED = body(
    "messages.upsert",
    message(
        RECEIVED,
        {
            "reactionMessage": {
                "key": SENT,
                "text": "",
                "senderTimestampMs": {"low": -1754441906, "high": 403, "unsigned": False},
            }
        },
        "reactionMessage",
    ),
)
QUOTE = {"stanzaId": "3EB0B5C72FAD50804DAF26", "participant": PEER, "quotedMessage": {"conversation": "vamos marcar?"}}
RECEIVED_QUOTE = body(
    "messages.upsert",
    message(RECEIVED, {"conversation": "sim, pode ser amanhã"}, "conversation", contextInfo=CONTEXT | QUOTE),
)
QUOTED_IMAGE = {"imageMessage": {"caption": "a foto", "mimetype": "image/jpeg"}}
RECEIVED_STICKER_QUOTING_IMAGE = body(
    "messages.upsert",
    message(
        RECEIVED,
        {"stickerMessage": {"mimetype": "image/webp", "contextInfo": QUOTE | {"quotedMessage": QUOTED_IMAGE}}},
        "stickerMessage",
    ),
)
RECEIVED_LOCATION = body(
    "messages.upsert",
    message(
        RECEIVED,
        {"locationMessage": {"degreesLatitude": -23.55, "degreesLongitude": -46.63, "name": "Sé", "address": "SP"}},
        "locationMessage",
    ),
)
VCARD = "BEGIN:VCARD\nVERSION:3.0\nN:Ana\nFN:Ana\nitem1.TEL;waid=5511977776666:+55 11 97777-6666\nEND:VCARD"
RECEIVED_CONTACT = body(
    "messages.upsert",
    message(RECEIVED, {"contactMessage": {"displayName": "Ana", "vcard": VCARD}}, "contactMessage"),
)
RECEIVED_DOCUMENT = body(
    "messages.upsert",
    message(
        RECEIVED,
        {"documentMessage": {"fileName": "r.pdf", "mimetype": "application/pdf", "caption": "o relatório"}},
        "documentMessage",
    ),
)
RECEIVED_POLL = body(
    "messages.upsert",
    message(RECEIVED, {"pollCreationMessageV3": {"name": "Pizza?", "options": []}}, "pollCreationMessageV3"),
)
GROUP_KEY = {
    "remoteJid": GROUP,
    "fromMe": False,
    "id": "3EB0E7F1A2B3C4D5E6F7A8",
    "participant": "123456789012345@lid",
    "participantAlt": "5511999990000@s.whatsapp.net",
    "addressingMode": "lid",
}
GROUP_VOICE = body("messages.upsert", message(GROUP_KEY, {"audioMessage": VOICE}, "audioMessage"))
GROUP_SENT_TEXT = body(
    "send.message",
    message({"remoteJid": GROUP, "fromMe": True, "id": "3EB0AA"}, {"conversation": "oi"}, "conversation"),
)
STATUS_KEY = {"remoteJid": "status@broadcast", "fromMe": False, "id": "3EB0ST", "participant": PEER}
RECEIVED_STATUS = body("messages.upsert", message(STATUS_KEY, {"conversation": "bom dia ☀️"}, "conversation"))
EDITED = body(
    "messages.edited",
    {
        "key": {"remoteJid": PEER, "fromMe": True, "id": "3EB0D2E1F0A9B8C7D6E5F4"},
        "type": "MESSAGE_EDIT",
        "editedMessage": {"extendedTextMessage": {"text": "sim, depois de amanhã"}},
        "timestampMs": "1733412460123",
    },
)
REVOKED = body(
    "messages.edited", {"key": {"remoteJid": PEER, "fromMe": True, "id": "3EB0D2E1F0A9B8C7D6E5F4"}, "type": "REVOKE"}
)
SEND_MESSAGE_UPDATE = body(
    "send.message.update",
    {
        "key": {"remoteJid": PEER, "fromMe": True, "id": "3EB0D2E1F0A9B8C7D6E5F4"},
        "editedMessage": {"extendedTextMessage": {"text": "sim, depois de amanhã"}},
        "timestampMs": 1733412460123,
        "type": 14,
    },
)
DELETE_SENDER = body(
    "messages.delete",
    {
        "id": "cm4xrow",
        "instanceId": "0b8a",
        "key": {"remoteJid": PEER, "fromMe": True, "id": "3EB0D2E1F0A9B8C7D6E5F4", "deleted": True},
        "messageType": "conversation",
        "status": "DELETED",
        "message": {"conversation": "x"},
    },
)
DELETE_RECEIVER = body(
    "messages.delete",
    {
        "id": "3EB0D2E1F0A9B8C7D6E5F4",
        "fromMe": False,
        "remoteJid": "232366454870257@lid",
        "remoteJidAlt": "5511999990000@s.whatsapp.net",
        "status": "DELETED",
    },
)
GROUP_META = {
    "id": GROUP,
    "addressingMode": "lid",
    "subject": "Warm A",
    "owner": "123456789012345@lid",
    "ownerPn": "5511999990000@s.whatsapp.net",
    "size": 2,
    "participants": [
        {"id": "123456789012345@lid", "phoneNumber": "5511999990000@s.whatsapp.net", "admin": "superadmin"},
        {"id": "987654321098765@lid", "phoneNumber": PEER, "admin": None},
    ],
}
GROUPS_UPSERT = body(
    "groups.upsert", [GROUP_META | {"author": "123456789012345@lid", "authorPn": "5511999990000@s.whatsapp.net"}]
)
ADDED = {"id": "555666777888999@lid", "phoneNumber": "5511977776666@s.whatsapp.net", "admin": None}
PARTICIPANTS_UPDATE = body(
    "group-participants.update",
    {
        "id": GROUP,
        "author": "123456789012345@lid",
        "authorPn": "5511999990000@s.whatsapp.net",
        "participants": [ADDED],
        "action": "add",
        "participantsData": [{"jid": ADDED, "phoneNumber": "[object Object]"}],
    },
)
ALL = [
    SENT_IMAGE, RECEIVED_IMAGE_B64, RECEIVED_VOICE, RECEIVED_AUDIO, RECEIVED_STICKER, SENT_REACTION,
    RECEIVED_REACTION_REMOVED, RECEIVED_QUOTE, RECEIVED_STICKER_QUOTING_IMAGE, RECEIVED_LOCATION, RECEIVED_CONTACT,
    RECEIVED_DOCUMENT, RECEIVED_POLL, GROUP_VOICE, GROUP_SENT_TEXT, RECEIVED_STATUS, EDITED, REVOKED,
    SEND_MESSAGE_UPDATE, DELETE_SENDER, DELETE_RECEIVER, GROUPS_UPSERT, PARTICIPANTS_UPDATE,
]  # fmt: skip
