"""The tenant's one send gate (models.tenancy.sends_held_since): its emergency stop and a platform suspension each
close it. Status posts wait for it, and held sends are released only once neither closes it any more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import sending, status_posts
from mirage_app.services import emergency_stop, instances, personas, platform, tenant_settings
from tests.engine.conftest import (  # noqa: F401  (the engine's fixtures, used here by name)
    connect_numbers,
    engine,
    engine_settings,
    queue_messages,
    warp_clock,
    warp_sim,
)

OP = platform.CLI_OPERATOR


def _posting_numbers(engine, actor, phones):  # noqa: F811  (a parameter named like the fixture)
    """Two numbers that post a status every day (habit 1.0), past the day status posts are allowed from."""
    tenant_settings.update_settings(actor, humanize=False, quiet_hours_enabled=False)
    numbers = connect_numbers(actor, engine.sim, phones, engine.clock)
    persona = personas.create_persona(actor, name="Poster", locale="pt-BR", habits={"status_posts": 1.0})
    for number in numbers:
        instances.update_instance(actor, number, persona_id=str(persona.id))
    with tenant_session(actor.tenant_id) as s:
        s.execute(text("UPDATE numbers SET active_days = 30 WHERE id = ANY(:ids)"), {"ids": numbers})
        s.commit()
    return numbers


def _statuses(tenant) -> int:
    """The tenant's queued status posts (the job runs for every tenant of the shared database)."""
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT count(*) FROM messages WHERE kind = 'status'")).scalar()


def test_status_posts_wait_while_suspended_or_stopped_and_go_after(engine, admin_actor):  # noqa: F811
    tenant = admin_actor.tenant_id
    _posting_numbers(engine, admin_actor, ["5511930000951", "5511930000952"])
    engine.clock.advance(timedelta(hours=21))  # Monday 21:00 local: past every post time of the day (09:00-20:00)

    platform.suspend(OP, tenant, "payment failed", clock=engine.clock)
    status_posts.post_statuses(engine.clock)
    assert _statuses(tenant) == 0

    emergency_stop.stop(admin_actor, "drill", clock=engine.clock)
    platform.resume(OP, tenant, clock=engine.clock)
    status_posts.post_statuses(engine.clock)
    assert _statuses(tenant) == 0

    emergency_stop.resume(admin_actor, clock=engine.clock)
    status_posts.post_statuses(engine.clock)
    assert _statuses(tenant) == 2  # the same moment, the gate open: both numbers post (so the zeros above count)


def _held(tenant, ids) -> set[tuple[str, str | None]]:
    with tenant_session(tenant) as s:
        rows = s.execute(
            text("SELECT status::text AS status, wait_reason FROM messages WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()
    return {(r.status, r.wait_reason) for r in rows}


def _queue_held(engine, tenant, a, b):  # noqa: F811
    ids = queue_messages(tenant, a, b, 2, engine.clock)
    for message_id in ids:
        sending.schedule(engine.runtime, tenant, message_id, None)
    engine.driver.settle()
    assert _held(tenant, ids) == {("queued", "emergency_stop")}
    return ids


def test_held_sends_stay_held_until_both_the_stop_and_the_suspension_are_lifted(engine, admin_actor):  # noqa: F811
    tenant = admin_actor.tenant_id
    tenant_settings.update_settings(admin_actor, humanize=False, quiet_hours_enabled=False)
    a, b = connect_numbers(admin_actor, engine.sim, ["5511930000961", "5511930000962"], engine.clock)

    # Stopped, then suspended: lifting the stop releases nothing while the suspension holds.
    emergency_stop.stop(admin_actor, "drill", clock=engine.clock)
    platform.suspend(OP, tenant, "payment failed", clock=engine.clock)
    ids = _queue_held(engine, tenant, a, b)
    assert emergency_stop.resume(admin_actor, clock=engine.clock) == 0
    engine.driver.settle()
    assert _held(tenant, ids) == {("queued", "emergency_stop")} and engine.sim.messages(from_me=True) == []
    assert platform.resume(OP, tenant, clock=engine.clock) == 2
    engine.driver.settle()
    assert len(engine.sim.messages(from_me=True)) == 2

    # Suspended, then stopped: resuming the tenant releases nothing while its own stop holds.
    platform.suspend(OP, tenant, "payment failed", clock=engine.clock)
    emergency_stop.stop(admin_actor, "drill", clock=engine.clock)
    ids = _queue_held(engine, tenant, a, b)
    assert platform.resume(OP, tenant, clock=engine.clock) == 0
    assert _held(tenant, ids) == {("queued", "emergency_stop")}
    assert emergency_stop.resume(admin_actor, clock=engine.clock) == 2
    engine.driver.settle()
    assert len(engine.sim.messages(from_me=True)) == 4
    assert engine.driver.failed_jobs() == []
