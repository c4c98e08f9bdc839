"""sendStatus (reference §12.6): a status post to `status@broadcast`, seen by the listed numbers.

No `number`, no delay, no acks (`messages.update` skips broadcasts). A listed instance receives the post only
when its `readStatus` setting is on, as Evolution's `shouldIgnoreJid` drops broadcasts otherwise. Picture and
video posts take a URL only: a base64 `content` is handed to Baileys as a URL and fails at send time. The
simulator has no internet: it downloads only URLs on this machine (`media.fetch_status_file`), and a post from
elsewhere carries no bytes.
"""

from __future__ import annotations

from typing import Any

from mirage_app.evolution.jids import phone_from_jid
from mirage_app.evolution.simulator import envelope, inbound, media, payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.messaging import Messaging
from mirage_app.evolution.simulator.models import SimInstance, SimMessage
from mirage_app.evolution.simulator.rich_schemas import STATUS_MESSAGE
from mirage_app.evolution.simulator.validation import check


class Status:
    def __init__(self, core: SimCore, messaging: Messaging) -> None:
        self._core = core
        self._messaging = messaging

    def send(self, name: str, body: Any) -> dict[str, Any]:
        check(body, STATUS_MESSAGE)
        kind, content = body["type"], body.get("content")
        if not content:
            raise envelope.bad_request("Content is required")
        if kind == "text":
            if not body.get("backgroundColor"):
                raise envelope.bad_request("Background color is required")
            if not body.get("font"):
                raise envelope.bad_request("Font is required")
        is_link = media.is_url(content) and content.startswith(("http://", "https://"))
        # Downloaded before the lock is taken, as Baileys does before it sends (a slow server holds no one else).
        fetched = media.fetch_status_file(content) if kind in ("image", "video") and is_link else None
        core = self._core
        with core.lock:
            inst = self._messaging.require_socket(name)
            recipients = self._recipients(inst, body)
            if kind in ("image", "video") and not is_link:
                raise envelope.bad_request(f"TypeError: Failed to parse URL from {content[:40]}")
            message, message_type = _content(kind, content, body.get("caption"), fetched)
            now = core.now()
            key_id = core.ids.web_message_id()
            raw = payloads.message_raw(inst, inbound.STATUS_JID, key_id, "", now, None)
            raw.pop("contextInfo")
            raw |= {"message": message, "messageType": message_type}
            text = content if kind == "text" else body.get("caption") or ""
            me = inst.phone or ""
            core.messages.append(
                SimMessage(inst.name, key_id, True, "", text, now, message_type=message_type,
                           chat_jid=inbound.STATUS_JID, author_phone=me, message=message)
            )  # fmt: skip
            core.emit(inst, "send.message", raw)
            for phone in recipients:
                self._post_to(phone, me, key_id, message, message_type, text)
            return raw

    def _recipients(self, inst: SimInstance, body: dict[str, Any]) -> list[str]:
        if body.get("allContacts") is True:
            peers = {m.peer_phone for m in self._core.messages if m.instance == inst.name and m.peer_phone}
            if not peers:
                raise envelope.bad_request("Contacts not found")
            return sorted(peers)
        jids = body.get("statusJidList")
        if not jids:
            raise envelope.bad_request("StatusJidList is required")
        return [phone for jid in jids if (phone := phone_from_jid(jid))]  # bare digits are not JIDs: dropped

    def _post_to(self, phone: str, author: str, key_id: str, message: dict[str, Any], kind: str, text: str) -> None:
        owner = self._core.network.owner_instance(phone)
        if owner is None:
            return
        target_core, target = owner
        if not target.settings.get("readStatus"):
            return

        def arrive() -> None:
            record = SimMessage(
                target.name, key_id, False, "", text, target_core.now(), message_type=kind,
                chat_jid=inbound.STATUS_JID, author_phone=author, message=message,
            )  # fmt: skip
            key = inbound.status_key(author, key_id)
            inbound.deliver(target_core, target, key, target_core.display_name(author), message, kind, record)

        target_core.dispatcher.call_later(
            self._core.config.ack_delays_s[1], lambda: target_core.when_open(target, arrive)
        )


def _content(kind: str, content: str, caption: str | None, fetched: bytes | None) -> tuple[dict[str, Any], str]:
    """Text posts are folded into `conversation` by `prepareMessage` (background and font not visible)."""
    if kind == "text":
        return {"conversation": content}, "conversation"
    body: dict[str, Any] = {
        "url": content,
        "mimetype": {"image": "image/jpeg", "video": "video/mp4"}.get(kind, media.OPUS_MIME),
    }
    if fetched is not None:
        body["fileLength"] = media.long_value(len(fetched), True)
    if caption and kind in ("image", "video"):
        body["caption"] = caption
    if kind == "audio":
        body["ptt"] = True
    return {f"{kind}Message": body}, f"{kind}Message"
