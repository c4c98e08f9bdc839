"""Instance lifecycle: auth, create/connect/state/fetch/logout/delete/restart, webhook config, phones scanning.

State machine (reference §2, §4.4): close → connecting (a new QR per connect call or `rotate_qr`, refused
after `qr_limit` codes) → open on `scan`; logout and ban-like drops go back to close with their webhooks.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from mirage_app.evolution.simulator import envelope, payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.envelope import SimHttpError
from mirage_app.evolution.simulator.ids import canonical_phone, qr_png_data_url
from mirage_app.evolution.simulator.models import ConnectionStatus, SimInstance, SimWebhook
from mirage_app.evolution.simulator.validation import INSTANCE, SET_PRESENCE, WEBHOOK, check
from mirage_app.evolution.webhook import WEBHOOK_EVENTS

INTEGRATIONS = ("WHATSAPP-BAILEYS", "WHATSAPP-BUSINESS", "EVOLUTION")
CLOSING_REASONS = frozenset({401, 402, 403, 406})  # Baileys codes that end the session instead of reconnecting
_SETTING_DEFAULTS: dict[str, Any] = {
    "rejectCall": False,
    "msgCall": "",
    "groupsIgnore": False,
    "alwaysOnline": False,
    "readMessages": False,
    "readStatus": False,
    "syncFullHistory": False,
    "wavoipToken": "",
}
_EVENTS_TYPE_ERROR = "Cannot read properties of undefined (reading 'length')"


class Lifecycle:
    def __init__(self, core: SimCore) -> None:
        self._core = core

    # -- guards (called in Evolution's order: exists → name free → apikey) ---------------------------------

    def ensure_name_free(self, name: Any) -> None:
        if isinstance(name, str) and name in self._core.instances:
            raise envelope.name_in_use(name)

    def authorize(self, apikey: str | None, name: str | None = None) -> None:
        """Global key everywhere; the instance token only on that instance's routes."""
        if apikey and apikey == self._core.config.global_key:
            return
        inst = self._core.instances.get(name) if name else None
        if not (apikey and inst and apikey == inst.token):
            raise envelope.unauthorized()

    # -- Evolution routes -----------------------------------------------------------------------------------

    def create(self, body: Any) -> dict[str, Any]:
        check(body, INSTANCE)
        integration = body.get("integration")
        if integration not in INTEGRATIONS:
            raise envelope.bad_request("Invalid integration")
        if integration == "WHATSAPP-BUSINESS":
            for required in ("token", "number"):
                if not body.get(required):
                    raise envelope.bad_request(f"{required} is required")
        core = self._core
        with core.lock:
            name = body["instanceName"]
            self.ensure_name_free(name)
            now = core.now()
            inst = SimInstance(
                name=name,
                instance_id=core.ids.uuid(),
                token=body.get("token") or core.ids.token(),
                integration=integration,
                created_at=now,
                updated_at=now,
                settings={key: body.get(key, default) for key, default in _SETTING_DEFAULTS.items()},
            )
            if isinstance(body.get("webhook"), dict):
                missing_events = envelope.bad_request(_EVENTS_TYPE_ERROR)
                self._store_webhook(inst, body["webhook"], enabled=True, missing_events=missing_events)
            core.instances[name] = inst
            core.emit(inst, "instance.create", {"instanceName": name, "instanceId": inst.instance_id})
            with_qr = body.get("qrcode") is True
            if with_qr:
                if body.get("number"):
                    inst.pairing_code = core.ids.pairing_code()
                self._start_connecting(inst)
            return payloads.create_response(inst, with_qr)

    def connect(self, name: str, number: str | None) -> dict[str, Any]:
        core = self._core
        with core.lock:
            inst = core.instance(name)
            if core.config.faults.is_unloaded(name):
                raise envelope.swallowed()
            if inst.status == "open":
                return payloads.state_object(name, "open")
            if number:
                inst.pairing_code = core.ids.pairing_code()
            if inst.status == "close":
                self._start_connecting(inst)
            else:
                self._new_qr(inst)
            return payloads.qr_object(inst)

    def connection_state(self, name: str) -> dict[str, Any]:
        core = self._core
        with core.lock:
            inst = core.instance(name)
            unloaded = core.config.faults.is_unloaded(name)
            return payloads.state_object(name, None if unloaded else inst.status)

    def fetch(self, apikey: str | None, query: dict[str, str]) -> list[dict[str, Any]]:
        core = self._core
        with core.lock:
            visible = list(core.instances.values())
            if apikey != core.config.global_key:
                visible = [inst for inst in visible if apikey and inst.token == apikey]
                if not visible:
                    raise envelope.unauthorized()
            filters = {
                "instanceName": lambda inst, value: inst.name == value,
                "instanceId": lambda inst, value: inst.instance_id == value,
                "number": lambda inst, value: inst.phone == canonical_phone(value),
            }
            for param, matches in filters.items():
                value = query.get(param)
                if value:
                    visible = [inst for inst in visible if matches(inst, value)]
                    if not visible:
                        raise envelope.http_error(404, [f'Instance "{value}" not found'])
            return [payloads.instance_row(inst, self._counts(inst)) for inst in visible]

    def logout(self, name: str) -> dict[str, Any]:
        core = self._core
        with core.lock:
            inst = core.instance(name)
            if inst.status == "close":
                raise envelope.bad_request(f'The "{name}" instance is not connected')
            self._close(inst, 401)
            return payloads.success("Instance logged out")

    def delete(self, name: str) -> dict[str, Any]:
        core = self._core
        with core.lock:
            inst = core.instance(name)
            if inst.status != "close":
                self._close(inst, 401)
            core.emit(inst, "instance.delete", {"instanceName": name, "instanceId": inst.instance_id})
            core.emit(inst, "remove.instance", None)
            del core.instances[name]
            core.pending.pop(name, None)
            if inst.phone:
                core.network.unlink(inst.phone, core, name)
            return payloads.success("Instance deleted")

    def restart(self, name: str) -> dict[str, Any]:
        core = self._core
        with core.lock:
            inst = core.instance(name)
            if inst.status == "close":
                raise envelope.swallowed()
            state = inst.status
            self._reconnect(inst)
            return payloads.state_object(name, state)

    def set_presence(self, name: str, body: Any) -> dict[str, Any]:
        check(body, SET_PRESENCE)
        with self._core.lock:
            if self._core.instance(name).status != "open":
                raise envelope.connection_closed()
            return {"presence": body["presence"]}

    def set_webhook(self, name: str, body: Any) -> dict[str, Any]:
        check(body, WEBHOOK)
        with self._core.lock:
            inst = self._core.instance(name)
            spec = body["webhook"]
            missing_events = envelope.runtime_error(_EVENTS_TYPE_ERROR)
            return payloads.webhook_row(
                self._store_webhook(inst, spec, enabled=spec["enabled"], missing_events=missing_events)
            )

    def find_webhook(self, name: str) -> dict[str, Any] | None:
        with self._core.lock:
            wh = self._core.instance(name).webhook
            return payloads.webhook_row(wh) if wh else None

    # -- simulated phones -----------------------------------------------------------------------------------

    def scan(self, name: str, phone_number: str | None = None, profile_name: str | None = None) -> str:
        """A phone scans the QR: the instance opens as `phone_number` (a fake BR mobile if not given)."""
        core = self._core
        with core.lock:
            inst = core.instance(name)
            if inst.status == "open":
                raise ValueError(f"instance {name!r} is already open")
            phone = canonical_phone(phone_number) if phone_number else inst.phone or self._free_phone()
            if not phone:
                raise ValueError("phone_number has no digits")
            owner = core.network.owner(phone)
            if owner is not None and owner != (core, name):
                raise ValueError(f"{phone} already belongs to {owner[1]}")
            if phone in core.humans:
                raise ValueError(f"{phone} already belongs to a human")
            if inst.status == "close":
                self._start_connecting(inst)
            if inst.phone:
                core.network.unlink(inst.phone, core, name)
            inst.phone = phone
            core.network.link(phone, core, name)
            inst.profile_name = profile_name or inst.profile_name or f"Sim {phone[-4:]}"
            # Baileys closes with 515 (restart required) after pairing and reconnects silently.
            core.emit(inst, "connection.update", payloads.connection_data(inst, "connecting", 200))
            self._open(inst)
            return phone

    def rotate_qr(self, name: str) -> dict[str, Any]:
        """The QR timer fires: a new code (or the refusal once `qr_limit` is reached)."""
        with self._core.lock:
            inst = self._core.instance(name)
            if inst.status != "connecting":
                raise ValueError(f"instance {name!r} is {inst.status}, not connecting")
            self._new_qr(inst)
            return payloads.qr_object(inst)

    def drop_connection(self, name: str, status_reason: int) -> None:
        """WhatsApp drops the socket: 401/402/403/406 end the session, other codes reconnect silently."""
        with self._core.lock:
            inst = self._core.instance(name)
            if inst.status == "close":
                raise ValueError(f"instance {name!r} is not connected")
            if status_reason in CLOSING_REASONS:
                self._close(inst, status_reason)
            else:
                self._reconnect(inst)

    # -- transitions ----------------------------------------------------------------------------------------

    def _start_connecting(self, inst: SimInstance) -> None:
        self._set_status(inst, "connecting")
        self._core.emit(inst, "connection.update", payloads.connection_data(inst, "connecting", 200))
        self._new_qr(inst)

    def _new_qr(self, inst: SimInstance) -> None:
        core = self._core
        if inst.qr_count >= core.config.qr_limit:
            self._refuse(inst)
            return
        inst.qr_count += 1
        inst.qr_code = core.ids.qr_code()
        inst.qr_base64 = qr_png_data_url(inst.qr_code)
        qrcode = {"instance": inst.name, "pairingCode": inst.pairing_code, "code": inst.qr_code}
        core.emit(inst, "qrcode.updated", {"qrcode": qrcode | {"base64": inst.qr_base64}})

    def _refuse(self, inst: SimInstance) -> None:
        limit = {"message": "QR code limit reached, please login again", "statusCode": 500}
        self._core.emit(inst, "qrcode.updated", limit)
        self._core.emit(inst, "connection.update", payloads.connection_data(inst, "refused", 428))
        self._set_status(inst, "close")

    def _open(self, inst: SimInstance) -> None:
        inst.has_opened = True
        self._set_status(inst, "open")
        self._core.emit(inst, "connection.update", payloads.connection_data(inst, "open", 200))
        self._core.flush_pending(inst)

    def _reconnect(self, inst: SimInstance) -> None:
        """A transient drop: `connecting`, then back to `open` (or a fresh QR when it was pairing)."""
        was_open = inst.status == "open"
        self._core.emit(inst, "connection.update", payloads.connection_data(inst, "connecting", 200))
        if was_open:
            self._open(inst)
        else:
            self._new_qr(inst)

    def _close(self, inst: SimInstance, code: int) -> None:
        """End the session: `status.instance`, `logout.instance`, then `connection.update` close (§2.5)."""
        core = self._core
        now = core.now()
        boom = {"statusCode": code, "error": "Unauthorized" if code == 401 else "Forbidden"}
        inst.disconnection_code = code
        inst.disconnection_at = now
        inst.disconnection_object = json.dumps({"error": {"output": {"statusCode": code, "payload": boom}}})
        core.emit(
            inst,
            "status.instance",
            {
                "instance": inst.name,
                "status": "closed",
                "disconnectionAt": payloads.iso(now),
                "disconnectionReasonCode": code,
                "disconnectionObject": inst.disconnection_object,
            },
        )
        core.emit(inst, "logout.instance", None)
        core.emit(inst, "connection.update", payloads.connection_data(inst, "close", code))
        self._set_status(inst, "close")

    def _set_status(self, inst: SimInstance, status: ConnectionStatus) -> None:
        inst.status = status
        inst.updated_at = self._core.now()
        if status != "connecting":
            inst.qr_count, inst.qr_code, inst.qr_base64, inst.pairing_code = 0, None, None, None

    # -- helpers --------------------------------------------------------------------------------------------

    def _store_webhook(
        self, inst: SimInstance, spec: dict[str, Any], *, enabled: bool, missing_events: SimHttpError
    ) -> SimWebhook:
        """Upsert the webhook row like `WebhookController.set`: enabled + [] means every event."""
        url = spec.get("url")
        if not isinstance(url, str) or not _is_http_url(url):
            raise envelope.bad_request('Invalid "url" property')
        events: list[str] = []
        if enabled:
            if not isinstance(spec.get("events"), list):
                raise missing_events
            events = list(spec["events"]) or list(WEBHOOK_EVENTS)
        now = self._core.now()
        previous = inst.webhook
        inst.webhook = SimWebhook(
            id=previous.id if previous else self._core.ids.cuid(),
            instance_id=inst.instance_id,
            url=url,
            headers=_headers(spec.get("headers")),
            enabled=enabled,
            events=events,
            by_events=spec.get("byEvents") is True,
            base64=spec.get("base64") is True,
            created_at=previous.created_at if previous else now,
            updated_at=now,
        )
        return inst.webhook

    def _free_phone(self) -> str:
        core = self._core
        while True:
            phone = core.ids.br_mobile()
            if not core.network.is_taken(phone):
                return phone

    def _counts(self, inst: SimInstance) -> dict[str, int]:
        mine = [m for m in self._core.messages if m.instance == inst.name]
        peers = len({m.peer_phone for m in mine})
        return {"Message": len(mine), "Contact": peers, "Chat": peers}


def _is_http_url(url: str) -> bool:
    try:
        parsed = urlparse(url)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _headers(value: Any) -> dict[str, str]:
    """Stored webhook headers; axios sends them as strings."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
