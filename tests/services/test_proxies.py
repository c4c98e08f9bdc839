"""The proxy pool: encrypted at rest, sticky assignment of at most N numbers, applied through Evolution's
`/proxy/set` and read back with `/proxy/find` (the simulator over real HTTP), the "test" against a live and a dead
local proxy, and a failing proxy holding its number's sends (held, not failed)."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, PermissionDenied, ValidationFailed
from mirage_app.base.impact import Effect
from mirage_app.base.permissions import Actor
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.security import decrypt
from mirage_app.engine import sending
from mirage_app.engine.evolution_gateway import EvolutionFailure, simulator_scan
from mirage_app.models import Number, NumberStatus, UserRole
from mirage_app.services import instances, proxies, tenant_settings
from tests.conftest import make_number, wait_for
from tests.engine.conftest import (  # noqa: F401  (fixtures)
    OUTREACH_FAST,
    connect_numbers,
    engine,
    engine_settings,
    queue_messages,
    warp_clock,
    warp_sim,
)
from tests.fakes.proxy_server import FakeProxy, dead_port

SECRET = "s3cr3t-P@ss:word"


def _as(actor: Actor, role: UserRole) -> Actor:
    return dataclasses.replace(actor, role=role)


def _add(actor, port: object, **kw) -> proxies.ProxyView:
    values = {"label": "", "host": "127.0.0.1", "port": port, "protocol": "http", "max_numbers": 2} | kw
    return proxies.add_proxy(actor, **values)


def _proxy_of(actor, number_id):
    with tenant_session(actor.tenant_id) as s:
        return s.get(Number, number_id).proxy_id


def _connected_number(actor, phone: str) -> Number:
    view = instances.create_instance(actor, f"Chip {phone[-4:]}")
    with tenant_session(actor.tenant_id) as s:
        server = s.get(Number, view.id).server_id
        base = s.execute(text("SELECT base_url FROM evolution_servers WHERE id = :id"), {"id": server}).scalar()
    simulator_scan(base, view.session_id, phone)

    def connected() -> bool:
        with tenant_session(actor.tenant_id) as s:
            return s.get(Number, view.id).status == NumberStatus.connected

    assert wait_for(connected)
    with tenant_session(actor.tenant_id) as s:
        return s.get(Number, view.id)


def test_the_password_is_encrypted_at_rest_and_never_shown(admin_actor):
    view = _add(admin_actor, 3128, username="me", password=SECRET, label="Casa")
    assert view.has_password and not hasattr(view, "password")
    with admin_engine().connect() as conn:
        row = conn.execute(text("SELECT to_jsonb(p) FROM proxies p WHERE id = :id"), {"id": view.id}).scalar()
        audit = conn.execute(
            text("SELECT jsonb_agg(to_jsonb(a)) FROM audit_log a WHERE entity_id = :id"), {"id": str(view.id)}
        ).scalar()
    assert SECRET not in json.dumps(row) and SECRET not in json.dumps(audit)
    assert decrypt(row["password_enc"]) == SECRET
    assert [p.label for p in proxies.list_proxies(admin_actor)] == ["Casa"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"host": "not a host!"}, "host"), ({"port": "80a"}, "port"), ({"port": 70000}, "port"),
     ({"protocol": "ftp"}, "protocol"), ({"max_numbers": 0}, "max_numbers")],
)  # fmt: skip
def test_bad_input_names_its_field_and_writes_nothing(admin_actor, changes, field):
    with pytest.raises(ValidationFailed) as caught:
        _add(admin_actor, **({"port": 3128} | changes))
    assert caught.value.field == field
    assert proxies.list_proxies(admin_actor) == []


def test_the_same_proxy_twice_is_a_conflict(admin_actor):
    _add(admin_actor, 3128, username="me")
    with pytest.raises(Conflict) as caught:
        _add(admin_actor, 3128, host="127.0.0.1", username="me")
    assert caught.value.field == "host"


def test_only_admins_change_the_pool_and_operators_assign(admin_actor):
    operator = _as(admin_actor, UserRole.operator)
    with pytest.raises(PermissionDenied):
        _add(operator, 3128)
    view = _add(admin_actor, 3128)
    for call in (lambda: proxies.delete_proxy(operator, view.id), lambda: proxies.test_proxy(operator, view.id)):
        with pytest.raises(PermissionDenied):
            call()
    number = make_number(admin_actor.tenant_id)
    assert proxies.assign_proxy(operator, number, view.id).proxy_id == view.id
    with pytest.raises(PermissionDenied):
        proxies.assign_proxy(_as(admin_actor, UserRole.viewer), number, None)


def test_assignment_is_sticky_and_never_passes_the_limit(admin_actor):
    tenant = admin_actor.tenant_id
    small = _add(admin_actor, 3128, max_numbers=2)
    big = _add(admin_actor, 3129, max_numbers=3)
    numbers = [make_number(tenant, f"N{i}") for i in range(5)]
    with ThreadPoolExecutor(4) as pool:  # five numbers race for the small proxy's two places
        outcomes = list(pool.map(lambda n: _try_assign(admin_actor, n, small.id), numbers))
    assert outcomes.count("ok") == 2 and outcomes.count("full") == 3
    placed = [n for n, outcome in zip(numbers, outcomes, strict=False) if outcome == "ok"]
    for number in numbers:
        proxies.auto_assign(admin_actor, number)
    assert all(_proxy_of(admin_actor, n) == small.id for n in placed)  # sticky: they keep their proxy
    counts = {p.id: p.assigned for p in proxies.list_proxies(admin_actor)}
    assert counts == {small.id: 2, big.id: 3}
    extra = make_number(tenant, "N6")
    with pytest.raises(Conflict) as caught:
        proxies.auto_assign(admin_actor, extra)
    assert caught.value.code == "proxy.pool_full"


def _try_assign(actor, number_id, proxy_id) -> str:
    try:
        proxies.assign_proxy(actor, number_id, proxy_id)
    except Conflict:
        return "full"
    return "ok"


def test_proxy_set_is_applied_and_read_back(simulator, admin_actor):
    number = _connected_number(admin_actor, "5511988100001")
    with FakeProxy() as live:
        view = _add(admin_actor, live.port, username="me", password=SECRET)
        assigned = proxies.assign_proxy(admin_actor, number.id, view.id)
    assert (assigned.proxy_id, _proxy_of(admin_actor, number.id)) == (view.id, view.id)
    stored = simulator.state.proxies.find(number.session_id)
    assert (stored["host"], stored["port"], stored["protocol"], stored["username"]) == (
        "127.0.0.1", str(live.port), "http", "me"
    )  # fmt: skip
    assert stored["password"] == "s3cr3t-P%40ss%3Aword"  # pre-encoded for Evolution's unencoded proxy URL
    assert proxies.number_proxies(admin_actor)[number.id].label == view.label

    proxies.assign_proxy(admin_actor, number.id, None)  # off the proxy: disabled at Evolution too
    assert simulator.state.proxies.find(number.session_id)["enabled"] is False
    assert _proxy_of(admin_actor, number.id) is None


def test_a_proxy_evolution_refuses_changes_nothing(simulator, admin_actor):
    number = _connected_number(admin_actor, "5511988100002")
    dead = _add(admin_actor, dead_port())
    with pytest.raises(EvolutionFailure) as caught:
        proxies.assign_proxy(admin_actor, number.id, dead.id)
    assert caught.value.code == "proxy.evolution_refused" and caught.value.field == "proxy_id"
    assert "#2054" in caught.value.message
    assert _proxy_of(admin_actor, number.id) is None
    assert simulator.state.proxies.find(number.session_id) is None

    https = _add(admin_actor, 443, protocol="https")
    with pytest.raises(ValidationFailed) as unsupported:
        proxies.assign_proxy(admin_actor, number.id, https.id)
    assert unsupported.value.code == "proxy.protocol_unsupported"
    assert not next(p for p in proxies.list_proxies(admin_actor) if p.id == https.id).evolution_supported


def test_deleting_a_proxy_unassigns_its_numbers(simulator, admin_actor):
    number = _connected_number(admin_actor, "5511988100003")
    with FakeProxy() as live:
        view = _add(admin_actor, live.port)
        proxies.assign_proxy(admin_actor, number.id, view.id)
    impact = proxies.proxy_impact(admin_actor, view.id)  # what the confirmation says before the delete
    assert [(d.kind, d.name, d.effect) for d in impact.dependents] == [("number_proxy", number.label, Effect.detached)]
    assert not impact.blocked
    assert proxies.delete_proxy(admin_actor, view.id) == 1
    assert _proxy_of(admin_actor, number.id) is None
    assert simulator.state.proxies.find(number.session_id)["enabled"] is False
    assert proxies.list_proxies(admin_actor) == []


def test_the_test_button_against_a_live_and_a_dead_proxy(admin_actor, monkeypatch):
    failures = []
    monkeypatch.setattr(proxies, "on_proxy_failure", lambda *args: failures.append(args))
    with FakeProxy(username="me", password=SECRET) as live:
        good = _add(admin_actor, live.port, username="me", password=SECRET)
        wrong = _add(admin_actor, live.port, username="you", password="nope", label="wrong")
        assert proxies.test_proxy(admin_actor, good.id).last_test_ok is True
        assert live.connects == ["CONNECT web.whatsapp.com:443 HTTP/1.1"]
        refused = proxies.test_proxy(admin_actor, wrong.id)
    assert (refused.last_test_ok, refused.last_test_error) == (False, "credentials refused (407)")
    dead = _add(admin_actor, dead_port(), label="dead")
    number = make_number(admin_actor.tenant_id)
    proxies.assign_proxy(admin_actor, number, dead.id)
    tested = proxies.test_proxy(admin_actor, dead.id, timeout_s=1.0)
    assert tested.last_test_ok is False and tested.last_test_error
    proxies.test_proxy(admin_actor, dead.id, timeout_s=1.0)  # still failing: not reported again
    assert [(f[1], f[3]) for f in failures] == [(wrong.id, []), (dead.id, [number])]


def test_a_failing_proxy_holds_the_numbers_sends_without_failing_them(engine, admin_actor):  # noqa: F811
    tenant = admin_actor.tenant_id
    tenant_settings.update_settings(admin_actor, **OUTREACH_FAST)  # no quiet hours: only the proxy holds
    a, b = connect_numbers(admin_actor, engine.sim, ["5511988200001", "5511988200002"], engine.clock)
    port = dead_port()
    view = _add(admin_actor, port)
    with tenant_session(tenant) as s:  # put it on the proxy in the database (Evolution would refuse a dead one)
        s.execute(text("UPDATE numbers SET proxy_id = :p WHERE id = :n"), {"p": view.id, "n": a})
        s.commit()
    proxies.test_proxy(admin_actor, view.id, clock=engine.clock, timeout_s=1.0)
    [message] = queue_messages(tenant, a, b, 1, engine.clock)
    outcome = sending.process(tenant, message)
    assert (outcome.state, outcome.reason) == ("deferred", "proxy_failing")
    with tenant_session(tenant) as s:
        row = s.execute(text("SELECT status::text, attempts, wait_reason FROM messages WHERE id = :m"),
                        {"m": message}).one()  # fmt: skip
    assert tuple(row) == ("queued", 0, "proxy_failing")
    assert engine.sim.messages(from_me=True) == []

    with FakeProxy() as live:  # the proxy answers again
        with tenant_session(tenant) as s:
            s.execute(text("UPDATE proxies SET port = :port WHERE id = :p"), {"port": live.port, "p": view.id})
            s.commit()
        assert proxies.test_proxy(admin_actor, view.id, clock=engine.clock).last_test_ok is True
    engine.driver.advance(timedelta(minutes=10))
    with tenant_session(tenant) as s:
        body = s.execute(text("SELECT body FROM messages WHERE id = :m"), {"m": message}).scalar()
    assert [m.text for m in engine.sim.messages(from_me=True)] == [body]  # once, after the wait
