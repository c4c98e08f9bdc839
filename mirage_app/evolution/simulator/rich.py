"""Rich sends (reference §11–§12): media, voice notes, stickers, locations, contacts, and texts to groups.

Each route validates in Evolution's order (schema → controller checks → media preparation → socket and
recipient), then waits its `delay` (see `pacing`), then commits: `send.message` at the sender, acks, and the
reception at every receiving instance (1:1 peer or every other group member) with the key shape it would see.
1:1 acks are SERVER_ACK → DELIVERY_ACK → READ (→ PLAYED for voice notes); group sends get SERVER_ACK only,
since per-participant receipts have no webhook.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from mirage_app.evolution.errors import OBJECT_OBJECT
from mirage_app.evolution.jids import user_jid
from mirage_app.evolution.simulator import envelope, humans, inbound, media, payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.media import Media
from mirage_app.evolution.simulator.messaging import Messaging
from mirage_app.evolution.simulator.models import SimInstance, SimMessage
from mirage_app.evolution.simulator.rich_schemas import (
    AUDIO_MESSAGE,
    CONTACT_MESSAGE,
    LOCATION_MESSAGE,
    MEDIA_MESSAGE,
    STICKER_MESSAGE,
)
from mirage_app.evolution.simulator.validation import TEXT_MESSAGE, check

_LONG_GROUP = re.compile(r"^\d{18,}$")


@dataclass
class RichSend:
    """A validated rich send, waiting for its delay before it is committed."""

    instance: str
    chat_jid: str  # where it goes: the peer's phone JID or the group JID
    phone: str | None  # 1:1 peer
    group: str | None  # group JID
    message: dict[str, Any]  # the content as the sender's `messageRaw` shows it
    message_type: str
    delay_ms: int | None
    text: str = ""  # text or caption, for the log
    media: Media | None = None
    presence: str = "composing"  # shown during the delay
    quote: dict[str, Any] | None = None


class RichMessaging:
    def __init__(self, core: SimCore, messaging: Messaging) -> None:
        self._core = core
        self._messaging = messaging

    # -- routes -----------------------------------------------------------------------------------------------

    def prepare_group_text(self, name: str, body: Any) -> RichSend:
        """sendText to a group JID (1:1 texts keep `Messaging.prepare_text`)."""
        check(body, TEXT_MESSAGE)
        if not body["text"].strip():
            raise envelope.bad_request("Text is required")
        send = self._target(name, body, {"conversation": body["text"]}, "conversation")
        send.text = body["text"]
        return send

    def prepare_media(self, name: str, body: Any) -> RichSend:
        check(body, MEDIA_MESSAGE)
        value = media.accept(body.get("media"), "Owned media must be a url or base64")
        mediatype = body["mediatype"]
        file_name = body.get("fileName")
        if mediatype == "document" and media.is_base64(value) and not file_name:
            raise envelope.bad_request("For base64 the file name must be informed.")
        if mediatype == "image":
            prepared = media.image(value)
            if file_name:  # `mimeTypes.lookup(fileName)` overwrites the mimetype, even of the JPEG (§12.1)
                prepared = dataclasses.replace(prepared, mimetype=media.mime_lookup(file_name))
        else:
            prepared = media.other(value, mediatype, body.get("mimetype"), file_name)
        content = self._media_content(prepared, mediatype)
        caption = body.get("caption")
        if caption and mediatype != "audio":
            content["caption"] = caption
        if mediatype == "document":
            content["fileName"] = file_name or "file"
        if mediatype == "video":
            content["gifPlayback"] = False
        send = self._target(name, body, {f"{mediatype}Message": content}, f"{mediatype}Message", prepared)
        send.text = caption or ""
        return send

    def prepare_voice(self, name: str, body: Any) -> RichSend:
        check(body, AUDIO_MESSAGE)
        value = media.accept(body.get("audio"), "Owned media must be a url, base64, or valid file with buffer")
        prepared = media.voice(value)
        content = self._media_content(prepared, "voice")
        send = self._target(name, dict(body, quoted=None), {"audioMessage": content}, "audioMessage", prepared)
        send.presence = "recording"
        return send

    def prepare_sticker(self, name: str, body: Any) -> RichSend:
        check(body, STICKER_MESSAGE)
        value = media.accept(body.get("sticker"), "Owned media must be a url or base64")
        prepared = media.sticker(value)
        content = self._media_content(prepared, "sticker")
        return self._target(name, body, {"stickerMessage": content}, "stickerMessage", prepared)

    def prepare_location(self, name: str, body: Any) -> RichSend:
        check(body, LOCATION_MESSAGE)
        content = {
            "degreesLatitude": body["latitude"],
            "degreesLongitude": body["longitude"],
            "name": body["name"],
            "address": body["address"],
        }
        return self._target(name, body, {"locationMessage": content}, "locationMessage")

    def prepare_contact(self, name: str, body: Any) -> RichSend:
        """sendContact ignores `delay` and `quoted` (its options are `{}`)."""
        check(body, CONTACT_MESSAGE)
        cards = [{"displayName": c["fullName"], "vcard": vcard(c)} for c in body["contact"]]
        if len(cards) == 1:
            message, kind = {"contactMessage": cards[0]}, "contactMessage"
        else:
            message = {"contactsArrayMessage": {"displayName": f"{len(cards)} contacts", "contacts": cards}}
            kind = "contactsArrayMessage"
        send = self._target(name, {"number": body["number"]}, message, kind)
        send.presence = ""
        return send

    def commit(self, send: RichSend) -> dict[str, Any]:
        """Send it: record, emit `send.message`, schedule acks and receptions. Returns the 201 body."""
        core = self._core
        with core.lock:
            inst = self._messaging.require_socket(send.instance)
            now = core.now()
            key_id = core.ids.web_message_id()
            message = copy.deepcopy(send.message)
            context = inbound.sender_context(now) if send.group is None else None
            if send.quote:
                context = (context or {}) | send.quote
            content = next(iter(message.values()))
            if context and isinstance(content, dict):
                content["contextInfo"] = context
            raw = payloads.message_raw(inst, send.chat_jid, key_id, "", now, None)
            raw["message"] = message
            raw["messageType"] = send.message_type
            if context:
                raw["contextInfo"] = context
            else:
                raw.pop("contextInfo")
            if send.media is not None and inbound.base64_on(inst):
                raw["message"]["base64"] = media.encode(send.media.data)
            core.messages.append(self._record(inst.name, key_id, True, send, inst.phone or "", now))
            core.emit(inst, "send.message", raw)
            self._fan_out(inst, send, key_id)
            return raw

    # -- internals --------------------------------------------------------------------------------------------

    def _target(
        self, name: str, body: dict[str, Any], message: dict[str, Any], kind: str, prepared: Media | None = None
    ) -> RichSend:
        core = self._core
        with core.lock:
            inst = self._messaging.require_socket(name)
            number = body["number"]
            delay = body.get("delay")
            group = group_jid_of(number)
            if group is not None:
                require_member(core, inst, group)
                phone, chat = None, group
            else:
                phone, chat = self._messaging.recipient(number)
            quote = inbound.quote_context(core, inst, body.get("quoted"), chat)
            return RichSend(
                name,
                chat,
                phone,
                group,
                message,
                kind,
                int(delay) if delay is not None else None,
                media=prepared,
                quote=quote,
            )

    def _media_content(self, prepared: Media, mediatype: str) -> dict[str, Any]:
        core = self._core
        with core.lock:
            key_material = core.rng.randbytes(32)
            url_hex = core.ids.phone_message_id()
            stamp = int(core.now().timestamp())
        return media.message_object(prepared, mediatype, stamp=stamp, key_material=key_material, url_hex=url_hex)

    def _record(
        self, instance: str, key_id: str, from_me: bool, send: RichSend, author: str, at: Any, lid: bool = False
    ) -> SimMessage:
        prepared = send.media
        return SimMessage(
            instance,
            key_id,
            from_me,
            send.phone or "",
            send.text,
            at,
            send.delay_ms if from_me else None,
            lid=lid,
            message_type=send.message_type,
            chat_jid=send.group,
            author_phone=author,
            media_sha256=prepared.sha256.hex() if prepared else None,
            media_size=prepared.size if prepared else None,
            message=copy.deepcopy(send.message),
        )

    def _fan_out(self, inst: SimInstance, send: RichSend, key_id: str) -> None:
        core = self._core
        server_ack_s, delivered_s, read_s = core.config.ack_delays_s
        sender_name, sender_phone = inst.name, inst.phone or ""

        def receipt(status: str) -> None:
            with core.lock:
                sender = core.instances.get(sender_name)
                if sender is not None:
                    update = payloads.update_data(sender, key_id, send.chat_jid, status, core.ids.cuid())
                    core.emit(sender, "messages.update", update)

        core.dispatcher.call_later(server_ack_s, lambda: receipt("SERVER_ACK"))
        if send.group is not None:
            core.dispatcher.call_later(delivered_s, lambda: self._to_group(send, sender_phone, key_id))
            return

        def read_and_answer() -> None:
            receipt("READ")
            if send.message_type == "audioMessage":
                receipt("PLAYED")
            humans.answer(core, sender_name, send.phone or "", key_id, send.message)

        def delivered() -> None:
            receipt("DELIVERY_ACK")
            core.dispatcher.call_later(max(0.0, read_s - delivered_s), read_and_answer)

        def hand_over() -> None:
            with core.lock:
                owner = core.network.owner_instance(send.phone or "")
                if owner is None:
                    delivered()
                    return
                target_core, target = owner
                lid = core.chance(core.config.lid_probability)

                def arrive() -> None:
                    key = inbound.direct_key(target_core, sender_phone, key_id, lid)
                    self._arrive(target_core, target, key, send, sender_phone, key_id, lid)
                    delivered()

                target_core.when_open(target, arrive)

        core.dispatcher.call_later(max(server_ack_s, delivered_s), hand_over)

    def _to_group(self, send: RichSend, sender_phone: str, key_id: str) -> None:
        core = self._core
        with core.lock:
            group = core.network.groups.get(send.group or "")
            if group is None:
                return
            for phone in list(group.participants):
                owner = core.network.owner_instance(phone) if phone != sender_phone else None
                if owner is None:
                    continue
                target_core, target = owner
                key = inbound.group_key(target_core, group.jid, sender_phone, key_id)

                def arrive(tc: SimCore = target_core, t: SimInstance = target, k: dict[str, Any] = key) -> None:
                    self._arrive(tc, t, k, send, sender_phone, key_id, False)

                target_core.when_open(target, arrive)

    def _arrive(
        self,
        target_core: SimCore,
        target: SimInstance,
        key: dict[str, Any],
        send: RichSend,
        sender_phone: str,
        key_id: str,
        lid: bool,
    ) -> None:
        message = copy.deepcopy(send.message)
        context = dict(send.quote) if send.quote else None
        content = next(iter(message.values()))
        if context and isinstance(content, dict):
            content["contextInfo"] = context
        record = self._record(target.name, key_id, False, send, sender_phone, target_core.now(), lid)
        if send.group is None:
            record.peer_phone = sender_phone
        b64 = media.encode(send.media.data) if send.media is not None else None
        name = target_core.display_name(sender_phone)
        inbound.deliver(target_core, target, key, name, message, send.message_type, record, context, b64)


def group_jid_of(number: str) -> str | None:
    """createJid for groups: `…@g.us` as is, 18+ bare digits or the old `<creator>-<ts>` form become `@g.us`."""
    if number.endswith("@g.us"):
        return number
    if "@" in number:
        return None
    if _LONG_GROUP.match(number) or ("-" in number and len(number) >= 24):
        return f"{number}@g.us"
    return None


def require_member(core: SimCore, inst: SimInstance, group_jid: str) -> None:
    """A group send needs the group's metadata, which only a member can read: else 400 `[object Object]`."""
    group = core.network.groups.get(group_jid)
    if group is None or (inst.phone or "") not in group.participants:
        raise envelope.bad_request(OBJECT_OBJECT)


def vcard(contact: dict[str, Any]) -> str:
    """The vCard `contactMessage` builds by hand (reference §12.8), `createJid(phoneNumber)` without `wuid`."""
    full = contact["fullName"]
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{full}", f"FN:{full}"]
    if contact.get("organization"):
        lines.append(f"ORG:{contact['organization']};")
    if contact.get("email"):
        lines.append(f"EMAIL:{contact['email']}")
    if contact.get("url"):
        lines.append(f"URL:{contact['url']}")
    waid = contact.get("wuid") or user_jid(contact["phoneNumber"])
    lines += [f"item1.TEL;waid={waid}:{contact['phoneNumber']}", "item1.X-ABLabel:Celular", "END:VCARD"]
    return "\n".join(lines)
