"""Why things wait: every deferral of the send pipeline and every blocked outreach tick stores its reason and until
when, at the moment it is decided (warped clock, real database); a message that waited too long ends with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.engine import sending
from mirage_app.engine.runtime import EngineRuntime, EngineSettings, use_runtime
from mirage_app.i18n import catalog
from mirage_app.i18n.formats import clock as clock_label
from mirage_app.logic import waits
from mirage_app.services import outreach
from tests.engine.test_conversation_scheduler import Recorder
from tests.engine.test_outreach_flow import _contact, _policy, _tick
from tests.engine.test_outreach_flow import _setup as _outreach_setup
from tests.engine.test_sending import SP, FakeEvolution, _queue, _setup

EN = catalog("en")


@pytest.fixture
def clock():
    return FrozenClock(datetime(2030, 6, 3, 10, 0, tzinfo=SP).astimezone(UTC))  # a Monday, 10:00 in São Paulo


@pytest.fixture
def fake():
    return FakeEvolution()


@pytest.fixture
def jobs(clock, fake):
    recorder = Recorder()
    with use_runtime(EngineRuntime(clock=clock, deferrer=recorder, settings=EngineSettings(), evolution=lambda: fake)):
        yield recorder


def _wait(tenant, message_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text(
                "SELECT status::text AS status, error, wait_reason, wait_until, send_after FROM messages WHERE id = :id"
            ),
            {"id": message_id},
        ).one()


def _line(row, now) -> str:
    return waits.message_line(
        EN, row.status, row.wait_reason, row.wait_until, row.send_after, row.error, now,
        lambda when: clock_label(when, "America/Sao_Paulo"),
    )  # fmt: skip


def test_caps_store_what_is_used_and_until_when(admin_actor, clock, jobs, fake):
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock, hourly_burst_limit=2)
    ids = _queue(tenant, a, b, 3, clock)
    for mid in ids:
        sending.process(tenant, mid)
    held = _wait(tenant, ids[2])
    assert (held.status, held.wait_reason) == ("queued", "hourly_cap:2/2")
    assert held.wait_until == clock.now() + timedelta(hours=1)
    assert _line(held, clock.now()) == "Hourly cap used 2/2 · until 11:00"
    assert _wait(tenant, ids[0]).wait_reason is None  # sent: nothing to wait for


def test_warm_up_cap_and_quiet_hours(admin_actor, clock, jobs, fake):
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock, quiet_start="22:00", quiet_end="08:00", warmup={"day1": 1, "first_week_cap": 1})
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET active_days = 0 WHERE id = :a"), {"a": a})
        s.commit()
    ids = _queue(tenant, a, b, 2, clock)
    for mid in ids:
        sending.process(tenant, mid)
    capped = _wait(tenant, ids[1])
    assert capped.wait_reason == "warmup_cap:1/1"
    assert capped.wait_until == datetime(2030, 6, 4, 8, 0, tzinfo=SP).astimezone(UTC)  # midnight is in quiet hours
    assert _line(capped, clock.now()) == "Warm-up daily cap used 1/1 · until 08:00"

    clock.set(datetime(2030, 6, 3, 23, 0, tzinfo=SP).astimezone(UTC))
    [late] = _queue(tenant, b, a, 1, clock)
    sending.process(tenant, late)
    quiet = _wait(tenant, late)
    assert (quiet.wait_reason, quiet.wait_until) == ("quiet_hours", capped.wait_until)


def test_settling_disconnected_and_server_held(admin_actor, clock, jobs, fake):
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET paired_at = :t WHERE id = :a"), {"t": clock.now() - timedelta(hours=2),
                                                                          "a": a})  # fmt: skip
        s.commit()
    [m1] = _queue(tenant, a, b, 1, clock)
    sending.process(tenant, m1)
    settling = _wait(tenant, m1)
    assert (settling.wait_reason, settling.wait_until) == ("settling", clock.now() + timedelta(hours=10))

    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET status = 'disconnected' WHERE id = :b"), {"b": b})
        s.commit()
    [m2] = _queue(tenant, b, a, 1, clock)
    outcome = sending.process(tenant, m2)
    offline = _wait(tenant, m2)
    assert offline.wait_reason == "number_disconnected" and offline.wait_until == outcome.retry_at
    assert _line(offline, clock.now()).startswith("Number disconnected · until ")


def test_planned_and_due_messages_say_so_without_a_stored_reason(admin_actor, clock, jobs, fake):
    now = clock.now()
    assert waits.of_queued(None, None, now + timedelta(seconds=40), now) == waits.Wait(
        "planned", now + timedelta(seconds=40)
    )
    assert waits.of_queued(None, None, now - timedelta(minutes=9), now) == waits.Wait("due")
    # A stored wait that has run out no longer explains anything: the row is due again.
    assert waits.of_queued("min_gap", now - timedelta(seconds=1), now - timedelta(seconds=1), now).reason == "due"
    assert waits.parse("connection_closed").reason == "send_retry"  # an Evolution error reads as a retry


def test_a_message_that_waited_past_the_limit_expires_with_its_reason(admin_actor, clock, jobs, fake):
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock)
    [old] = _queue(tenant, a, b, 1, clock)
    with tenant_session(tenant) as s:  # a day and more held back: the number is settling again after a re-pair
        s.execute(
            text("UPDATE messages SET created_at = :t, wait_reason = 'settling', wait_until = :t WHERE id = :id"),
            {"t": clock.now() - waits.MAX_QUEUED - timedelta(minutes=1), "id": old},
        )
        s.execute(text("UPDATE numbers SET paired_at = :t WHERE id = :a"), {"t": clock.now() - timedelta(hours=1),
                                                                          "a": a})  # fmt: skip
        s.commit()
    outcome = sending.process(tenant, old)
    assert outcome.state == sending.FAILED and outcome.reason == "expired"
    row = _wait(tenant, old)
    assert (row.status, row.error, row.wait_reason, row.wait_until) == ("failed", "expired", None, None)
    assert _line(row, clock.now()) == "Expired: waited more than 24 hours"
    assert fake.sent == []


def test_waiting_outreach_targets_say_why_and_until_when(engine, admin_actor):
    [number] = _outreach_setup(admin_actor, engine, ["5511900000301"])
    for phone, name in (("5511977770301", "Ana"), ("5511977770302", "Bruno")):
        engine.sim.add_human(phone, name, reply_probability=0.0, optout_probability=0.0)
    first = _contact(admin_actor, "+5511977770301", "Ana")
    second = _contact(admin_actor, "+5511977770302", "Bruno")
    policy = _policy(admin_actor, number, daily_limit=1, hourly_limit=1)
    outreach.add_targets(admin_actor, policy.id, [first.id, second.id])
    pair = (admin_actor.tenant_id, policy)
    assert _tick(engine, pair) == ["opener"]
    assert _tick(engine, pair) == ["daily_cap"]
    waiting = {t.display_name: t.wait for t in outreach.list_targets(admin_actor, policy_id=policy.id).items}
    assert waiting["Bruno"].reason == "daily_cap" and (waiting["Bruno"].used, waiting["Bruno"].limit) == (1, 1)
    assert waiting["Bruno"].until is not None and waiting["Bruno"].until > engine.clock.now()
    assert waiting["Ana"] is None or waiting["Ana"].reason == "exchange"

    engine.clock.advance(timedelta(hours=14))  # 00:00: outside the policy's dayparts
    assert _tick(engine, pair) == ["outside_window"]
    bruno = next(t for t in outreach.list_targets(admin_actor, policy_id=policy.id).items if t.display_name == "Bruno")
    assert bruno.wait.reason == "outside_window" and bruno.wait.until > engine.clock.now()
    assert waits.explain(EN, bruno.wait, "06:00") == "Outside the policy's days and hours · until 06:00"
