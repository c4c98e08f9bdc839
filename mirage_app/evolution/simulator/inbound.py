"""What a receiving instance sees: `messages.upsert` keys for 1:1, group and status chats, quotes, and the record.

Shared by plain texts (`messaging`), rich sends (`rich`) and simulated humans (`humans`).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mirage_app.evolution.jids import user_jid
from mirage_app.evolution.simulator import payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.ids import device_of
from mirage_app.evolution.simulator.models import SimInstance, SimMessage

STATUS_JID = "status@broadcast"


def direct_key(core: SimCore, phone: str, key_id: str, lid: bool) -> dict[str, Any]:
    """A 1:1 key at the receiver: the sender's phone JID, or `@lid` plus `remoteJidAlt`."""
    jid = user_jid(phone)
    if not lid:
        return {"remoteJid": jid, "fromMe": False, "id": key_id}
    return {
        "remoteJid": f"{core.lid_for(phone)}@lid",
        "remoteJidAlt": jid,
        "addressingMode": "lid",
        "fromMe": False,
        "id": key_id,
    }


def group_key(core: SimCore, group_jid: str, author: str, key_id: str) -> dict[str, Any]:
    """Baileys 7 group key (reference §13.9): the author as `@lid` with the phone JID in `participantAlt`."""
    return {
        "remoteJid": group_jid,
        "fromMe": False,
        "id": key_id,
        "participant": f"{core.lid_for(author)}@lid",
        "participantAlt": user_jid(author),
        "addressingMode": "lid",
    }


def status_key(author: str, key_id: str) -> dict[str, Any]:
    return {"remoteJid": STATUS_JID, "fromMe": False, "id": key_id, "participant": user_jid(author)}


def sender_context(at: datetime) -> dict[str, Any]:
    """The contextInfo Evolution injects into 1:1 sends (reference §11.1)."""
    return {
        "mentionedJid": [],
        "groupMentions": [],
        "ephemeralSettingTimestamp": {"low": int(at.timestamp()) - 172800, "high": 0, "unsigned": False},
        "disappearingMode": {"initiator": 0},
    }


def quote_context(core: SimCore, inst: SimInstance, quoted: Any, dest_jid: str) -> dict[str, Any] | None:
    """`contextInfo` quote fields as Baileys builds them (reference §12.5); None when nothing can be quoted.

    With `quoted.message` the key is used as given; with the key alone the stored message is looked up and the
    quote is dropped silently when it is unknown."""
    if not isinstance(quoted, dict) or not isinstance(quoted.get("key"), dict):
        return None
    key = quoted["key"]
    message = quoted.get("message")
    if not isinstance(message, dict):
        stored = find_message(core, inst.name, key.get("id"))
        if stored is None or stored.message is None:
            return None
        key = {
            "id": stored.key_id,
            "fromMe": stored.from_me,
            "remoteJid": stored.chat_jid or user_jid(stored.peer_phone),
        }
        message = stored.message
    if key.get("fromMe"):
        participant = inst.jid or ""
    else:
        participant = quoted.get("participant") or key.get("participant") or key.get("remoteJid") or ""
    context: dict[str, Any] = {
        "stanzaId": key.get("id"),
        "participant": participant,
        "quotedMessage": strip_context(message),
    }
    if key.get("remoteJid") and key["remoteJid"] != dest_jid:
        context["remoteJid"] = key["remoteJid"]
    return context


def strip_context(message: dict[str, Any]) -> dict[str, Any]:
    """The quoted content without its own contextInfo; an extendedTextMessage is folded into `conversation`."""
    out: dict[str, Any] = {}
    for kind, content in message.items():
        if kind == "extendedTextMessage" and isinstance(content, dict):
            out["conversation"] = content.get("text", "")
        elif isinstance(content, dict):
            out[kind] = {k: v for k, v in content.items() if k != "contextInfo"}
        elif kind == "conversation":
            out[kind] = content
    return out


def find_message(core: SimCore, instance: str, key_id: Any) -> SimMessage | None:
    if not isinstance(key_id, str):
        return None
    return next((m for m in reversed(core.messages) if m.instance == instance and m.key_id == key_id), None)


def deliver(
    core: SimCore,
    inst: SimInstance,
    key: dict[str, Any],
    push_name: str,
    message: dict[str, Any],
    message_type: str,
    record: SimMessage,
    context: dict[str, Any] | None = None,
    media_b64: str | None = None,
) -> None:
    """Emit `messages.upsert` (+ `contacts.upsert`) at `inst` and log the reception."""
    with core.lock:
        now = core.now()
        data = payloads.upsert_data(inst, key, push_name, "", now, device_of(key["id"]))
        data["message"] = copy.deepcopy(message)
        data["messageType"] = message_type
        if context:
            data["contextInfo"] = context
        if media_b64 is not None and base64_on(inst):
            data["message"]["base64"] = media_b64
        core.messages.append(record)
        core.emit(inst, "messages.upsert", data)
        contact = {"remoteJid": key["remoteJid"], "pushName": push_name, "profilePicUrl": None}
        core.emit(inst, "contacts.upsert", contact | {"instanceId": inst.instance_id})


def base64_on(inst: SimInstance) -> bool:
    """Webhook base64 (`webhookBase64`): Evolution adds `message.base64` to media (reference §11.5)."""
    return inst.webhook is not None and inst.webhook.enabled and inst.webhook.base64
