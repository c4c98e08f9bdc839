"""Several simulated Evolution servers in one process: a shared network, own keys, down/up, overload, control."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mirage_app import cli
from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import ConnectionClosed, EvolutionUnauthorized, EvolutionUnavailable
from mirage_app.evolution.simulator import PoolServer, SimConfig, SimulatorPool, SimulatorState, server
from tests.evolution.conftest import Receiver, fast_config, make_client


@pytest.fixture
def pool() -> Iterator[SimulatorPool]:
    with SimulatorPool(3, config=fast_config(), capacity=80) as simulators:
        yield simulators


def _open(sim: PoolServer, client: EvolutionClient, name: str, webhook: str | None = None) -> str:
    client.create_instance(name, qrcode=False)
    phone = sim.scan(name)
    if webhook:
        client.set_webhook(name, webhook, events=[])
    return phone


def _texts(received: list[Any], event: str = "messages.upsert") -> list[str]:
    return [r.body["data"]["message"]["conversation"] for r in received if r.body["event"] == event]


def _statuses(sim: PoolServer, name: str) -> list[str]:
    return [e["data"]["status"] for e in sim.events(name, "messages.update")]


def test_servers_have_own_ports_keys_and_urls(pool: SimulatorPool) -> None:
    keys = [s.api_key for s in pool.servers]
    assert keys == ["mirage-sim-key", "mirage-sim-key-2", "mirage-sim-key-3"]
    assert len({s.port for s in pool.servers}) == 3
    assert [s.state.config.server_url for s in pool.servers] == [s.url for s in pool.servers]
    assert all(s.capacity == 80 and s.state.network is pool.network for s in pool.servers)
    s1, s2 = pool.servers[:2]
    with make_client(s2.url, s1.api_key) as wrong, make_client(s2.url, s2.api_key) as right:
        with pytest.raises(EvolutionUnauthorized):
            wrong.create_instance("x", qrcode=False)
        right.create_instance("x", qrcode=False)
    assert [i["name"] for i in pool.servers[1].state.snapshot()["instances"]] == ["x"]
    assert pool.servers[0].state.snapshot()["instances"] == []


def test_a_number_on_server_1_messages_a_number_on_server_2(pool: SimulatorPool) -> None:
    s1, s2 = pool.servers[:2]
    with (
        Receiver() as hook1,
        Receiver() as hook2,
        make_client(s1.url, s1.api_key) as c1,
        make_client(s2.url, s2.api_key) as c2,
    ):
        phone1 = _open(s1, c1, "loja", hook1.url)  # the same instance name on both servers
        phone2 = _open(s2, c2, "loja", hook2.url)
        assert pool.server_of(phone2) is s2
        c1.send_text("loja", phone2, "Oi do servidor 1")
        assert pool.wait_idle(5)
        (arrived,) = s2.messages("loja", from_me=False)
        assert (arrived.peer_phone, arrived.text) == (phone1, "Oi do servidor 1")
        assert s1.messages("loja", from_me=False) == []
        (upsert,) = [r for r in hook2.wait_for(2) if r.body["event"] == "messages.upsert"]
        assert upsert.body["server_url"] == s2.url and upsert.body["sender"] == f"{phone2}@s.whatsapp.net"
        assert upsert.body["apikey"] == s2.state.core.instances["loja"].token
        assert upsert.body["data"]["key"]["id"] == s1.messages("loja", from_me=True)[0].key_id
        assert upsert.body["data"]["pushName"] == f"Sim {phone1[-4:]}"
        assert "messages.upsert" not in [r.body["event"] for r in hook1.requests]
        assert _statuses(s1, "loja") == ["SERVER_ACK", "DELIVERY_ACK", "READ"]
        c2.send_text("loja", phone1, "Resposta")  # and back
        assert pool.wait_idle(5)
        assert [m.text for m in s1.messages("loja", from_me=False)] == ["Resposta"]


def test_humans_and_phones_are_network_wide(pool: SimulatorPool) -> None:
    s1, s2 = pool.servers[:2]
    human = s1.add_human("5511955554444", "Rita", reply_probability=1.0, optout_probability=0.0, reply_texts=["Oi"])
    with make_client(s2.url, s2.api_key) as c2:
        phone = _open(s2, c2, "a")
        c2.send_text("a", human.phone, "Olá")  # server 2 knows server 1's human
        assert pool.wait_idle(5)
        assert [m.text for m in s2.messages("a", from_me=False)] == ["Oi"]
        c2.create_instance("b", qrcode=False)
    s1.state.lifecycle.create({"instanceName": "c", "integration": "WHATSAPP-BAILEYS"})
    with pytest.raises(ValueError, match="already belongs to a"):
        s1.scan("c", phone)
    with pytest.raises(ValueError, match="linked to a simulated instance"):
        s2.add_human(phone, "Impostor")
    lone_a, lone_b = SimulatorState(), SimulatorState()  # a lone state is its own network
    assert lone_a.network is not lone_b.network


def test_down_refuses_new_and_kept_alive_connections(pool: SimulatorPool) -> None:
    s2 = pool.servers[1]
    port = s2.port
    with make_client(s2.url, s2.api_key) as kept, make_client(s2.url, s2.api_key, attempts=1) as single:
        phone = _open(s2, kept, "a")
        assert kept.connection_state("a").state == "open"  # the connection is now kept alive
        s2.go_down()
        assert s2.is_down and s2.state.is_down
        with pytest.raises(EvolutionUnavailable):
            kept.connection_state("a")
        with pytest.raises(EvolutionUnavailable):
            single.send_text("a", phone, "nobody home")
        with pytest.raises(httpx.ConnectError):
            httpx.get(s2.url, timeout=2)
        assert pool.servers[0].state.is_down is False
        with make_client(pool.servers[0].url, pool.servers[0].api_key) as other:
            other.create_instance("still-up", qrcode=False)
        s2.come_up()
        assert (s2.port, s2.is_down) == (port, False)
        assert kept.connection_state("a").state == "open"  # state survived, same port
        assert single.fetch_instances("a")[0]["ownerJid"] == f"{phone}@s.whatsapp.net"


def test_a_raw_kept_alive_connection_is_reset_not_answered(pool: SimulatorPool) -> None:
    s3 = pool.servers[2]
    with httpx.Client(base_url=s3.url, timeout=2) as http:
        assert http.get("/").status_code == 200
        s3.go_down()
        with pytest.raises(httpx.TransportError):
            http.get("/")
        s3.come_up()
        assert http.get("/").status_code == 200


def test_messages_to_a_down_server_arrive_once_after_it_comes_up(pool: SimulatorPool) -> None:
    s1, s2 = pool.servers[:2]
    with (
        Receiver() as hook2,
        make_client(s1.url, s1.api_key) as c1,
        make_client(s2.url, s2.api_key) as c2,
    ):
        _open(s1, c1, "a")
        phone2 = _open(s2, c2, "b", hook2.url)
        s2.go_down()
        c1.send_text("a", phone2, "um")
        c1.send_text("a", phone2, "dois")
        assert s1.wait_idle(5)
        time.sleep(0.2)
        assert s2.messages("b") == [] and _texts(hook2.requests) == []
        assert _statuses(s1, "a") == ["SERVER_ACK", "SERVER_ACK"]  # not delivered while the phone is away
        assert s2.state.snapshot()["instances"][0]["pendingReceptions"] == 2
        s2.come_up()
        assert pool.wait_idle(5)
        assert [m.text for m in s2.messages("b", from_me=False)] == ["um", "dois"]
        time.sleep(0.2)
        assert _texts(hook2.requests) == ["um", "dois"]
        assert sorted(_statuses(s1, "a")) == ["DELIVERY_ACK"] * 2 + ["READ"] * 2 + ["SERVER_ACK"] * 2


def test_webhook_deliveries_of_a_down_server_resume_after_come_up() -> None:
    config = fast_config(webhook_backoff_s=0.5, webhook_backoff_cap_s=0.5)
    with SimulatorPool(2, config=config) as pool, Receiver([503]) as hook:
        s2 = pool.servers[1]
        with make_client(s2.url, s2.api_key) as c2:
            _open(s2, c2, "b", hook.url)
        s2.inject_inbound("b", "5511944443333", "oi")  # upsert: 503 then a retry in ~0.5 s; contacts: 200
        hook.wait_for(2)
        s2.go_down()
        s2.inject_inbound("b", "5511944443333", "enquanto fora")  # waits like offline mail
        time.sleep(0.9)
        assert hook.events() == ["messages.upsert", "contacts.upsert"]
        assert not s2.wait_idle(0.05)  # the retry is held, not lost
        s2.come_up()
        assert s2.wait_idle(5)
        events = hook.events()
        assert events[:2] == ["messages.upsert", "contacts.upsert"]
        assert sorted(events[2:]) == ["contacts.upsert", "messages.upsert", "messages.upsert"]
        assert sorted(_texts(hook.requests)) == ["enquanto fora", "oi", "oi"]  # the 503'd one, then its retry
        attempts = [(a.event, a.attempt, a.status) for a in s2.state.core.dispatcher.attempts]
        assert attempts.count(("messages.upsert", 2, 200)) == 1


def test_overload_formula() -> None:
    config = SimConfig(capacity=80)
    assert config.overload(80) == (0.0, 0.0)
    assert config.overload(90) == (0.25, 0.0)  # 10 over × 25 ms, no failures up to 1.25 × capacity
    assert config.overload(100) == (0.5, 0.0)
    latency, failure = config.overload(101)
    assert latency == 0.525 and failure == pytest.approx(0.12)
    assert config.overload(120)[1] == pytest.approx(0.5)
    assert config.overload(1000) == (3.0, 0.5)  # both bounded
    assert SimConfig().overload(10_000) == (0.0, 0.0)  # no capacity, no overload


def test_an_overloaded_server_is_slow_and_drops_sends() -> None:
    def outcomes(seed: int) -> tuple[list[str], float, float]:
        config = fast_config(seed=seed, overload_latency_ms=100)
        with SimulatorPool(2, config=config, capacity=[2, None]) as pool:
            full, free = pool.servers
            with make_client(full.url, full.api_key) as c1, make_client(free.url, free.api_key) as c2:
                target = _open(free, c2, "t")
                for name in ("a", "b", "c"):
                    _open(full, c1, name)
                started = time.monotonic()
                c1.connection_state("a")
                slow = time.monotonic() - started
                started = time.monotonic()
                c2.connection_state("t")
                fast = time.monotonic() - started
                full.state.config.overload_latency_ms = 0
                results = []
                for i in range(30):
                    try:
                        c1.send_text("a", target, f"m{i}")
                        results.append("ok")
                    except ConnectionClosed:
                        results.append("closed")
                return results, slow, fast

    first, slow, fast = outcomes(5)
    assert slow >= 0.1 and fast < 0.1  # 1 instance over capacity: +100 ms on every route
    assert 3 <= first.count("closed") <= 27  # 3/2 = 1.5 × capacity: half the sends fail
    assert outcomes(5)[0] == first  # deterministic under the seed


def test_pool_control_over_http(pool: SimulatorPool) -> None:
    s1, s2, s3 = pool.servers
    with httpx.Client(base_url=s1.url, timeout=5) as http:
        listing = http.get("/_sim/pool").json()
        assert listing["self"] == 1
        assert [(r["index"], r["url"], r["api_key"], r["capacity"], r["down"]) for r in listing["servers"]] == [
            (s.index, s.url, s.api_key, 80, False) for s in pool.servers
        ]
        assert http.post("/_sim/pool/2/down").json()["down"] is True
        assert s2.is_down
        with pytest.raises(httpx.ConnectError):
            httpx.get(s2.url, timeout=2)
        assert [r["down"] for r in http.get("/_sim/pool").json()["servers"]] == [False, True, False]
        assert http.post("/_sim/pool/2/up").json()["down"] is False
        assert httpx.get(s2.url, timeout=2).status_code == 200
        assert http.post("/_sim/pool/9/down").status_code == 404
        assert http.post("/_sim/pool/0/up").status_code == 404
        assert http.post("/_sim/pool/1/down").json()["down"] is True  # itself: answers, then goes down
    deadline = time.monotonic() + 5
    while not s1.is_down and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(httpx.ConnectError):
        httpx.get(s1.url, timeout=2)
    assert httpx.post(f"{s3.url}/_sim/pool/1/up", timeout=5).json()["down"] is False
    assert httpx.get(f"{s1.url}/_sim/pool", timeout=2).json()["servers"][0]["instances"] == 0


def test_a_pool_of_125_servers_starts_and_stops_quickly() -> None:
    started = time.monotonic()
    pool = SimulatorPool(125, config=SimConfig(seed=1), capacity=80)
    pool.start()
    start_s = time.monotonic() - started
    try:
        for sim in pool.servers:
            for i in range(80):
                sim.state.lifecycle.create({"instanceName": f"n{i}", "integration": "WHATSAPP-BAILEYS"})
        for sim in (pool.servers[0], pool.servers[62], pool.servers[124]):
            with make_client(sim.url, sim.api_key) as client:
                assert len(client.fetch_instances()) == 80
        pool.servers[99].go_down()
        pool.servers[99].come_up()
    finally:
        stopping = time.monotonic()
        pool.stop()
    stop_s = time.monotonic() - stopping
    print(f"125 servers: start {start_s:.2f} s, stop {stop_s:.2f} s")
    assert start_s < 10 and stop_s < 10


def test_cli_runs_a_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(server, "run", lambda host, port, config, **kw: seen.update(single=(port, config.capacity)))
    monkeypatch.setattr(
        server, "run_pool", lambda host, ports, config, capacity, **kw: seen.update(pool=(ports, capacity))
    )
    assert server.main(["--servers", "3", "--port", "9000", "--capacity", "50"]) == 0
    assert seen.pop("pool") == ([9000, 9001, 9002], 50)
    assert server.main(["--servers", "3", "--ports", "9100,9105"]) == 0
    assert seen.pop("pool") == ([9100, 9105], None)
    assert server.main(["--capacity", "7"]) == 0
    assert seen.pop("single") == (8081, 7)
    monkeypatch.setattr("mirage_app.evolution.simulator.main", lambda argv: seen.update(argv=argv) or 0)
    assert cli.main(["sim", "--servers", "2", "--ports", "8091,8092", "--capacity", "80", "--fast"]) == 0
    assert seen["argv"] == ["--servers", "2", "--ports", "8091,8092", "--capacity", "80", "--fast"]
