"""The tenant-wide emergency stop against the real engine and the Evolution simulator over HTTP: nothing is sent
while it is on (sends held, not failed), a resume sends what it held, both are audited, only admins may."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, PermissionDenied, ValidationFailed
from mirage_app.core.db import tenant_session
from mirage_app.engine import send_outcomes
from mirage_app.models import UserRole
from mirage_app.services import emergency_stop, tenant_settings
from tests.engine.conftest import (  # noqa: F401  (the engine's fixtures, used here by name)
    connect_numbers,
    engine,
    engine_settings,
    queue_messages,
    text_only,
    warp_clock,
    warp_sim,
)

pytestmark = pytest.mark.usefixtures("text_only")

PHONES = ["5511930000001", "5511930000002"]


def _numbers(engine, actor):  # noqa: F811  (a parameter named like the fixture)
    tenant_settings.update_settings(actor, humanize=False, quiet_hours_enabled=False)
    return connect_numbers(actor, engine.sim, PHONES, engine.clock)


def _queue(engine, actor, a, b, n):  # noqa: F811
    ids = queue_messages(actor.tenant_id, a, b, n, engine.clock)
    for message_id in ids:
        send_outcomes.schedule(engine.runtime, actor.tenant_id, message_id, None)
    return ids


def _rows(tenant, ids):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT status::text AS status, wait_reason FROM messages WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()


def test_nothing_is_sent_while_stopped_and_a_resume_sends_it_all(engine, admin_actor):  # noqa: F811
    tenant = admin_actor.tenant_id
    a, b = _numbers(engine, admin_actor)
    emergency_stop.stop(admin_actor, "suspicious block wave", clock=engine.clock)
    assert emergency_stop.is_stopped(tenant)
    ids = _queue(engine, admin_actor, a, b, 3)
    engine.driver.settle()
    engine.clock.advance(timedelta(minutes=12))  # the held sends look again (every 5 min): still held
    engine.driver.settle()
    assert engine.sim.messages(from_me=True) == []
    assert engine.driver.failed_jobs() == []
    assert {(r.status, r.wait_reason) for r in _rows(tenant, ids)} == {("queued", "emergency_stop")}

    assert emergency_stop.resume(admin_actor, clock=engine.clock) == 3
    assert not emergency_stop.is_stopped(tenant)
    engine.driver.settle()
    assert len(engine.sim.messages(from_me=True)) == 3
    assert {r.status for r in _rows(tenant, ids)} <= {"sent", "server_ack", "delivered", "read"}

    with tenant_session(tenant) as s:
        actions = s.execute(
            text("SELECT action, after FROM audit_log WHERE action LIKE 'tenant.emergency_%' ORDER BY at")
        ).all()
    assert [r.action for r in actions] == ["tenant.emergency_stop", "tenant.emergency_resume"]
    assert actions[0].after["reason"] == "suspicious block wave" and actions[1].after["released"] == 3


def test_only_an_admin_stops_and_resuming_needs_mfa(admin_actor):
    viewer = replace(admin_actor, role=UserRole.viewer)
    operator = replace(admin_actor, role=UserRole.operator)
    for actor in (viewer, operator):
        with pytest.raises(PermissionDenied):
            emergency_stop.stop(actor, "no")
    assert not emergency_stop.is_stopped(admin_actor.tenant_id)
    emergency_stop.stop(admin_actor, "drill")
    try:
        no_mfa = replace(admin_actor, mfa_enabled=False)
        with pytest.raises(PermissionDenied):
            emergency_stop.resume(no_mfa)
        with pytest.raises(PermissionDenied):
            emergency_stop.resume(operator)
        with pytest.raises(Conflict):
            emergency_stop.stop(admin_actor, "again")
        assert emergency_stop.current(viewer).reason == "drill"
    finally:
        emergency_stop.resume(admin_actor)
    assert emergency_stop.current(viewer) is None


def test_a_stop_needs_a_reason_and_writes_nothing_without_one(admin_actor):
    for reason in ("", "   ", "x" * 301):
        with pytest.raises(ValidationFailed) as caught:
            emergency_stop.stop(admin_actor, reason)
        assert caught.value.field == "reason"
    assert not emergency_stop.is_stopped(admin_actor.tenant_id)
    with pytest.raises(Conflict):
        emergency_stop.resume(admin_actor)
