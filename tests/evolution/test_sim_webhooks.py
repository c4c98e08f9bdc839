"""Webhook delivery from the simulator to a real local receiver: shapes, byEvents, headers, retries, faults."""

from __future__ import annotations

import re

import pytest

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.simulator import SimulatorServer
from mirage_app.evolution.webhook import normalise
from tests.evolution.conftest import Receiver, fast_config, make_client

BODY_KEYS = ["event", "instance", "data", "destination", "date_time", "sender", "server_url", "apikey"]
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_body_shape_and_sender_only_after_first_open(
    sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str
) -> None:
    created = client.create_instance(name, webhook_url=receiver.url, webhook_events=[])
    first = receiver.wait_for(3)
    assert [r.body["event"] for r in first] == ["instance.create", "connection.update", "qrcode.updated"]
    assert all("sender" not in r.body for r in first)
    qr = first[2].body
    assert list(qr) == [k for k in BODY_KEYS if k != "sender"]
    assert qr["data"]["qrcode"]["code"] == created.qr.code if created.qr else False
    assert (qr["destination"], qr["server_url"], qr["apikey"]) == (receiver.url, sim.url, created.token)
    assert ISO_MS.fullmatch(qr["date_time"])
    phone = sim.scan(name)
    opened = receiver.wait_for(5)[-1].body
    assert list(opened) == BODY_KEYS
    assert opened["sender"] == f"{phone}@s.whatsapp.net"
    assert opened["data"] == {
        "instance": name,
        "wuid": f"{phone}@s.whatsapp.net",
        "profileName": f"Sim {phone[-4:]}",
        "state": "open",
        "statusReason": 200,
    }
    assert all(normalise(r.body).instance == name for r in receiver.requests)


def test_message_flow_between_two_simulated_numbers(
    sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str
) -> None:
    a, b = name + "-a", name + "-b"
    for instance in (a, b):
        client.create_instance(instance, qrcode=False)
    phone_a, phone_b = sim.scan(a, profile_name="Alice"), sim.scan(b, profile_name="Bruno")
    for instance in (a, b):
        client.set_webhook(instance, f"{receiver.url}/{instance}", events=[])
    sent = client.send_text(a, phone_b, "Oi Bruno", delay_ms=800)
    assert sim.wait_idle(5)
    at_a = [r.body for r in receiver.requests if r.path.endswith(f"/{a}")]
    at_b = [r.body for r in receiver.requests if r.path.endswith(f"/{b}")]
    assert [e["event"] for e in at_a] == ["send.message"] + ["messages.update"] * 3
    assert at_a[0]["data"] == sent.raw
    updates = [normalise(e) for e in at_a[1:]]
    assert [u.status for u in updates] == ["server_ack", "delivered", "read"]
    assert {u.wa_msg_id for u in updates} == {sent.key_id}
    assert [e["event"] for e in at_b] == ["messages.upsert", "contacts.upsert"]
    upsert = normalise(at_b[0])
    assert (upsert.wa_msg_id, upsert.phone, upsert.from_me, upsert.text) == (sent.key_id, phone_a, False, "Oi Bruno")
    assert (upsert.push_name, upsert.status) == ("Alice", "delivered")
    assert at_b[0]["data"]["source"] == "web"  # same id on both ends, so Evolution reports the sender's device
    assert [m.key_id for m in sim.messages(b)] == [sent.key_id]


def test_by_events_suffixes_and_custom_headers(
    sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str
) -> None:
    headers = {"authorization": "Bearer s3cret", "x-mirage-session": "abc"}
    client.create_instance(name, qrcode=False)
    client.set_webhook(name, receiver.url, headers, events=[], by_events=True)
    sim.scan(name)
    sim.inject_inbound(name, "5511911112222", "oi")
    assert sim.wait_idle(5)
    assert [r.path for r in receiver.requests] == [
        "/hook/connection-update",
        "/hook/qrcode-updated",
        "/hook/connection-update",
        "/hook/connection-update",
        "/hook/messages-upsert",
        "/hook/contacts-upsert",
    ]
    for request in receiver.requests:
        assert request.body["destination"] == receiver.url
        assert request.headers["authorization"] == "Bearer s3cret"
        assert request.headers["x-mirage-session"] == "abc"
        assert request.headers["content-type"] == "application/json"


def test_event_filter_and_disabled_webhook(
    sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str
) -> None:
    client.create_instance(name, webhook_url=receiver.url, webhook_events=["MESSAGES_UPSERT"])
    sim.scan(name)
    sim.inject_inbound(name, "5511911113333", "primeira")
    assert sim.wait_idle(5)
    assert receiver.events() == ["messages.upsert"]
    client.set_webhook(name, receiver.url, events=["MESSAGES_UPSERT"], enabled=False)
    sim.inject_inbound(name, "5511911113333", "segunda")
    assert sim.wait_idle(5)
    assert receiver.events() == ["messages.upsert"]


def test_logout_sequence(sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str) -> None:
    client.create_instance(name, qrcode=False)
    sim.scan(name)
    client.set_webhook(name, receiver.url, events=[])
    client.logout(name)
    assert sim.wait_idle(5)
    assert receiver.events() == ["status.instance", "logout.instance", "connection.update"]
    status, logout, close = (r.body for r in receiver.requests)
    assert status["data"]["disconnectionReasonCode"] == 401 and status["data"]["status"] == "closed"
    assert logout["data"] is None
    closed = normalise(close)
    assert (closed.state, closed.status_reason, closed.logged_out, closed.is_ban_like) == ("close", 401, True, False)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_retries_until_success(sim: SimulatorServer, client: EvolutionClient, name: str, status: int) -> None:
    with Receiver([status, status]) as flaky:
        client.create_instance(name, qrcode=False, webhook_url=flaky.url, webhook_events=["INSTANCE_CREATE"])
        assert sim.wait_idle(5)
        assert len(flaky.requests) == 3
        assert len({str(r.body) for r in flaky.requests}) == 1
    attempts = [a for a in sim.state.core.dispatcher.attempts if a.url == flaky.url]
    assert [(a.attempt, a.status) for a in attempts] == [(1, status), (2, status), (3, 200)]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_no_retry_on_client_errors(sim: SimulatorServer, client: EvolutionClient, name: str, status: int) -> None:
    with Receiver([status]) as refusing:
        client.create_instance(name, qrcode=False, webhook_url=refusing.url, webhook_events=["INSTANCE_CREATE"])
        assert sim.wait_idle(5)
        assert len(refusing.requests) == 1


def test_gives_up_after_max_attempts(receiver: Receiver) -> None:
    receiver.statuses.extend([500] * 10)
    with SimulatorServer(config=fast_config(webhook_max_attempts=4)) as sim, make_client(sim.url, sim.api_key) as c:
        c.create_instance("x", qrcode=False, webhook_url=receiver.url, webhook_events=["INSTANCE_CREATE"])
        assert sim.wait_idle(5)
    assert len(receiver.requests) == 4


def test_unreachable_receiver_does_not_block_requests() -> None:
    with SimulatorServer(config=fast_config(webhook_max_attempts=2)) as sim, make_client(sim.url, sim.api_key) as c:
        c.create_instance("x", webhook_url="http://127.0.0.1:9/nobody", webhook_events=[])
        assert c.connection_state("x").state == "connecting"
        assert sim.wait_idle(5)
    failures = [a for a in sim.state.core.dispatcher.attempts if a.status is None]
    assert len(failures) == 2 * 3 and all(a.error for a in failures)  # 3 events, 2 attempts each


def test_duplicate_fault(sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str) -> None:
    sim.set_faults(duplicate_rate=1.0)
    client.create_instance(name, webhook_url=receiver.url, webhook_events=["INSTANCE_CREATE", "QRCODE_UPDATED"])
    assert sim.wait_idle(5)
    assert sorted(receiver.events()) == ["instance.create", "instance.create", "qrcode.updated", "qrcode.updated"]
    creates = [r.body for r in receiver.requests if r.body["event"] == "instance.create"]
    assert creates[0] == creates[1]


def test_reorder_fault(sim: SimulatorServer, client: EvolutionClient, receiver: Receiver, name: str) -> None:
    client.create_instance(name, qrcode=False)
    peer = name + "-peer"
    client.create_instance(peer, qrcode=False)
    phone = sim.scan(peer)
    sim.scan(name)
    client.set_webhook(name, receiver.url, events=["SEND_MESSAGE", "MESSAGES_UPDATE"])
    sim.set_faults(reorder_rate=1.0, reorder_hold_s=0.2)
    client.send_text(name, phone, "fora de ordem")
    assert sim.wait_idle(5)
    statuses = [r.body["data"].get("status") for r in receiver.requests]
    assert statuses == ["SERVER_ACK", "PENDING", "READ", "DELIVERY_ACK"]  # pairs swapped, nothing lost
