"""Typed inputs and results of the rich-action and group calls (reference §12–§13).

Like `models`, each result keeps the parsed body in `raw`, and `from_body` raises `EvolutionError(reason=
"bad_response")` when a 2xx body lacks what the contract promises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mirage_app.evolution.errors import unexpected_response
from mirage_app.evolution.jids import phone_from_jid


@dataclass(frozen=True)
class MessageKey:
    """A WhatsApp message key from the calling instance's point of view (`fromMe` = it sent the message).

    `participant` is the author's JID, needed for group messages (reactions, quotes, admin deletes)."""

    id: str
    remote_jid: str
    from_me: bool
    participant: str | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"remoteJid": self.remote_jid, "fromMe": self.from_me, "id": self.id}
        if self.participant:
            body["participant"] = self.participant
        return body

    @classmethod
    def from_body(cls, key: Any) -> MessageKey:
        """The `key` of a `send.message`/`messages.upsert` payload or of a send's 201 body."""
        if not isinstance(key, dict) or not isinstance(key.get("id"), str) or not isinstance(key.get("remoteJid"), str):
            raise unexpected_response("message key needs string id and remoteJid", key)
        participant = key.get("participant")
        return cls(
            id=key["id"],
            remote_jid=key["remoteJid"],
            from_me=key.get("fromMe") is True,
            participant=participant if isinstance(participant, str) and participant else None,
        )


@dataclass(frozen=True)
class QuotedRef:
    """What a reply quotes: the full key and the quoted content (reference §12.5, way 2: no DB lookup).

    `message` is the content object as received, e.g. `{"conversation": "vamos marcar?"}` or
    `{"imageMessage": {...}}`; the recipient sees it as the quoted bubble."""

    key: MessageKey
    message: dict[str, Any]

    def to_body(self) -> dict[str, Any]:
        return {"key": self.key.to_body(), "message": self.message}

    @classmethod
    def of_text(cls, key: MessageKey, text: str) -> QuotedRef:
        return cls(key, {"conversation": text})


@dataclass(frozen=True)
class EditedMessage:
    """The raw Baileys WAMessage `/chat/updateMessage` answers: a protocolMessage that edits `target_id`."""

    key_id: str  # the protocol message's own id
    target_id: str  # the edited message
    remote_jid: str
    text: str | None
    status: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Any) -> EditedMessage:
        key = body.get("key") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        protocol = message.get("protocolMessage") if isinstance(message, dict) else None
        target = protocol.get("key") if isinstance(protocol, dict) else None
        if not (isinstance(key, dict) and isinstance(key.get("id"), str) and isinstance(target, dict)):
            raise unexpected_response("updateMessage response without key.id and protocolMessage.key", body)
        if not isinstance(target.get("id"), str):
            raise unexpected_response("updateMessage response without protocolMessage.key.id", body)
        edited = protocol.get("editedMessage") if isinstance(protocol.get("editedMessage"), dict) else {}
        extended = edited.get("extendedTextMessage")
        text = extended.get("text") if isinstance(extended, dict) else edited.get("conversation")
        return cls(
            key_id=key["id"],
            target_id=target["id"],
            remote_jid=str(key.get("remoteJid", "")),
            text=text if isinstance(text, str) else None,
            status=str(body.get("status", "")),
            raw=body,
        )


@dataclass(frozen=True)
class GroupParticipant:
    """A member: `jid` may be `@lid` (then `phone` comes from `phoneNumber`); `admin` is superadmin/admin/None."""

    jid: str
    phone: str | None
    admin: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.admin in ("admin", "superadmin")

    @classmethod
    def from_body(cls, item: Any) -> GroupParticipant:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise unexpected_response("group participant needs a string id", item)
        alt = item.get("phoneNumber")
        phone = phone_from_jid(alt) if isinstance(alt, str) else None
        admin = item.get("admin")
        return cls(
            jid=item["id"],
            phone=phone or phone_from_jid(item["id"]),
            admin=admin if isinstance(admin, str) else None,
            raw=item,
        )

    @classmethod
    def list_from_body(cls, items: Any) -> list[GroupParticipant]:
        if not isinstance(items, list):
            raise unexpected_response("participants must be a list", items)
        return [cls.from_body(item) for item in items]


@dataclass(frozen=True)
class GroupInfo:
    """Group metadata (`/group/create`'s raw GroupMetadata or a `fetchAllGroups` row)."""

    jid: str
    subject: str
    description: str | None
    owner_phone: str | None
    size: int | None
    participants: list[GroupParticipant]  # empty when not requested
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Any) -> GroupInfo:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"].endswith("@g.us"):
            raise unexpected_response("group metadata needs an @g.us id", body)
        owner = body.get("ownerPn") or body.get("owner")
        size = body.get("size")
        desc = body.get("desc")
        return cls(
            jid=body["id"],
            subject=str(body.get("subject") or ""),
            description=desc if isinstance(desc, str) and desc else None,
            owner_phone=phone_from_jid(owner) if isinstance(owner, str) else None,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            participants=GroupParticipant.list_from_body(body.get("participants") or []),
            raw=body,
        )


@dataclass(frozen=True)
class ParticipantChange:
    """One entry of `updateParticipants`: WhatsApp's per-number status as a string ("200" = done).

    An HTTP 201 does not mean every change happened: "403" (privacy), "409" (already a member), "408"
    (recently left) and others come back here."""

    jid: str
    phone: str | None
    status: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "200"

    @classmethod
    def list_from_body(cls, body: Any) -> list[ParticipantChange]:
        items = body.get("updateParticipants") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("jid"), str) for i in items):
            raise unexpected_response("updateParticipant response needs updateParticipants[{jid,status}]", body)
        return [
            cls(jid=i["jid"], phone=phone_from_jid(i["jid"]), status=str(i.get("status", "")), raw=i) for i in items
        ]
