"""Small typed results of Evolution calls; each keeps the parsed body in `raw` for logging and storage.

The `from_body` constructors raise `EvolutionError(reason="bad_response")` when a 2xx body lacks what the
contract promises, so a shape change in Evolution fails loudly instead of leaking `KeyError`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mirage_app.evolution.errors import unexpected_response
from mirage_app.evolution.rich_models import MessageKey


def _epoch(value: Any) -> datetime | None:
    """Unix seconds (int or digit string) → aware UTC datetime; None when absent or nonsensical."""
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class QrCode:
    """`wa.QrCode`: `code` is what the QR encodes, `base64` a PNG data URL; both absent when `count` is 0."""

    code: str | None
    base64: str | None
    pairing_code: str | None
    count: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Any) -> QrCode:
        if not isinstance(body, dict):
            raise unexpected_response("QR code object expected", body)
        count = body.get("count")
        return cls(
            code=body.get("code") or None,
            base64=body.get("base64") or None,
            pairing_code=body.get("pairingCode") or None,
            count=count if isinstance(count, int) else 0,
            raw=body,
        )


@dataclass(frozen=True)
class InstanceState:
    """`{"instance": {"instanceName", "state"}}`; `state` is None when the instance is not loaded."""

    name: str
    state: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Any) -> InstanceState:
        instance = body.get("instance") if isinstance(body, dict) else None
        if not isinstance(instance, dict) or not isinstance(instance.get("instanceName"), str):
            raise unexpected_response("instance state object expected", body)
        state = instance.get("state")
        return cls(name=instance["instanceName"], state=state if isinstance(state, str) else None, raw=body)


@dataclass(frozen=True)
class CreatedInstance:
    """The 201 body of `/instance/create`; `token` is the `hash`, the instance's own apikey."""

    name: str
    instance_id: str
    token: str
    status: str
    qr: QrCode | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Any) -> CreatedInstance:
        instance = body.get("instance") if isinstance(body, dict) else None
        if not isinstance(instance, dict) or not isinstance(body.get("hash"), str):
            raise unexpected_response("create response needs `instance` and a string `hash`", body)
        qrcode = body.get("qrcode")
        return cls(
            name=str(instance.get("instanceName", "")),
            instance_id=str(instance.get("instanceId", "")),
            token=body["hash"],
            status=str(instance.get("status", "")),
            qr=QrCode.from_body(qrcode) if isinstance(qrcode, dict) else None,
            raw=body,
        )


@dataclass(frozen=True)
class SentMessage:
    """The 201 `messageRaw` of every send route. `status` is PENDING; acks arrive later as webhooks.

    `message_type` is Evolution's `messageType` (`conversation`, `imageMessage`, `audioMessage`, ...)."""

    key_id: str
    remote_jid: str
    status: str
    timestamp: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    message_type: str = ""

    @classmethod
    def from_body(cls, body: Any) -> SentMessage:
        key = body.get("key") if isinstance(body, dict) else None
        if not isinstance(key, dict) or not isinstance(key.get("id"), str):
            raise unexpected_response("send response without key.id", body)
        return cls(
            key_id=key["id"],
            remote_jid=str(key.get("remoteJid", "")),
            status=str(body.get("status", "")),
            timestamp=_epoch(body.get("messageTimestamp")),
            raw=body,
            message_type=str(body.get("messageType", "")),
        )

    @property
    def key(self) -> MessageKey:
        """This message's key from the sender's view: what a reaction, a quote or an edit of it needs."""
        return MessageKey(self.key_id, self.remote_jid, True)


@dataclass(frozen=True)
class NumberCheck:
    """One `/chat/whatsappNumbers` entry; `jid` is canonical (BR/MX/AR numbers may be rewritten)."""

    number: str
    jid: str
    exists: bool
    name: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def list_from_body(cls, body: Any) -> list[NumberCheck]:
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise unexpected_response("whatsappNumbers response must be a list of objects", body)
        return [
            cls(
                number=str(item.get("number", "")),
                jid=str(item.get("jid", "")),
                exists=item.get("exists") is True,
                name=item.get("name") if isinstance(item.get("name"), str) else None,
                raw=item,
            )
            for item in body
        ]
