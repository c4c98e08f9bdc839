"""Contract: every error shape over real HTTP, fault knobs, and retry rules that never double-send."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import (
    ConnectionClosed,
    EvolutionBadRequest,
    EvolutionNameInUse,
    EvolutionNotFound,
    EvolutionServerError,
    EvolutionSwallowedError,
    EvolutionTimeout,
    EvolutionUnauthorized,
    EvolutionUnavailable,
    NotOnWhatsApp,
    parse_error,
)
from mirage_app.evolution.simulator import SimulatorServer
from tests.evolution.conftest import ScriptedTransport, make_client, unique_phone


def _raw(
    sim: SimulatorServer, method: str, path: str, *, key: str | None = None, headers: dict | None = None, **kw: Any
) -> httpx.Response:
    headers = (headers or {}) | ({"apikey": key} if key else {})
    return httpx.request(method, sim.url + path, headers=headers, **kw)


def _open(sim: SimulatorServer, client: EvolutionClient, name: str) -> str:
    client.create_instance(name)
    return sim.scan(name)


def test_missing_and_wrong_key_are_401(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    response = _raw(sim, "GET", f"/instance/connectionState/{name}")
    assert response.status_code == 401
    assert response.json() == {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
    with make_client(sim.url, "wrong-key") as wrong, pytest.raises(EvolutionUnauthorized) as info:
        wrong.connection_state(name)
    assert info.value.reason == "unauthorized" and not info.value.retryable


def test_create_needs_the_global_key(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    token = client.create_instance(name, qrcode=False).token
    with make_client(sim.url, token) as by_token, pytest.raises(EvolutionUnauthorized):
        by_token.create_instance(name + "-2")


def test_unknown_instance_is_404_before_auth(sim: SimulatorServer, client: EvolutionClient) -> None:
    response = _raw(sim, "POST", "/message/sendText/acme", json={"number": "1", "text": "x"})
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "error": "Not Found",
        "response": {"message": ['The "acme" instance does not exist']},
    }
    with pytest.raises(EvolutionNotFound):
        client.send_text("acme", "5511999999999", "x")


def test_duplicate_name_is_403_before_auth(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    response = _raw(sim, "POST", "/instance/create", json={"instanceName": name})
    assert response.status_code == 403
    assert response.json()["response"] == {"message": [f'This name "{name}" is already in use.']}
    with pytest.raises(EvolutionNameInUse):
        client.create_instance(name)


def test_v1_text_message_body_is_a_list_of_lists(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    body = {"number": "5511988887777", "textMessage": {"text": "hi"}, "options": {"delay": 1200}}
    response = _raw(sim, "POST", f"/message/sendText/{name}", key=sim.api_key, json=body)
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": "Bad Request",
        "response": {"message": [['instance requires property "text"']]},
    }
    error = parse_error(response.status_code, response.content)
    assert isinstance(error, EvolutionBadRequest) and error.messages == ['instance requires property "text"']


@pytest.mark.parametrize(
    ("path", "body", "messages"),
    [
        ("/message/sendText/{n}", {}, ['instance requires property "number"', 'instance requires property "text"']),
        (
            "/message/sendText/{n}",
            {"number": 5511, "text": "x", "delay": 1.5},
            ["Invalid format", "Enter a value in milliseconds"],
        ),
        (
            "/message/sendText/{n}",
            {"number": "1", "text": "x", "quoted": {"key": {}}},
            ['quoted.key requires property "id"'],
        ),
        (
            "/chat/sendPresence/{n}",
            {"number": "1", "options": {"presence": "composing", "delay": 1}},
            ['instance requires property "presence"', 'instance requires property "delay"'],
        ),
        (
            "/chat/sendPresence/{n}",
            {"number": "1", "presence": "typing", "delay": 1},
            ["presence is not one of enum values: unavailable,available,composing,recording,paused"],
        ),
        (
            "/chat/markMessageAsRead/{n}",
            {"readMessages": [{"id": "1", "remoteJid": "x"}]},
            ['readMessages[0] requires property "fromMe"'],
        ),
        (
            "/webhook/set/{n}",
            {"url": "http://x.test", "webhook_by_events": False},
            ['instance requires property "webhook"'],
        ),
        ("/webhook/set/{n}", {"webhook": {"enabled": True}}, ['webhook requires property "url"']),
        (
            "/instance/setPresence/{n}",
            {"presence": "away"},
            ["presence is not one of enum values: unavailable,available,composing,recording,paused"],
        ),
    ],
)
def test_schema_messages(
    sim: SimulatorServer, client: EvolutionClient, name: str, path: str, body: dict, messages: list[str]
) -> None:
    _open(sim, client, name)
    response = _raw(sim, "POST", path.replace("{n}", name), key=sim.api_key, json=body)
    assert (response.status_code, response.json()["response"]["message"]) == (400, [messages])


def test_unknown_webhook_event_is_rejected_by_the_enum(
    sim: SimulatorServer, client: EvolutionClient, name: str
) -> None:
    client.create_instance(name, qrcode=False)
    body = {"webhook": {"enabled": True, "url": "http://x.test", "events": ["MESSAGES_UPSERT", "CALLBACK_QUERY"]}}
    message = _raw(sim, "POST", f"/webhook/set/{name}", key=sim.api_key, json=body).json()["response"]["message"]
    assert message[0][0].startswith("webhook.events[1] is not one of enum values: APPLICATION_STARTUP,")


def test_webhook_set_without_events_is_a_500_type_error(
    sim: SimulatorServer, client: EvolutionClient, name: str
) -> None:
    client.create_instance(name, qrcode=False)
    body = {"webhook": {"enabled": True, "url": "http://x.test/h"}}
    response = _raw(sim, "POST", f"/webhook/set/{name}", key=sim.api_key, json=body)
    assert response.status_code == 500
    assert response.json()["response"]["message"] == "Cannot read properties of undefined (reading 'length')"


def test_create_with_webhook_without_events_fails_and_leaves_nothing(sim: SimulatorServer, name: str) -> None:
    body = {"instanceName": name, "integration": "WHATSAPP-BAILEYS", "webhook": {"url": "http://x.test/h"}}
    response = _raw(sim, "POST", "/instance/create", key=sim.api_key, json=body)
    assert response.status_code == 400
    assert response.json()["response"]["message"] == ["Cannot read properties of undefined (reading 'length')"]
    assert _raw(sim, "GET", f"/instance/connectionState/{name}").status_code == 404


def test_invalid_integration(sim: SimulatorServer, name: str) -> None:
    response = _raw(sim, "POST", "/instance/create", key=sim.api_key, json={"instanceName": name})
    assert response.json()["response"]["message"] == ["Invalid integration"]


def test_text_is_required(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    with pytest.raises(EvolutionBadRequest) as info:
        client.send_text(name, "5511988887777", "   ")
    assert info.value.messages == ["Text is required"]


def test_not_on_whatsapp(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    with pytest.raises(NotOnWhatsApp) as info:
        client.send_text(name, "5511999999999", "hello")
    assert info.value.raw["response"]["message"] == [
        {"jid": "5511999999999@s.whatsapp.net", "exists": False, "number": "5511999999999"}
    ]
    assert info.value.numbers == ["5511999999999"] and not info.value.retryable
    with pytest.raises(NotOnWhatsApp):
        client.send_presence(name, "5511999999999", "composing", 100)
    assert sim.messages(name) == []


def test_send_presence_errors_are_400_inside_the_try(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    """Reference §3.2 errata / rich-actions §15.1: no list of `{jid, exists}` and never a 5xx."""
    _open(sim, client, name)
    body = {"number": "5511999999999", "presence": "composing", "delay": 0}
    response = _raw(sim, "POST", f"/chat/sendPresence/{name}", key=sim.api_key, json=body)
    assert (response.status_code, response.json()) == (
        400,
        {"status": 400, "error": "Bad Request", "response": {"message": ["[object Object]"]}},
    )
    client.logout(name)
    response = _raw(sim, "POST", f"/chat/sendPresence/{name}", key=sim.api_key, json=body)
    assert (response.status_code, response.json()["response"]["message"]) == (400, ["Error: Connection Closed"])
    with pytest.raises(ConnectionClosed) as info:
        client.send_presence(name, "5511999999999", "composing", 0)
    assert info.value.status == 400


def test_whatsapp_numbers_errors_have_no_response_wrapper(
    sim: SimulatorServer, client: EvolutionClient, name: str
) -> None:
    _open(sim, client, name)
    response = _raw(sim, "POST", f"/chat/whatsappNumbers/{name}", key=sim.api_key, json={"numbers": []})
    assert response.json() == {
        "status": 400,
        "error": "Bad Request",
        "message": [["numbers does not meet minimum length of 1"]],
    }
    with pytest.raises(EvolutionBadRequest) as info:
        client.whatsapp_numbers(name, [])
    assert info.value.messages == ["numbers does not meet minimum length of 1"]
    empty = _raw(sim, "POST", f"/chat/whatsappNumbers/{name}", key=sim.api_key, json={})
    assert (empty.status_code, empty.json()) == (400, {})


def test_restart_closed_instance_is_a_swallowed_200(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    response = _raw(sim, "POST", f"/instance/restart/{name}", key=sim.api_key)
    assert (response.status_code, response.json()) == (200, {"error": True, "message": "[object Object]"})
    with pytest.raises(EvolutionSwallowedError) as info:
        client.restart(name)
    assert info.value.reason == "swallowed_error"


def test_unloaded_instance(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    """Evolution lost the instance from memory: swallowed connect, stateless state, 500 on send."""
    _open(sim, client, name)
    sim.set_faults(unloaded=[name])
    with pytest.raises(EvolutionSwallowedError):
        client.connect(name)
    assert client.connection_state(name).state is None
    with pytest.raises(EvolutionServerError) as info:
        client.send_text(name, "5511999999999", "x")
    assert info.value.messages == ["Cannot read properties of undefined (reading 'textMessage')"]


def test_logout_when_closed_is_400(client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    with pytest.raises(EvolutionBadRequest) as info:
        client.logout(name)
    assert info.value.messages == [f'The "{name}" instance is not connected']
    assert info.value.raw == {
        "status": 400,
        "error": "Bad Request",
        "response": {"message": [f'The "{name}" instance is not connected']},
    }


def test_send_from_closed_instance_is_connection_closed(client: EvolutionClient, name: str) -> None:
    client.create_instance(name)
    with pytest.raises(ConnectionClosed) as info:
        client.send_text(name, "5511999999999", "x")
    assert (info.value.status, info.value.retryable) == (500, True)


def test_disconnect_fault_open_but_sends_fail(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    _open(sim, client, name)
    human = sim.add_human(unique_phone(), "Eva")
    sim.set_faults(disconnect=[name])
    assert client.connection_state(name).state == "open"
    with pytest.raises(ConnectionClosed):
        client.send_text(name, human.phone, "x")
    assert sim.messages(name, from_me=True) == []


def test_put_restart_is_an_express_404(sim: SimulatorServer, name: str) -> None:
    response = _raw(sim, "PUT", f"/instance/restart/{name}", key=sim.api_key)
    assert response.status_code == 404
    assert response.json()["response"]["message"] == [f"Cannot PUT /instance/restart/{name}"]
    assert _raw(sim, "POST", "/foo/bar").json()["response"]["message"] == ["Cannot POST /foo/bar"]


def test_malformed_json_is_400_without_error_text(sim: SimulatorServer, name: str) -> None:
    response = _raw(
        sim, "POST", "/instance/create", content=b'{"instanceName": }', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": "Internal Server Error",
        "response": {"message": "Unexpected token } in JSON at position 17"},
    }


# -- faults and retry rules ---------------------------------------------------------------------------------


def test_5xx_fault_on_send_is_not_retried(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    peer = _open(sim, client, name + "-b")
    _open(sim, client, name)
    sim.set_faults(error_5xx_rate=1.0)
    transport = ScriptedTransport()
    with make_client(sim.url, sim.api_key, transport=transport) as counted, pytest.raises(EvolutionServerError):
        counted.send_text(name, peer, "x")
    assert transport.calls == 1
    assert sim.messages(name, from_me=True) == []


def test_5xx_fault_on_reads_is_retried(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    sim.set_faults(error_5xx_rate=1.0)
    transport = ScriptedTransport()
    with make_client(sim.url, sim.api_key, transport=transport) as counted, pytest.raises(EvolutionServerError):
        counted.connection_state(name)
    assert transport.calls == 3


def test_timeout_fault_never_double_sends(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    peer = _open(sim, client, name + "-b")
    _open(sim, client, name)
    sim.set_faults(timeout_rate=1.0, hang_s=1.0)
    transport = ScriptedTransport()
    with make_client(sim.url, sim.api_key, transport=transport, send_read_margin_s=0.3) as impatient:
        with pytest.raises(EvolutionTimeout) as info:
            impatient.send_text(name, peer, "only once")
    assert transport.calls == 1
    assert (info.value.reason, info.value.status, info.value.retryable) == ("timeout", None, False)
    assert [m.text for m in sim.messages(name, from_me=True)] == ["only once"]  # the server did send it


def test_lost_response_on_send_is_not_retried(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    peer = _open(sim, client, name + "-b")
    _open(sim, client, name)
    transport = ScriptedTransport("lost")
    with make_client(sim.url, sim.api_key, transport=transport) as flaky, pytest.raises(EvolutionTimeout):
        flaky.send_text(name, peer, "x")
    assert transport.calls == 1
    assert len(sim.messages(name, from_me=True)) == 1


def test_connect_error_is_retried_for_sends_and_reads(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    peer = _open(sim, client, name + "-b")
    _open(sim, client, name)
    transport = ScriptedTransport("connect", "connect", "connect", "lost")
    with make_client(sim.url, sim.api_key, transport=transport) as flaky:
        with pytest.raises(EvolutionUnavailable):  # three refused attempts: give up, nothing was sent
            flaky.send_text(name, peer, "x")
        assert transport.calls == 3 and sim.messages(name, from_me=True) == []
        assert flaky.connection_state(name).state == "open"  # "lost" then "ok": reads retry timeouts
    assert transport.calls == 5
    transport = ScriptedTransport("connect")
    with make_client(sim.url, sim.api_key, transport=transport) as flaky:
        flaky.send_text(name, peer, "y")
    assert transport.calls == 2
    assert [m.text for m in sim.messages(name, from_me=True)] == ["y"]


def test_unreachable_server(client: EvolutionClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with make_client(f"http://127.0.0.1:{port}", "k") as nowhere, pytest.raises(EvolutionUnavailable) as info:
        nowhere.fetch_instances()
    assert info.value.reason == "unavailable" and info.value.retryable


def test_latency_fault(sim: SimulatorServer, client: EvolutionClient, name: str) -> None:
    client.create_instance(name, qrcode=False)
    sim.set_faults(latency_ms=300)
    with make_client(sim.url, sim.api_key, timeout=0.1, attempts=1) as hasty, pytest.raises(EvolutionTimeout) as info:
        hasty.connection_state(name)
    assert info.value.retryable  # a read is safe to repeat
