"""Pure builders for the JSON shapes Evolution 2.3.6 returns and posts (reference §2–§4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mirage_app.evolution.simulator.models import SimInstance, SimWebhook

OWN_PUSH_NAME = "Você"  # what Evolution puts on our own messages


def iso(moment: datetime) -> str:
    """`Date.toISOString()`: milliseconds and a literal Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def success(message: str) -> dict[str, Any]:
    return {"status": "SUCCESS", "error": False, "response": {"message": message}}


def state_object(name: str, state: str | None) -> dict[str, Any]:
    instance: dict[str, Any] = {"instanceName": name}
    if state is not None:
        instance["state"] = state
    return {"instance": instance}


def qr_object(inst: SimInstance) -> dict[str, Any]:
    """`wa.QrCode`; after a reset only `{"count": 0}` is left."""
    if inst.qr_code is None:
        return {"count": inst.qr_count}
    return {"pairingCode": inst.pairing_code, "code": inst.qr_code, "base64": inst.qr_base64, "count": inst.qr_count}


def create_response(inst: SimInstance, with_qr: bool) -> dict[str, Any]:
    wh = inst.webhook
    webhook: dict[str, Any] = {}
    if wh is not None:
        webhook = {
            "webhookUrl": wh.url,
            "webhookHeaders": wh.headers,
            "webhookByEvents": wh.by_events,
            "webhookBase64": wh.base64,
        }
    body: dict[str, Any] = {
        "instance": {
            "instanceName": inst.name,
            "instanceId": inst.instance_id,
            "integration": inst.integration,
            "webhookWaBusiness": None,
            "accessTokenWaBusiness": "",
            "status": inst.status,
        },
        "hash": inst.token,
        "webhook": webhook,
        "websocket": {},
        "rabbitmq": {},
        "nats": {},
        "sqs": {},
        "settings": dict(inst.settings),
    }
    if with_qr:
        body["qrcode"] = qr_object(inst)
    return body


def instance_row(inst: SimInstance, counts: dict[str, int]) -> dict[str, Any]:
    """A Prisma `Instance` row with its relations, as `fetchInstances` lists them."""
    return {
        "id": inst.instance_id,
        "name": inst.name,
        "connectionStatus": inst.status,
        "ownerJid": inst.jid if inst.has_opened else None,
        "profileName": inst.profile_name,
        "profilePicUrl": None,
        "integration": inst.integration,
        "number": None,
        "businessId": None,
        "token": inst.token,
        "clientName": "evolution_exchange",
        "disconnectionReasonCode": inst.disconnection_code,
        "disconnectionObject": inst.disconnection_object,
        "disconnectionAt": iso(inst.disconnection_at) if inst.disconnection_at else None,
        "createdAt": iso(inst.created_at),
        "updatedAt": iso(inst.updated_at),
        "Chatwoot": None,
        "Proxy": None,
        "Rabbitmq": None,
        "Nats": None,
        "Sqs": None,
        "Websocket": None,
        "Setting": {
            "id": f"set-{inst.instance_id}",
            **inst.settings,
            "createdAt": iso(inst.created_at),
            "updatedAt": iso(inst.updated_at),
            "instanceId": inst.instance_id,
        },
        "_count": counts,
    }


def webhook_row(wh: SimWebhook) -> dict[str, Any]:
    return {
        "id": wh.id,
        "url": wh.url,
        "headers": wh.headers,
        "enabled": wh.enabled,
        "events": list(wh.events),
        "webhookByEvents": wh.by_events,
        "webhookBase64": wh.base64,
        "createdAt": iso(wh.created_at),
        "updatedAt": iso(wh.updated_at),
        "instanceId": wh.instance_id,
    }


def message_raw(
    inst: SimInstance, remote_jid: str, key_id: str, text: str, at: datetime, quote: dict[str, Any] | None
) -> dict[str, Any]:
    """sendText's 201 body, also the `send.message` webhook data."""
    stamp = int(at.timestamp())
    context: dict[str, Any] = {
        "mentionedJid": [],
        "groupMentions": [],
        "ephemeralSettingTimestamp": {"low": stamp, "high": 0, "unsigned": False},
        "disappearingMode": {"initiator": 0},
    }
    if quote is not None:
        context |= quote
    return {
        "key": {"remoteJid": remote_jid, "fromMe": True, "id": key_id},
        "pushName": OWN_PUSH_NAME,
        "status": "PENDING",
        "message": {"conversation": text},
        "contextInfo": context,
        "messageType": "conversation",
        "messageTimestamp": stamp,
        "instanceId": inst.instance_id,
        "source": "web",
    }


def upsert_data(
    inst: SimInstance, key: dict[str, Any], push_name: str, text: str, at: datetime, source: str
) -> dict[str, Any]:
    """`messages.upsert` data for a received text."""
    return {
        "key": key,
        "pushName": push_name,
        "status": "DELIVERY_ACK",
        "message": {"conversation": text},
        "messageType": "conversation",
        "messageTimestamp": int(at.timestamp()),
        "instanceId": inst.instance_id,
        "source": source,
    }


def update_data(inst: SimInstance, key_id: str, remote_jid: str, status: str, row_id: str) -> dict[str, Any]:
    """`messages.update` data: flat, keyed by `keyId`."""
    return {
        "keyId": key_id,
        "remoteJid": remote_jid,
        "fromMe": True,
        "status": status,
        "instanceId": inst.instance_id,
        "messageId": row_id,
    }


def connection_data(inst: SimInstance, state: str, reason: int) -> dict[str, Any]:
    data: dict[str, Any] = {"instance": inst.name}
    if state == "open":
        data |= {"wuid": inst.jid, "profileName": inst.profile_name}
    return data | {"state": state, "statusReason": reason}
