"""Simulator behaviour: phones, humans, @lid, offline delivery, QR limit, drops, control API, CLI."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import NotOnWhatsApp
from mirage_app.evolution.models import QrCode
from mirage_app.evolution.simulator import SimConfig, SimulatorServer, SimulatorState, server
from mirage_app.evolution.webhook import normalise
from tests.evolution.conftest import fast_config, make_client, unique_phone


def _open(sim: SimulatorServer, client: EvolutionClient, name: str, phone: str | None = None) -> str:
    client.create_instance(name, qrcode=False)
    return sim.scan(name, phone)


def _upserts(sim: SimulatorServer, instance: str) -> list[Any]:
    emitted = sim.events(instance, "messages.upsert")
    return [normalise({"event": e["event"], "instance": instance, "data": e["data"]}) for e in emitted]


def test_human_replies(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    human = sim.add_human(unique_phone(), "Rita", reply_probability=1.0, optout_probability=0.0, reply_texts=["Oi!"])
    client.send_text(name, human.phone, "Olá Rita")
    assert sim.wait_idle(5)
    (reply,) = _upserts(sim, name)
    assert (reply.text, reply.push_name, reply.phone, reply.from_me) == ("Oi!", "Rita", human.phone, False)
    assert sim.events(name, "messages.upsert")[0]["data"]["source"] == "android"
    statuses = [e["data"]["status"] for e in sim.events(name, "messages.update")]
    assert statuses == ["SERVER_ACK", "DELIVERY_ACK", "READ"]


def test_human_opts_out_once_and_then_stays_silent(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    human = sim.add_human(unique_phone(), "Zé", reply_probability=0.0, optout_probability=1.0, optout_text="PARAR")
    client.send_text(name, human.phone, "promo")
    client.send_text(name, human.phone, "promo de novo")
    assert sim.wait_idle(5)
    assert [u.text for u in _upserts(sim, name)] == ["PARAR"]


def test_silent_human(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    human = sim.add_human(unique_phone(), "Mudo", reply_probability=0.0, optout_probability=0.0)
    client.send_text(name, human.phone, "alô?")
    assert sim.wait_idle(5)
    assert _upserts(sim, name) == []


def test_inject_inbound_with_lid(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    key_id = sim.inject_inbound(name, "+55 11 97777-6666", "via lid", lid=True)
    key = sim.events(name, "messages.upsert")[0]["data"]["key"]
    assert key["remoteJid"].endswith("@lid") and key["remoteJidAlt"] == "5511977776666@s.whatsapp.net"
    assert key["addressingMode"] == "lid" and key["id"] == key_id
    (event,) = _upserts(sim, name)
    assert (event.remote_jid, event.phone, event.text) == ("5511977776666@s.whatsapp.net", "5511977776666", "via lid")


def test_lid_probability_for_simulated_traffic() -> None:
    with SimulatorServer(config=fast_config(lid_probability=1.0)) as sim, make_client(sim.url, sim.api_key) as c:
        _open(sim, c, "a")
        phone_b = _open(sim, c, "b")
        c.send_text("a", phone_b, "oi")
        assert sim.wait_idle(5)
        key = sim.events("b", "messages.upsert")[0]["data"]["key"]
        assert key["remoteJid"].endswith("@lid") and key["remoteJidAlt"].startswith("55119")


def test_offline_recipient_gets_messages_when_it_reconnects(
    sim: SimulatorServer, client: EvolutionClient, name: str
) -> None:
    a, b = name + "-a", name + "-b"
    _open(sim, client, a)
    phone_b = _open(sim, client, b)
    client.logout(b)
    sent = client.send_text(a, phone_b, "você está aí?")
    assert sim.wait_idle(5)
    assert [e["data"]["status"] for e in sim.events(a, "messages.update")] == ["SERVER_ACK"]
    assert sim.scan(b) == phone_b  # the same phone scans again
    assert sim.wait_idle(5)
    assert [u.wa_msg_id for u in _upserts(sim, b)] == [sent.key_id]
    assert [e["data"]["status"] for e in sim.events(a, "messages.update")] == ["SERVER_ACK", "DELIVERY_ACK", "READ"]


def test_qr_limit_refuses_the_session() -> None:
    with SimulatorServer(config=fast_config(qr_limit=2)) as sim, make_client(sim.url, sim.api_key) as c:
        assert c.create_instance("q").qr is not None
        assert isinstance(second := c.connect("q"), QrCode) and second.count == 2
        refused = c.connect("q")
        assert isinstance(refused, QrCode) and (refused.count, refused.code) == (0, None)
        assert c.connection_state("q").state == "close"
        limit, connection = sim.events("q")[-2:]
        assert limit["data"] == {"message": "QR code limit reached, please login again", "statusCode": 500}
        assert connection["data"] == {"instance": "q", "state": "refused", "statusReason": 428}


def test_rotate_qr(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    first = client.create_instance(name).qr
    rotated = sim.rotate_qr(name)
    assert first is not None and rotated["count"] == 2 and rotated["code"] != first.code
    assert sim.events(name, "qrcode.updated")[-1]["data"]["qrcode"]["code"] == rotated["code"]
    sim.scan(name)
    with pytest.raises(ValueError, match="not connecting"):
        sim.rotate_qr(name)


@pytest.mark.parametrize("reason", [402, 403, 406])
def test_ban_like_drop(sim: SimulatorServer, client: EvolutionClient, name: str, reason: int) -> None:
    _open(sim, client, name)
    sim.drop_connection(name, reason)
    last = sim.events(name, "connection.update")[-1]
    event = normalise({"event": "connection.update", "instance": name, "data": last["data"]})
    assert (event.state, event.status_reason, event.is_ban_like) == ("close", reason, True)
    (row,) = client.fetch_instances(name)
    assert (row["connectionStatus"], row["disconnectionReasonCode"]) == ("close", reason)
    assert isinstance(row["disconnectionObject"], str)


def test_transient_drop_reconnects_silently(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    sim.drop_connection(name, 515)
    states = [e["data"]["state"] for e in sim.events(name, "connection.update")]
    assert states[-2:] == ["connecting", "open"]
    assert "close" not in states


def test_brazilian_ninth_digit_rule(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    phone = _open(sim, client, name, "5531998887777")
    assert phone == "553198887777"
    (check,) = client.whatsapp_numbers(name, ["5531998887777"])
    assert (check.exists, check.jid) == (True, "553198887777@s.whatsapp.net")


def test_phone_numbers_are_unique(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    phone = _open(sim, client, name + "-a")
    client.create_instance(name + "-b", qrcode=False)
    with pytest.raises(ValueError, match="already belongs"):
        sim.scan(name + "-b", phone)
    with pytest.raises(ValueError):
        sim.add_human(phone, "impostor")


def test_deleted_instance_number_is_gone(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name + "-a")
    phone = _open(sim, client, name + "-b")
    client.delete(name + "-b")
    with pytest.raises(NotOnWhatsApp):
        client.send_text(name + "-a", phone, "ainda aí?")


def test_honoured_delay_holds_the_response(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    human = sim.add_human(unique_phone(), "Lia", reply_probability=0.0, optout_probability=0.0)
    sim.state.config.honour_delay = True
    try:
        started = time.monotonic()
        client.send_text(name, human.phone, "digitando…", delay_ms=300)
        assert time.monotonic() - started >= 0.3
    finally:
        sim.state.config.honour_delay = False


def test_same_seed_same_world() -> None:
    def world() -> dict[str, Any]:
        state = SimulatorState(SimConfig(seed=42))
        created = state.lifecycle.create({"instanceName": "x", "integration": "WHATSAPP-BAILEYS", "qrcode": True})
        return {"token": created["hash"], "code": created["qrcode"]["code"], "phone": state.scan("x")}

    assert world() == world()
    custom = SimulatorState(rng=random.Random(1))
    assert custom.lifecycle.create({"instanceName": "y", "integration": "EVOLUTION"})["instance"]["status"] == "close"


def test_control_endpoints(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    http = httpx.Client(base_url=sim.url)
    assert http.post(f"/_sim/instances/{name}/rotate_qr").json()["count"] == 2
    scanned = http.post(f"/_sim/instances/{name}/scan", json={"profile_name": "Loja"}).json()
    assert client.connection_state(name).state == "open"
    phone = unique_phone()
    human = http.post("/_sim/humans", json={"phone": phone, "name": "Gui", "reply_probability": 0.0}).json()
    assert (human["phone"], human["optout_text"]) == (phone, "SAIR")
    key = http.post("/_sim/inbound", json={"instance": name, "from_phone": phone, "text": "oi"}).json()["key_id"]
    assert http.post("/_sim/wait_idle", json={"timeout": 5}).json() == {"idle": True}
    state = http.get("/_sim/state").json()
    (mine,) = [i for i in state["instances"] if i["name"] == name]
    assert (mine["phone"], mine["status"], mine["profileName"]) == (scanned["phone"], "open", "Loja")
    assert any(m["key_id"] == key for m in state["messages"])
    assert http.post("/_sim/faults", json={"latency_ms": 5}).json()["latency_ms"] == 5
    assert http.get("/_sim/faults").json()["latency_ms"] == 5
    assert http.post("/_sim/faults", json={"error_5xx_rate": 2}).status_code == 400
    assert http.post("/_sim/faults", json={"bogus": 1}).status_code == 400
    assert http.post("/_sim/humans", json={"name": "sem telefone"}).status_code == 400
    assert http.post("/_sim/instances/nope/scan").status_code == 404
    assert http.post(f"/_sim/instances/{name}/drop", json={"status_reason": 401}).json() == {"dropped": name}
    assert client.connection_state(name).state == "close"
    http.close()


def test_cli_builds_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        server, "run", lambda host, port, config, **kw: seen.update(host=host, port=port, config=config)
    )
    assert server.main(["--port", "9999", "--seed", "3", "--api-key", "k"]) == 0
    config = seen["config"]
    assert (seen["port"], config.seed, config.global_key, config.honour_delay) == (9999, 3, "k", True)
    assert server.main(["--fast"]) == 0
    assert seen["config"].honour_delay is False and seen["config"].global_key == "mirage-sim-key"


def test_demo_auto_humans_answer_unknown_numbers() -> None:
    """In demo mode any plausible number is a person; in tests an unknown number is NotOnWhatsApp."""
    config = fast_config(auto_humans=True, auto_human_reply_probability=1.0, auto_human_optout_probability=0.0)
    with SimulatorServer(config=config) as sim, make_client(sim.url, sim.api_key) as c:
        _open(sim, c, "a")
        c.send_text("a", "5511966660000", "Oi! Tudo bem?")
        assert sim.wait_idle(5)
        (reply,) = _upserts(sim, "a")
        assert reply.phone == "5511966660000" and reply.text
