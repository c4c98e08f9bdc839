"""`/chat/updateMessage` (reference §12.10): edit a sent text; Evolution answers with the raw Baileys WAMessage.

Webhooks: `send.message.update` at the sender (the protocolMessage as a plain object, type 14), and at every
receiver `messages.edited` (protobuf toJSON: enum names, longs as strings) then `messages.update` SERVER_ACK
carrying the new content. There is no `messages.upsert` for an edit.
"""

from __future__ import annotations

from typing import Any

from mirage_app.evolution.jids import user_jid
from mirage_app.evolution.simulator import envelope, inbound
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.ids import canonical_phone
from mirage_app.evolution.simulator.messaging import Messaging
from mirage_app.evolution.simulator.models import SimInstance, SimMessage
from mirage_app.evolution.simulator.rich import group_jid_of
from mirage_app.evolution.simulator.rich_schemas import UPDATE_MESSAGE
from mirage_app.evolution.simulator.validation import check

EDITABLE = frozenset({"conversation", "extendedTextMessage", "imageMessage", "videoMessage"})
MESSAGE_EDIT = 14


class Edits:
    def __init__(self, core: SimCore, messaging: Messaging) -> None:
        self._core = core
        self._messaging = messaging

    def update(self, name: str, body: Any) -> dict[str, Any]:
        check(body, UPDATE_MESSAGE)
        if not isinstance(body.get("number"), str):
            raise envelope.runtime_error("Cannot read properties of undefined (reading 'replace')")
        if set(body) <= {"number", "text", "key"} and body.get("text") == "":
            raise envelope.validation_failed(['The "text" cannot be empty'])
        core = self._core
        with core.lock:
            inst = self._messaging.require_socket(name)
            key = body.get("key") or {}
            original = inbound.find_message(core, name, key.get("id"))
            if original is None or original.message_type not in EDITABLE:
                raise envelope.bad_request("Message not compatible")
            chat = original.chat_jid or user_jid(original.peer_phone)
            if chat != (group_jid_of(body["number"]) or user_jid(canonical_phone(body["number"]))):
                raise envelope.bad_request("RemoteJid does not match")
            text = body.get("text", "")
            now = core.now()
            stamp_ms = int(now.timestamp() * 1000)
            target = {"remoteJid": chat, "fromMe": original.from_me, "id": original.key_id}
            edited = {"extendedTextMessage": {"text": text}}
            core.emit(
                inst,
                "send.message.update",
                {"key": target, "editedMessage": edited, "timestampMs": stamp_ms, "type": MESSAGE_EDIT},
            )
            wa_message = {
                "key": {"remoteJid": chat, "fromMe": True, "id": core.ids.web_message_id()},
                "message": {
                    "protocolMessage": {
                        "key": target,
                        "type": "MESSAGE_EDIT",
                        "editedMessage": edited,
                        "timestampMs": str(stamp_ms),
                    }
                },
                "messageTimestamp": str(int(now.timestamp())),
                "status": "PENDING",
            }
            if not original.from_me:  # checked after the edit went out (reference §12.10)
                raise envelope.bad_request("You cannot edit others messages")
            original.edited_text = text
            self._to_receivers(inst, original, target, edited, stamp_ms)
            return wa_message

    def _to_receivers(
        self, inst: SimInstance, original: SimMessage, target: dict[str, Any], edited: dict[str, Any], stamp_ms: int
    ) -> None:
        """The edit follows the original on the same timeline, so it never overtakes it."""
        core = self._core
        group = core.network.groups.get(original.chat_jid or "")
        phones = [p for p in group.participants if p != inst.phone] if group else [original.peer_phone]
        text = edited["extendedTextMessage"]["text"]
        protocol = {"key": target, "type": "MESSAGE_EDIT", "editedMessage": edited, "timestampMs": str(stamp_ms)}
        for phone in phones:
            owner = core.network.owner_instance(phone)
            if owner is None:
                continue
            received_core, receiver = owner

            def arrive(rc: SimCore = received_core, r: SimInstance = receiver) -> None:
                copy = inbound.find_message(rc, r.name, original.key_id)
                if copy is not None:
                    copy.edited_text = text
                rc.emit(r, "messages.edited", protocol)
                update = {
                    "keyId": original.key_id,
                    "remoteJid": original.chat_jid or user_jid(inst.phone or ""),
                    "fromMe": False,
                    "status": "SERVER_ACK",
                    "message": {"editedMessage": {"message": {"conversation": text}}},
                    "instanceId": r.instance_id,
                    "messageId": rc.ids.cuid(),
                }
                rc.emit(r, "messages.update", update)

            delay = core.config.ack_delays_s[1]
            core.dispatcher.call_later(delay, lambda rc=received_core, r=receiver, go=arrive: rc.when_open(r, go))
