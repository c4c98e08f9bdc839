"""sendReaction (reference §12.4): one emoji or "" on a message key, with the receiver's key normalised.

No delay, no presence, no acks; Evolution does not check that the target message exists. The recipient check
runs on `key.remoteJid`: a phone must be on WhatsApp, a group must have the sender as a member, `@lid` passes.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from mirage_app.evolution.jids import phone_from_jid, user_jid
from mirage_app.evolution.simulator import envelope, inbound, media, payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.messaging import Messaging
from mirage_app.evolution.simulator.models import SimInstance, SimMessage
from mirage_app.evolution.simulator.rich import require_member
from mirage_app.evolution.simulator.rich_schemas import REACTION_MESSAGE
from mirage_app.evolution.simulator.validation import check

_MODIFIERS = frozenset({0xFE0E, 0xFE0F, 0x20E3})
_ZWJ = 0x200D


def is_single_emoji(text: str) -> bool:
    """emoji-regex's "exactly one emoji": 👍🏽, ❤️, 🇧🇷, 👨‍👩‍👧, 1️⃣, © pass; 👍👍, " 👍" and "a" do not."""
    bases = 0
    joined = False
    regional = 0
    keycap = 0x20E3 in map(ord, text)
    for char in text:
        point = ord(char)
        if point in _MODIFIERS or 0x1F3FB <= point <= 0x1F3FF or 0xE0020 <= point <= 0xE007F:
            continue
        if point == _ZWJ:
            joined = True
            continue
        if 0x1F1E6 <= point <= 0x1F1FF:  # a flag is a pair of regional indicators
            regional += 1
            if regional % 2 == 1 and not joined:
                bases += 1
        elif _is_pictograph(char) or (keycap and char in "0123456789#*"):
            if not joined:
                bases += 1
        else:
            return False
        joined = False
    return bases == 1


def _is_pictograph(char: str) -> bool:
    point = ord(char)
    return point in (0xA9, 0xAE) or point >= 0x1F000 or (point >= 0x2000 and unicodedata.category(char) == "So")


class Reactions:
    def __init__(self, core: SimCore, messaging: Messaging) -> None:
        self._core = core
        self._messaging = messaging

    def send(self, name: str, body: Any) -> dict[str, Any]:
        check(body, REACTION_MESSAGE)
        reaction = body["reaction"]
        if reaction and not is_single_emoji(reaction):
            raise envelope.bad_request("Reaction must be a single emoji or empty string")
        core = self._core
        with core.lock:
            inst = self._messaging.require_socket(name)
            target_key = body["key"]
            chat = target_key["remoteJid"]
            group = chat if chat.endswith("@g.us") else None
            phone: str | None = None
            if group is not None:
                require_member(core, inst, group)
            elif not chat.endswith("@lid"):
                phone, chat = self._messaging.recipient(chat)
            now = core.now()
            key_id = core.ids.web_message_id()
            inner = dict(target_key)
            message = {
                "reactionMessage": {"key": inner, "text": reaction, "senderTimestampMs": int(now.timestamp() * 1000)}
            }
            raw = payloads.message_raw(inst, chat, key_id, "", now, None)
            raw.pop("contextInfo")
            raw |= {"message": message, "messageType": "reactionMessage"}
            core.messages.append(
                SimMessage(inst.name, key_id, True, phone or "", "", now, message_type="reactionMessage",
                           chat_jid=group, author_phone=inst.phone, message=message)
            )  # fmt: skip
            core.emit(inst, "send.message", raw)
            sender = inst.phone or ""
            if group is not None:
                self._to_group(inst, group, key_id, inner, reaction)
            elif phone is not None:
                core.dispatcher.call_later(
                    core.config.ack_delays_s[1], lambda: self._to_peer(sender, phone, key_id, inner, reaction)
                )
            return raw

    def _to_peer(self, sender: str, phone: str, key_id: str, inner: dict[str, Any], reaction: str) -> None:
        core = self._core
        with core.lock:
            owner = core.network.owner_instance(phone)
            if owner is None:
                return
            target_core, target = owner
            # Baileys normalises the inner key to the receiver's view: its own message is `fromMe`
            seen = {"remoteJid": user_jid(sender), "fromMe": not inner.get("fromMe"), "id": inner["id"]}
            key = inbound.direct_key(target_core, sender, key_id, False)
            target_core.when_open(target, lambda: self._arrive(target_core, target, key, sender, seen, reaction, None))

    def _to_group(self, inst: SimInstance, group_jid: str, key_id: str, inner: dict[str, Any], reaction: str) -> None:
        core = self._core
        group = core.network.groups[group_jid]
        sender = inst.phone or ""
        author = sender if inner.get("fromMe") else phone_from_jid(str(inner.get("participant", ""))) or ""
        for phone in list(group.participants):
            owner = core.network.owner_instance(phone) if phone != sender else None
            if owner is None:
                continue
            target_core, target = owner
            seen = {"remoteJid": group_jid, "fromMe": author == phone, "id": inner["id"]}
            if author:
                seen["participant"] = user_jid(author)
            key = inbound.group_key(target_core, group_jid, sender, key_id)

            def arrive(tc: SimCore = target_core, t: SimInstance = target, k: Any = key, s: Any = seen) -> None:
                self._arrive(tc, t, k, sender, s, reaction, group_jid)

            target_core.when_open(target, arrive)

    def _arrive(
        self,
        core: SimCore,
        target: SimInstance,
        key: dict[str, Any],
        sender: str,
        seen: dict[str, Any],
        reaction: str,
        group: str | None,
    ) -> None:
        stamp_ms = int(core.now().timestamp() * 1000)
        message = {
            "reactionMessage": {"key": seen, "text": reaction, "senderTimestampMs": media.long_value(stamp_ms, False)}
        }
        record = SimMessage(
            target.name, key["id"], False, sender if group is None else "", "", core.now(),
            message_type="reactionMessage", chat_jid=group, author_phone=sender, message=message,
        )  # fmt: skip
        inbound.deliver(core, target, key, core.display_name(sender), message, "reactionMessage", record)
