"""Instances end to end over real HTTP: Mirage ↔ the Evolution simulator ↔ Mirage's webhook route."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.engine.evolution_gateway import EvolutionFailure, evolution_client
from mirage_app.models import Number, NumberStatus
from mirage_app.services import api_keys, instance_reconcile, instances
from tests.conftest import wait_for


def _status(tenant, number_id):
    with tenant_session(tenant) as s:
        return s.get(Number, number_id).status


def test_connect_two_numbers_and_exchange_a_message(simulator, admin_actor):
    a = instances.create_instance(admin_actor, "Número A")
    b = instances.create_instance(admin_actor, "Número B")
    assert a.qr_code.startswith("data:image/png;base64,") and a.status == "connecting"
    fresh = instances.get_qr(admin_actor, a.id)
    assert fresh.qr_code and fresh.qr_code != a.qr_code  # Evolution rotates codes

    simulator.scan(a.session_id, "5511988881111")
    instances.simulate_scan(admin_actor, b.id)
    assert wait_for(lambda: _status(admin_actor.tenant_id, a.id) == NumberStatus.connected)
    assert wait_for(lambda: _status(admin_actor.tenant_id, b.id) == NumberStatus.connected)
    views = {v.id: v for v in instances.list_instances(admin_actor)}
    assert views[a.id].wa_number == "+5511988881111" and views[a.id].qr_code is None

    sent = evolution_client().send_text(a.session_id, views[b.id].wa_number.lstrip("+"), "Oi, tudo bem?")
    simulator.wait_idle(5)

    def delivered():
        with tenant_session(admin_actor.tenant_id) as s:
            rows = s.execute(
                text("SELECT status::text, from_number_id, to_number_id FROM messages WHERE wa_msg_id = :k"),
                {"k": sent.key_id},
            ).all()
        return len(rows) == 1 and rows[0].status == "read" and rows[0].to_number_id == b.id

    assert wait_for(delivered)
    assert [m.body for m in instances.recent_messages(admin_actor, b.id)] == ["Oi, tudo bem?"]

    instances.stop(admin_actor, a.id)
    assert _status(admin_actor.tenant_id, a.id) == NumberStatus.disconnected
    again = instances.reconnect(admin_actor, a.id)
    assert again.qr_code and again.id == a.id  # same row: history kept
    assert len(instances.recent_messages(admin_actor, a.id)) == 1


def test_evolution_down_is_reported_and_nothing_is_left_behind(simulator, admin_actor):
    simulator.set_faults(error_5xx_rate=1.0)
    try:
        with pytest.raises(EvolutionFailure) as err:
            instances.create_instance(admin_actor, "Will fail")
        assert err.value.status == 502
    finally:
        simulator.set_faults(error_5xx_rate=0.0)

    def creating() -> list[bool]:
        with tenant_session(admin_actor.tenant_id) as s:
            return list(s.execute(text("SELECT creating_since IS NOT NULL FROM numbers")).scalars())

    # A 5xx leaves the outcome unknown: the number waits as "creating…" until Evolution is asked again.
    assert creating() == [True]
    later = FrozenClock(datetime.now(UTC) + instance_reconcile.CREATE_GRACE + timedelta(seconds=1))
    instance_reconcile.reconcile_all(later)
    assert creating() == []  # Evolution never made it: the row goes


def test_instances_api(simulator, api_server, admin_actor, make_tenant):
    _, key = api_keys.create_key(admin_actor, "script")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=10) as http:
        created = http.post("/api/instances", json={"label": "Via API"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert set(body) == {"id", "session_id", "qr_code", "status"} and body["qr_code"].startswith("data:image/png")
        listed = http.get("/api/instances").json()["instances"]
        assert [i["id"] for i in listed] == [body["id"]]
        assert {"messages_today", "messages_7d", "last_seen", "wa_number", "persona_id"} <= set(listed[0])
        assert http.get(f"/api/instances/{body['id']}/qr").json()["qr_code"]
        assert http.post(f"/api/instances/{body['id']}/stop").json()["status"] == "disconnected"
        assert http.post("/api/instances", json={"label": ""}).status_code == 422
        assert http.post("/api/instances", json={"label": "x", "persona_id": str(uuid.uuid4())}).status_code == 404

    # Another tenant's key cannot see or touch these ids.
    other = make_tenant()
    from mirage_app.base.permissions import Actor
    from mirage_app.models import UserRole

    _, other_key = api_keys.create_key(Actor(tenant_id=other, role=UserRole.admin, label="o", mfa_enabled=True), "o")
    with httpx.Client(base_url=api_server.url, headers={"Authorization": f"Bearer {other_key}"}) as http:
        assert http.get("/api/instances").json() == {"instances": []}
        assert http.get(f"/api/instances/{body['id']}/qr").status_code == 404
        assert http.post(f"/api/instances/{body['id']}/stop").status_code == 404
    with httpx.Client(base_url=api_server.url) as http:
        assert http.get("/api/instances", headers={"Authorization": "Bearer mrg_nope_nope"}).status_code == 401
