"""The engine under the platform's rules: a plan's outreach messages per day hold the tick's openers, and a
suspended tenant's sends are held (the emergency stop's gate) until it is resumed, then they go out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import sending
from mirage_app.services import outreach, platform, tenant_settings
from tests.engine.conftest import (  # noqa: F401  (the engine's fixtures, used here by name)
    connect_numbers,
    engine,
    engine_settings,
    new_contact,
    new_policy,
    outreach_setup,
    queue_messages,
    text_only,
    tick_policies,
    warp_clock,
    warp_sim,
)

pytestmark = pytest.mark.usefixtures("text_only")


def test_the_plans_outreach_per_day_holds_openers_until_the_next_day(engine, admin_actor):  # noqa: F811
    tenant = admin_actor.tenant_id
    [number] = outreach_setup(admin_actor, engine, ["5511900000901"])
    platform.set_overrides(platform.CLI_OPERATOR, tenant, {"outreach_per_day": 1})
    people = []
    for i, phone in enumerate(["+5511977779001", "+5511977779002"]):
        engine.sim.add_human(phone, f"p{i}", reply_probability=0.0, optout_probability=0.0)
        people.append(new_contact(admin_actor, phone, f"Pessoa {i}"))
    policy = new_policy(admin_actor, number, max_rounds_per_contact=1)
    outreach.add_targets(admin_actor, policy.id, [p.id for p in people])

    assert tick_policies(engine, (tenant, policy)) == ["opener"]
    engine.clock.advance(timedelta(minutes=20))
    assert tick_policies(engine, (tenant, policy)) == ["plan_outreach_limit"]
    assert len(engine.sim.messages(from_me=True)) == 1
    engine.clock.advance(timedelta(days=1))
    assert tick_policies(engine, (tenant, policy)) == ["opener"]
    assert len(engine.sim.messages(from_me=True)) == 2


def _rows(tenant, ids):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT status::text AS status, wait_reason FROM messages WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()


def test_a_suspended_tenant_sends_nothing_until_resumed(engine, admin_actor):  # noqa: F811
    tenant = admin_actor.tenant_id
    tenant_settings.update_settings(admin_actor, humanize=False, quiet_hours_enabled=False)
    a, b = connect_numbers(admin_actor, engine.sim, ["5511930000901", "5511930000902"], engine.clock)
    platform.suspend(platform.CLI_OPERATOR, tenant, "payment failed", clock=engine.clock)
    ids = queue_messages(tenant, a, b, 2, engine.clock)
    for message_id in ids:
        sending.schedule(engine.runtime, tenant, message_id, None)
    engine.driver.settle()
    engine.clock.advance(timedelta(minutes=12))
    engine.driver.settle()
    assert engine.sim.messages(from_me=True) == []
    assert {(r.status, r.wait_reason) for r in _rows(tenant, ids)} == {("queued", "emergency_stop")}

    assert platform.resume(platform.CLI_OPERATOR, tenant, clock=engine.clock) == 2
    engine.driver.settle()
    assert len(engine.sim.messages(from_me=True)) == 2
    assert engine.driver.failed_jobs() == []
