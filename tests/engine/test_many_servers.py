"""Many Evolution servers behind one Mirage, over real HTTP: a pool of simulated servers (one process, own ports,
keys and state), Mirage's webhook route, the real send pipeline on a warped clock.

Placement under concurrent creations never overfills a server; every call for a number goes to its server; a
server taken down holds its numbers' sends (no attempt used, no failure streak) and they go out once when it is
back; a draining server takes no new numbers and a re-paired number moves with its history; one tenant never sees
another's servers.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.engine.evolution_gateway import client_for
from mirage_app.engine.runtime import EngineRuntime, EngineSettings, ManualDeferrer, use_runtime
from mirage_app.engine.server_health import probe_all
from mirage_app.evolution.simulator import SimConfig
from mirage_app.evolution.simulator.pool import SimulatorPool
from mirage_app.models import UserRole
from mirage_app.services import api_keys, instances
from mirage_app.services import evolution_servers as servers
from tests.conftest import free_server_urls
from tests.engine import scenario
from tests.engine.conftest import Engine, park_all_conversations, wait_for
from tests.engine.driver import Driver

pytestmark = pytest.mark.usefixtures("text_only")  # pacing, caps and faults of text turns


class PoolSim:
    """The pool seen as one simulator by the engine test tools (scan by instance, every server's messages)."""

    def __init__(self, pool: SimulatorPool) -> None:
        self.pool = pool

    def holder(self, instance: str):
        return next(s for s in self.pool.servers if instance in s.state.core.instances)

    def scan(self, instance: str, phone: str | None = None, profile_name: str | None = None) -> str:
        return self.holder(instance).scan(instance, phone, profile_name)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        return all(s.wait_idle(timeout) for s in self.pool.servers if not s.is_down)

    def messages(self, *, from_me: bool | None = None) -> list:
        return [m for s in self.pool.servers for m in s.state.messages(from_me=from_me)]


@pytest.fixture
def pool(api_server, warp_clock):
    config = SimConfig(webhook_backoff_s=0.05, webhook_backoff_cap_s=0.2, seed=13)
    with SimulatorPool(3, config=config, clock=warp_clock) as running:
        free_server_urls([server.url for server in running.servers])
        yield running


@pytest.fixture
def only_own_servers():
    """Platform servers take no numbers during the test (so a full pool is this tenant's servers being full)."""
    with admin_engine().begin() as conn:
        saved = conn.execute(text("SELECT id, state FROM evolution_servers WHERE tenant_id IS NULL")).all()
        conn.execute(text("UPDATE evolution_servers SET state = 'draining' WHERE tenant_id IS NULL"))
    yield
    with admin_engine().begin() as conn:
        for row in saved:
            conn.execute(text("UPDATE evolution_servers SET state = :s WHERE id = :id"), {"s": row.state, "id": row.id})


def add_servers(actor, pool, capacities) -> list[servers.ServerView]:
    return [
        servers.add_server(actor, f"Evo {i + 1}", server.url, server.api_key, capacity)
        for i, (server, capacity) in enumerate(zip(pool.servers, capacities, strict=False))
    ]


def server_index(pool, view) -> int:
    return next(i for i, s in enumerate(pool.servers) if servers.clean_url(s.url) == view.base_url)


def number_row(tenant, number_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text(
                "SELECT server_id, status::text AS status, failure_streak, paused_reason, session_id "
                "FROM numbers WHERE id = :id"
            ),
            {"id": number_id},
        ).one()


def test_concurrent_creates_never_overfill_a_server_and_calls_stick_to_it(pool, admin_actor, only_own_servers):
    views = add_servers(admin_actor, pool, [2, 3, 1])
    results: list[object] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        try:
            made = instances.create_instance(admin_actor, f"Parallel {i}")
        except Exception as exc:
            made = exc
        with lock:
            results.append(made)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    made = [r for r in results if isinstance(r, instances.QrView)]
    refused = [r for r in results if not isinstance(r, instances.QrView)]
    assert len(made) == 6 and len(refused) == 4, [(getattr(r, "code", r), str(r)) for r in refused] + [
        (v.name, v.placed, v.capacity, v.health, v.state) for v in servers.list_servers(admin_actor)
    ]
    assert all(isinstance(r, Conflict) and r.code == "servers.pool_full" for r in refused)
    placed = {v.id: v.placed for v in servers.list_servers(admin_actor) if v.owner == "tenant"}
    assert placed == {views[0].id: 2, views[1].id: 3, views[2].id: 1}
    with tenant_session(admin_actor.tenant_id) as s:
        assert s.execute(text("SELECT count(*) FROM numbers")).scalar() == 6  # nothing half-made

    # Sticky: each instance lives on exactly the server its row names, and calls for it go there.
    by_id = {v.id: v for v in views}
    for view in made:
        row = number_row(admin_actor.tenant_id, view.id)
        holder = pool.servers[server_index(pool, by_id[row.server_id])]
        assert [s.index for s in pool.servers if view.session_id in s.state.core.instances] == [holder.index]
        assert instances.get_qr(admin_actor, view.id).qr_code  # answered by its own server (others would 404)

    # A full server can be asked for by name and says so; capacity cannot drop below what is placed.
    with pytest.raises(Conflict) as full:
        instances.create_instance(admin_actor, "Too many", server_id=views[0].id)
    assert full.value.code == "servers.unavailable" and full.value.field == "server_id"
    with pytest.raises(ValidationFailed) as low:
        servers.update_server(admin_actor, views[1].id, capacity=2)
    assert low.value.field == "capacity"
    assert servers.update_server(admin_actor, views[1].id, capacity=4).capacity == 4


@pytest.fixture
def pool_engine(pool, warp_clock, admin_actor):
    get_redis().flushdb()
    park_all_conversations()
    deferrer = ManualDeferrer()
    settings = EngineSettings(retry_base_s=30.0, max_send_attempts=5, failure_streak_pause=5)
    rt = EngineRuntime(clock=warp_clock, deferrer=deferrer, settings=settings, llm=lambda: None)
    sim = PoolSim(pool)
    with use_runtime(rt):
        yield Engine(warp_clock, deferrer, rt, sim, None, Driver(warp_clock, deferrer, sim, admin_actor.tenant_id))


def test_a_server_down_for_ten_minutes_holds_sends_then_they_go_out_once(pool, pool_engine, admin_actor):
    engine, tenant = pool_engine, admin_actor.tenant_id
    views = add_servers(admin_actor, pool, [5, 5])
    sc = scenario.build(admin_actor, engine, ["5511930000001", "5511930000002"], mode="pair", max_rounds=1)
    homes = {number_row(tenant, n).server_id for n in sc.numbers}
    assert homes == {views[0].id, views[1].id}  # least loaded first: one number on each server

    for server in pool.servers:
        server.go_down()
    engine.driver.tick()
    engine.driver.settle()
    [first] = scenario.messages(tenant, sc.conversation_id)
    assert first.status == "queued" and first.attempts == 0 and first.wait_reason == "server_unreachable"
    assert engine.sim.messages(from_me=True) == []

    probe_all(engine.clock)
    shown = {v.id: v.server_health for v in instances.list_instances(admin_actor, engine.clock)}
    assert set(shown.values()) == {"unreachable"}
    for _ in range(10):  # ten minutes down: held by the gate, no call, no attempt, no streak
        engine.driver.advance(timedelta(minutes=1))
    [held] = scenario.messages(tenant, sc.conversation_id)
    assert held.status == "queued" and held.attempts == 0
    for number_id in sc.numbers:
        row = number_row(tenant, number_id)
        assert (row.status, row.failure_streak, row.paused_reason) == ("connected", 0, None)

    for server in pool.servers:
        server.come_up()
    probe_all(engine.clock)
    engine.driver.advance(timedelta(minutes=3))
    msgs = scenario.messages(tenant, sc.conversation_id)
    assert [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["done"]
    sent = Counter(m.text for m in engine.sim.messages(from_me=True))
    assert sent and all(count == 1 for count in sent.values()), sent
    assert sent == Counter(m.body for m in msgs if m.wa_msg_id and m.status != "failed")
    assert all(number_row(tenant, n).failure_streak == 0 for n in sc.numbers)


def test_drain_then_repair_moves_a_number_with_its_history(pool, api_server, admin_actor, only_own_servers):
    views = add_servers(admin_actor, pool, [5, 5])
    a = instances.create_instance(admin_actor, "Moving", server_id=views[0].id)
    b = instances.create_instance(admin_actor, "Staying", server_id=views[1].id)
    sim = PoolSim(pool)
    sim.scan(a.session_id, "5511940000001")
    sim.scan(b.session_id, "5511940000002")
    tenant = admin_actor.tenant_id
    assert wait_for(lambda: {number_row(tenant, n).status for n in (a.id, b.id)} == {"connected"})
    client_for(tenant, views[0].id).send_text(a.session_id, "5511940000002", "Oi, tudo certo?")
    assert wait_for(lambda: len(instances.recent_messages(admin_actor, a.id)) == 1)

    drained = servers.set_state(admin_actor, views[0].id, "draining")
    assert drained.state == "draining"
    assert [n.id for n in servers.numbers_on(admin_actor, views[0].id)] == [a.id]
    c = instances.create_instance(admin_actor, "New one")
    assert number_row(tenant, c.id).server_id == views[1].id  # a draining server takes no new numbers

    instances.stop(admin_actor, a.id)
    again = instances.reconnect(admin_actor, a.id)
    assert again.id == a.id and again.qr_code
    assert number_row(tenant, a.id).server_id == views[1].id
    assert a.session_id in pool.servers[1].state.core.instances
    assert a.session_id not in pool.servers[0].state.core.instances
    assert servers.numbers_on(admin_actor, views[0].id) == []
    assert [m.body for m in instances.recent_messages(admin_actor, a.id)] == ["Oi, tudo certo?"]  # history kept
    sim.scan(a.session_id, "5511940000001")
    assert wait_for(lambda: number_row(tenant, a.id).status == "connected")
    held = servers.server_impact(admin_actor, views[1].id)  # what the confirmation dialog says
    assert held.blocked and [d.name for d in held.dependents] == ["3"]  # a, b and c
    with pytest.raises(Conflict):
        servers.delete_server(admin_actor, views[1].id)  # numbers are on it
    assert not servers.server_impact(admin_actor, views[0].id).blocked
    servers.delete_server(admin_actor, views[0].id)  # empty now


def test_another_tenant_never_sees_a_tenants_own_server(pool, api_server, admin_actor, make_tenant):
    [own] = add_servers(admin_actor, pool, [3])
    other = Actor(tenant_id=make_tenant(), role=UserRole.admin, label="other", mfa_enabled=True)
    assert own.id not in {v.id for v in servers.list_servers(other)}
    with pytest.raises(NotFound):
        servers.get_server(other, own.id)
    with pytest.raises(Conflict):
        instances.create_instance(other, "Not yours", server_id=own.id)
    with tenant_session(other.tenant_id) as s:
        assert s.execute(text("SELECT count(*) FROM evolution_servers WHERE id = :id"), {"id": own.id}).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM evolution_server_keys")).scalar() == 0  # no platform key either
        assert s.execute(text("SELECT * FROM mirage_evolution_credentials(:id)"), {"id": own.id}).first() is None
        updated = s.execute(text("UPDATE evolution_servers SET capacity = 1 WHERE id = :id"), {"id": own.id})
        assert updated.rowcount == 0

    _, key = api_keys.create_key(admin_actor, "script")
    _, other_key = api_keys.create_key(other, "other script")
    with httpx.Client(base_url=api_server.url, timeout=10) as http:
        mine = http.get("/api/evolution-servers", headers={"Authorization": f"Bearer {key}"}).json()["servers"]
        row = next(r for r in mine if r["id"] == str(own.id))
        assert row["owner"] == "tenant" and row["capacity"] == 3 and "api_key" not in row and "key" not in str(row)
        theirs = http.get("/api/evolution-servers", headers={"Authorization": f"Bearer {other_key}"}).json()
        assert str(own.id) not in {r["id"] for r in theirs["servers"]}
        missing = http.get(f"/api/evolution-servers/{own.id}", headers={"Authorization": f"Bearer {other_key}"})
        assert missing.status_code == 404 and missing.json()["error"] == "servers.not_found"


def test_bad_servers_are_refused_with_the_field_and_nothing_saved(pool, api_server, admin_actor):
    good = pool.servers[0]
    before = len(servers.list_servers(admin_actor))
    cases = [
        (dict(base_url="ftp://x"), "base_url", "servers.url_invalid"),
        (dict(base_url="http://127.0.0.1:9"), "base_url", "servers.unreachable"),
        (dict(base_url=api_server.url), "base_url", "servers.not_evolution"),
        (dict(api_key="wrong-key"), "api_key", "servers.key_refused"),
        (dict(capacity="0"), "capacity", "servers.capacity_invalid"),
        (dict(name=" "), "name", "servers.name_required"),
    ]
    for change, field, code in cases:
        args = dict(name="Bad", base_url=good.url, api_key=good.api_key, capacity=10) | change
        with pytest.raises(ValidationFailed) as err:
            servers.add_server(admin_actor, **args)
        assert (err.value.field, err.value.code) == (field, code), change
    assert len(servers.list_servers(admin_actor)) == before
    servers.add_server(admin_actor, "Good", good.url + "/", good.api_key, 10)
    with pytest.raises(ValidationFailed) as dup:
        servers.add_server(admin_actor, "Again", good.url.upper().replace("HTTP", "http"), good.api_key, 10)
    assert dup.value.code == "servers.duplicate_url"
    no_mfa = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.admin, label="no mfa", mfa_enabled=False)
    with pytest.raises(PermissionDenied) as denied:
        servers.add_server(no_mfa, "No MFA", pool.servers[1].url, pool.servers[1].api_key, 10)
    assert denied.value.reason == "mfa_required"


def test_metrics_exposition_is_local_or_token_only(pool, api_server, admin_actor, monkeypatch):
    add_servers(admin_actor, pool, [4])
    probe_all()
    with httpx.Client(base_url=api_server.url, timeout=10) as http:
        body = http.get("/api/metrics").text
        assert 'mirage_evolution_server_up{server="Evo 1"} 1.0' in body
        assert 'mirage_evolution_server_capacity{server="Evo 1"} 4.0' in body
        assert "mirage_queue_jobs{" in body and "mirage_scheduler_alive" in body
        monkeypatch.setenv("MIRAGE_METRICS_TOKEN", uuid.uuid4().hex)
        from mirage_app.core.config import reset_settings_cache

        reset_settings_cache()
        try:
            assert http.get("/api/metrics").status_code == 404
            token = {"Authorization": f"Bearer {__import__('os').environ['MIRAGE_METRICS_TOKEN']}"}
            assert http.get("/api/metrics", headers=token).status_code == 200
        finally:
            monkeypatch.delenv("MIRAGE_METRICS_TOKEN")
            reset_settings_cache()


def _licence_gated_app():
    """An Evolution 2.4 server that is not activated: `/` answers, every business route is 503 LICENSE_REQUIRED."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def welcome(request):
        body = {"status": 200, "message": "Welcome to the Evolution API, it is working!", "version": "2.4.0"}
        return JSONResponse(body)

    async def gated(request):
        body = {"error": "service not activated", "code": "LICENSE_REQUIRED", "message": "not activated"}
        return JSONResponse(body, status_code=503)

    return Starlette(routes=[Route("/", welcome), Route("/{path:path}", gated, methods=["GET", "POST", "DELETE"])])


def test_a_licence_gated_server_is_saved_and_shown_as_such(api_server, admin_actor, only_own_servers):
    from mirage_app.evolution.simulator import BackgroundServer

    with BackgroundServer(_licence_gated_app()) as gated:
        view = servers.add_server(admin_actor, "Evo 2.4", gated.url, "any-key", 10)
        assert (view.health, view.version, view.held) == ("license_required", "2.4.0", True)
        with pytest.raises(Conflict) as err:  # held servers take no new numbers
            instances.create_instance(admin_actor, "Nowhere", server_id=view.id)
        assert err.value.code == "servers.unavailable"
