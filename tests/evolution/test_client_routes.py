"""Contract: every EvolutionClient route against the simulator over real HTTP, happy paths and shapes."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import EvolutionNotFound, EvolutionUnauthorized
from mirage_app.evolution.models import InstanceState, QrCode
from mirage_app.evolution.rich_models import MessageKey, QuotedRef
from mirage_app.evolution.simulator import SimulatorServer
from mirage_app.evolution.webhook import WEBHOOK_EVENTS
from tests.evolution.conftest import unique_phone


def test_health_needs_no_key(sim: SimulatorServer) -> None:
    body = httpx.get(sim.url + "/").json()
    assert body["status"] == 200
    assert body["version"].startswith("2.3.")


def test_create_with_qr(client: EvolutionClient, name: str) -> None:
    created = client.create_instance(name)
    assert (created.name, created.status) == (name, "connecting")
    assert re.fullmatch(r"[0-9A-F-]{36}", created.token)
    assert created.raw["webhook"] == {} and created.raw["settings"]["rejectCall"] is False
    qr = created.qr
    assert qr is not None and qr.count == 1 and qr.pairing_code is None
    assert qr.code is not None and qr.code.startswith("2@") and qr.code.count(",") == 3
    assert qr.base64 is not None and qr.base64.startswith("data:image/png;base64,")
    assert base64.b64decode(qr.base64.split(",", 1)[1]).startswith(b"\x89PNG")


def test_create_without_qr_stays_closed(client: EvolutionClient, name: str) -> None:
    created = client.create_instance(name, qrcode=False, token="my-token")
    assert (created.status, created.qr, created.token) == ("close", None, "my-token")
    assert "qrcode" not in created.raw


def test_create_with_webhook_stores_it(client: EvolutionClient, name: str) -> None:
    created = client.create_instance(
        name, webhook_url="http://127.0.0.1:9/hook", webhook_headers={"x-secret": "s"}, by_events=True
    )
    assert created.raw["webhook"] == {
        "webhookUrl": "http://127.0.0.1:9/hook",
        "webhookHeaders": {"x-secret": "s"},
        "webhookByEvents": True,
        "webhookBase64": False,
    }
    row = client.find_webhook(name)
    assert row is not None
    assert row["events"] == list(WEBHOOK_EVENTS)  # [] is stored as "all"
    assert (row["enabled"], row["webhookByEvents"], row["headers"]) == (True, True, {"x-secret": "s"})


def test_connect_rotates_qr_then_reports_open(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    first = client.connect(name)
    second = client.connect(name, number="5511999990000")
    assert isinstance(first, QrCode) and isinstance(second, QrCode)
    assert (first.count, second.count) == (1, 2)
    assert first.code != second.code
    assert second.pairing_code is not None and re.fullmatch(r"[1-9A-HJ-NP-TV-Z]{8}", second.pairing_code)
    sim.scan(name)
    assert client.connect(name) == InstanceState(name, "open", {})


def test_connection_state_with_instance_token(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    token = client.create_instance(name).token
    assert client.connection_state(name, token=token).state == "connecting"
    sim.scan(name)
    assert client.connection_state(name, token=token).state == "open"
    other = client.create_instance(name + "-b", qrcode=False).token
    with pytest.raises(EvolutionUnauthorized):
        client.connection_state(name, token=other)


def test_fetch_instances_rows(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    token = client.create_instance(name).token
    phone = sim.scan(name, "+55 (11) 98888-0001", profile_name="Acme")
    (row,) = client.fetch_instances(name)
    assert row["name"] == name and row["connectionStatus"] == "open" and row["token"] == token
    assert row["ownerJid"] == f"{phone}@s.whatsapp.net" and row["profileName"] == "Acme"
    assert {"id", "integration", "Setting", "_count", "createdAt", "disconnectionObject"} <= row.keys()
    assert [r["name"] for r in client.fetch_instances(token=token)] == [name]
    assert name in [r["name"] for r in client.fetch_instances()]
    with pytest.raises(EvolutionNotFound):
        client.fetch_instances("no-such-instance")
    with pytest.raises(EvolutionUnauthorized):
        client.fetch_instances(token="not-a-token")


def test_logout_keeps_instance_and_connect_gives_fresh_qr(
    sim: SimulatorServer, client: EvolutionClient, name: str
) -> None:
    client.create_instance(name)
    sim.scan(name)
    client.logout(name)
    assert client.connection_state(name).state == "close"
    qr = client.connect(name)
    assert isinstance(qr, QrCode) and qr.count == 1


def test_delete_frees_the_name(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    client.delete(name)
    with pytest.raises(EvolutionNotFound):
        client.connection_state(name)
    assert client.create_instance(name, qrcode=False).name == name


def test_restart_open_instance(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    assert client.restart(name).state == "open"


def test_set_presence(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    client.set_presence(name, "available")
    with pytest.raises(ValueError, match="presence"):
        client.set_presence(name, "busy")


def test_set_and_find_webhook(client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    assert client.find_webhook(name) is None
    row = client.set_webhook(
        name, "http://127.0.0.1:9/hook", {"authorization": "Bearer x"}, ["messages.upsert", "SEND_MESSAGE"]
    )
    assert row["events"] == ["MESSAGES_UPSERT", "SEND_MESSAGE"]
    assert (row["url"], row["enabled"], row["webhookByEvents"]) == ("http://127.0.0.1:9/hook", True, False)
    assert client.find_webhook(name) == row
    disabled = client.set_webhook(name, "http://127.0.0.1:9/hook", enabled=False, events=["MESSAGES_UPSERT"])
    assert (disabled["enabled"], disabled["events"], disabled["id"]) == (False, [], row["id"])
    with pytest.raises(ValueError, match="CALLBACK_QUERY"):
        client.set_webhook(name, "http://127.0.0.1:9/hook", events=["CALLBACK_QUERY"])


def test_send_text(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    client.create_instance(name + "-b")
    peer = sim.scan(name + "-b")
    target = MessageKey("3A554E20ECABF3D45BB2", f"{peer}@s.whatsapp.net", False)
    sent = client.send_text(name, peer, "Olá!", delay_ms=1200, quoted=QuotedRef.of_text(target, "vamos?"))
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", sent.key_id)
    assert (sent.remote_jid, sent.status) == (f"{peer}@s.whatsapp.net", "PENDING")
    assert sent.timestamp is not None and sent.timestamp.tzinfo is not None
    raw = sent.raw
    assert raw["message"] == {"conversation": "Olá!"} and raw["messageType"] == "conversation"
    assert (raw["pushName"], raw["source"], raw["key"]["fromMe"]) == ("Você", "web", True)
    assert raw["contextInfo"]["stanzaId"] == "3A554E20ECABF3D45BB2"
    assert raw["contextInfo"]["quotedMessage"] == {"conversation": "vamos?"}
    assert raw["contextInfo"]["participant"] == f"{peer}@s.whatsapp.net"
    (record,) = sim.messages(name, from_me=True)
    assert (record.key_id, record.text, record.delay_ms) == (sent.key_id, "Olá!", 1200)


def test_send_presence(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    phone = sim.add_human(unique_phone(), "Bia").phone
    client.send_presence(name, phone, "composing", 1500)
    assert sim.state.core.presences[-1] | {"at": None} == {
        "instance": name,
        "phone": phone,
        "presence": "composing",
        "delay": 1500,
        "at": None,
    }


def test_mark_read(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    client.mark_read(name, "5511955550002@s.whatsapp.net", "3A1", from_me=False)
    client.mark_read(name, "232366454870257@lid", "3A2")  # skipped silently, still "success"
    reads = [r for r in sim.state.core.reads if r["instance"] == name]
    assert [r["id"] for r in reads] == ["3A1"]


def test_whatsapp_numbers(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    sim.scan(name)
    phone = sim.add_human(unique_phone(), "Caio").phone
    typed = f"+{phone[:2]} {phone[2:4]} {phone[4:]}"
    known, unknown = client.whatsapp_numbers(name, [typed, "5511000000000"])
    assert (known.exists, known.jid, known.name, known.number) == (True, f"{phone}@s.whatsapp.net", "Caio", typed)
    assert (unknown.exists, unknown.jid) == (False, "5511000000000@s.whatsapp.net")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/instance/create", {"instanceName": "{n}x", "integration": "WHATSAPP-BAILEYS"}, 201),
        ("GET", "/instance/connect/{n}", None, 200),
        ("GET", "/instance/connectionState/{n}", None, 200),
        ("GET", "/instance/fetchInstances", None, 200),
        ("POST", "/instance/setPresence/{n}", {"presence": "available"}, 201),
        ("POST", "/webhook/set/{n}", {"webhook": {"enabled": True, "url": "http://x.test/h", "events": []}}, 201),
        ("GET", "/webhook/find/{n}", None, 200),
        ("POST", "/message/sendText/{n}", {"number": "5511955550009", "text": "oi"}, 201),
        ("POST", "/chat/sendPresence/{n}", {"number": "5511955550009", "presence": "paused", "delay": 0}, 201),
        (
            "POST",
            "/chat/markMessageAsRead/{n}",
            {"readMessages": [{"remoteJid": "1@g.us", "fromMe": False, "id": "1"}]},
            201,
        ),
        ("POST", "/chat/whatsappNumbers/{n}", {"numbers": ["5511955550009"]}, 200),
        ("POST", "/instance/restart/{n}", None, 200),
        ("DELETE", "/instance/logout/{n}", None, 200),
        ("DELETE", "/instance/delete/{n}", None, 200),
    ],
)
def test_status_codes(sim: SimulatorServer, name: str, method: str, path: str, body: object, status: int) -> None:
    sim.state.lifecycle.create({"instanceName": name, "integration": "WHATSAPP-BAILEYS"})
    sim.scan(name)
    if "5511955550009" not in sim.state.core.humans:
        sim.add_human("5511955550009", "Duda")
    response = httpx.request(method, sim.url + path.replace("{n}", name), json=body, headers={"apikey": sim.api_key})
    assert response.status_code == status, response.text
