"""Contract: `/proxy/set` and `/proxy/find` (reference §14) and the reach-out restriction knob (§17), over real
HTTP against the simulator; the proxy test reaches a local fake proxy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import EvolutionBadRequest
from mirage_app.evolution.simulator import SimulatorServer
from tests.evolution.conftest import Receiver, unique_phone
from tests.fakes.proxy_server import FakeProxy, dead_port


@pytest.fixture
def opened(sim: SimulatorServer, client: EvolutionClient, name: str) -> str:
    client.create_instance(name, qrcode=False)
    sim.scan(name)
    return name


@pytest.fixture
def proxy() -> Any:
    with FakeProxy() as fake:
        yield fake


def _post(sim: SimulatorServer, path: str, body: Any) -> httpx.Response:
    return httpx.post(sim.url + path, json=body, headers={"apikey": sim.api_key}, timeout=10)


def test_set_echoes_the_proxy_and_find_reads_it_back(client: EvolutionClient, opened: str, proxy: FakeProxy):
    answer = client.set_proxy(opened, host="127.0.0.1", port=proxy.port, protocol="http", username="u", password="s")
    assert answer == {
        "proxy": {
            "instanceName": opened,
            "proxy": {"enabled": True, "host": "127.0.0.1", "port": str(proxy.port), "protocol": "http",
                      "username": "u", "password": "s"},
        }
    }  # fmt: skip
    row = client.find_proxy(opened)
    assert row is not None
    assert (row["host"], row["port"], row["password"], row["enabled"]) == ("127.0.0.1", str(proxy.port), "s", True)
    assert {"id", "createdAt", "updatedAt", "instanceId"} <= set(row)


def test_find_without_a_proxy_is_null(sim: SimulatorServer, opened: str):
    response = httpx.get(f"{sim.url}/proxy/find/{opened}", headers={"apikey": sim.api_key})
    assert (response.status_code, response.text) == (200, "null")


def test_credentials_are_percent_encoded_so_the_test_passes(client: EvolutionClient, opened: str, proxy: FakeProxy):
    client.set_proxy(opened, host="127.0.0.1", port=proxy.port, protocol="http", username="me", password="p@ss:#1")
    assert client.find_proxy(opened)["password"] == "p%40ss%3A%231"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"enabled": "true", "host": "h", "port": "1", "protocol": "http"}, [["enabled is not of a type(s) boolean"]]),
        ({"enabled": True, "host": "h", "port": 8080, "protocol": "http"}, [["port is not of a type(s) string"]]),
        ({"enabled": True, "host": "h", "protocol": "http"}, [['instance requires property "port"']]),
        ({"enabled": False, "host": "", "port": "", "protocol": ""},
         [['The "host" cannot be empty', 'The "port" cannot be empty', 'The "protocol" cannot be empty']]),
    ],
)  # fmt: skip
def test_validation_errors_are_lists_of_lists(sim: SimulatorServer, opened: str, body: dict, message: list):
    response = _post(sim, f"/proxy/set/{opened}", body)
    assert response.status_code == 400
    assert response.json() == {"status": 400, "error": "Bad Request", "response": {"message": message}}


def test_blank_disable_passes_once_another_key_is_there(sim: SimulatorServer, opened: str):
    body = {"enabled": False, "host": "", "port": "", "protocol": "", "username": ""}
    assert _post(sim, f"/proxy/set/{opened}", body).status_code == 201


@pytest.mark.parametrize("protocol", ["https", "socks4"])
def test_protocols_make_proxy_agent_rejects_are_invalid(client: EvolutionClient, opened: str, proxy, protocol):
    with pytest.raises(EvolutionBadRequest) as caught:
        client.set_proxy(opened, host="127.0.0.1", port=proxy.port, protocol=protocol)
    assert caught.value.status == 400
    assert client.find_proxy(opened) is None


def test_dead_proxy_is_invalid_and_not_stored(sim: SimulatorServer, opened: str):
    body = {"enabled": True, "host": "127.0.0.1", "port": str(dead_port()), "protocol": "http",
            "username": "", "password": ""}  # fmt: skip
    response = _post(sim, f"/proxy/set/{opened}", body)
    assert response.status_code == 400
    assert response.json() == {"status": 400, "error": "Bad Request", "response": {"message": ["Invalid proxy"]}}


def test_without_credentials_201_stores_nothing(sim: SimulatorServer, opened: str, proxy: FakeProxy):
    """Bug 3 of §14.5: the 201 says nothing about Prisma rejecting the row."""
    body = {"enabled": True, "host": "127.0.0.1", "port": str(proxy.port), "protocol": "http"}
    assert _post(sim, f"/proxy/set/{opened}", body).status_code == 201
    assert httpx.get(f"{sim.url}/proxy/find/{opened}", headers={"apikey": sim.api_key}).json() is None


def test_disable_blanks_the_row(client: EvolutionClient, opened: str, proxy: FakeProxy):
    client.set_proxy(opened, host="127.0.0.1", port=proxy.port, protocol="socks5")
    client.disable_proxy(opened)
    row = client.find_proxy(opened)
    assert (row["enabled"], row["host"], row["protocol"]) == (False, "", "")


def test_unknown_instance_is_404(sim: SimulatorServer):
    response = httpx.get(f"{sim.url}/proxy/find/nobody-here", headers={"apikey": sim.api_key})
    assert response.status_code == 404


def test_restricted_instance_errors_on_new_contacts_only(
    sim: SimulatorServer, client: EvolutionClient, opened: str, receiver: Receiver
):
    client.set_webhook(opened, receiver.url, events=["MESSAGES_UPDATE"])
    known = sim.add_human(unique_phone(), "Known", reply_probability=0.0).phone
    stranger = sim.add_human(unique_phone(), "New", reply_probability=0.0).phone
    client.send_text(opened, known, "oi")  # a chat under way before the restriction
    assert sim.wait_idle()
    sim.set_faults(restricted=[opened])
    sent_new = client.send_text(opened, stranger, "olá, tudo bem?")
    sent_known = client.send_text(opened, known, "e aí")
    assert sent_new.status == "PENDING"  # accepted like any send (§17.2)
    assert sim.wait_idle()
    updates = [r.body["data"] for r in receiver.requests if r.body["event"] == "messages.update"]
    by_key: dict[str, list[str]] = {}
    for data in updates:
        by_key.setdefault(data["keyId"], []).append(data["status"])
    assert by_key[sent_new.key.id] == ["ERROR"]
    assert "ERROR" not in by_key[sent_known.key.id] and "DELIVERY_ACK" in by_key[sent_known.key.id]
    error = next(d for d in updates if d["status"] == "ERROR")
    assert set(error) == {"keyId", "remoteJid", "fromMe", "status", "instanceId", "messageId"}
    assert error["fromMe"] is True


def test_raw_credentials_with_url_characters_are_invalid(sim: SimulatorServer, opened: str, proxy: FakeProxy):
    """Bug 5 of §14.5: what the client's percent-encoding avoids."""
    body = {"enabled": True, "host": "127.0.0.1", "port": str(proxy.port), "protocol": "http",
            "username": "me", "password": "p@ss"}  # fmt: skip
    assert _post(sim, f"/proxy/set/{opened}", body).status_code == 400
