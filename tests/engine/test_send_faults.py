"""Fault injection over the simulator: 5xx, timeouts, closed connections, duplicate/out-of-order webhooks.

Whatever happens, no message is sent twice (compared with what the simulator recorded), and every send ends
either sent (maybe after retries) or failed with its reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import rounds
from mirage_app.services import number_health
from tests.engine import scenario

pytestmark = pytest.mark.usefixtures("text_only")  # pacing, caps and faults of text turns

PHONES = ["5511920000001", "5511920000002"]


@pytest.fixture
def engine_settings():
    return {"retry_base_s": 30.0, "max_send_attempts": 5, "failure_streak_pause": 5}


def _start(engine, actor, **faults):
    sc = scenario.build(actor, engine, PHONES, mode="pair", max_rounds=1)
    if faults:
        engine.sim.set_faults(**faults)
    engine.driver.tick()
    [rnd] = scenario.rounds(actor.tenant_id, sc.conversation_id)
    return sc, rnd


def _number(tenant, number_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT status::text AS status, failure_streak, paused_reason FROM numbers WHERE id = :n"),
            {"n": number_id},
        ).one()


def _assert_each_sent_once(engine, msgs):
    sent = Counter(m.text for m in engine.sim.messages(from_me=True))
    assert all(count == 1 for count in sent.values()), sent
    assert sent == Counter(m.body for m in msgs if m.wa_msg_id and m.status != "failed")


def test_5xx_is_retried_with_backoff_and_sent_once(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc, _ = _start(engine, admin_actor, error_5xx_rate=1.0)
    engine.driver.settle()
    [first] = scenario.messages(tenant, sc.conversation_id)
    assert first.status == "queued" and first.error == "server_error" and first.attempts == 1
    assert engine.sim.messages(from_me=True) == []
    assert _number(tenant, first.from_number_id).failure_streak == 1

    engine.sim.set_faults(error_5xx_rate=0.0)
    engine.driver.advance(timedelta(seconds=20))  # backoff not over yet: nothing happens
    assert engine.sim.messages(from_me=True) == []
    engine.driver.advance(timedelta(minutes=5))
    msgs = scenario.messages(tenant, sc.conversation_id)
    assert [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["done"]
    retried = next(m for m in msgs if m.id == first.id)
    assert retried.status in ("delivered", "read") and retried.error is None and retried.attempts == 2
    assert _number(tenant, first.from_number_id).failure_streak == 0  # a success resets the streak
    _assert_each_sent_once(engine, msgs)


def test_persistent_5xx_fails_with_its_reason_and_auto_pauses_the_number(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc, _ = _start(engine, admin_actor, error_5xx_rate=1.0)
    engine.driver.advance(timedelta(hours=1))
    [msg] = scenario.messages(tenant, sc.conversation_id)
    assert msg.status == "failed" and msg.error == "server_error" and msg.attempts == 5
    assert engine.sim.messages(from_me=True) == []
    number = _number(tenant, msg.from_number_id)
    assert number.status == "paused" and number.paused_reason == "failure_streak:server_error"
    assert scenario.rounds(tenant, sc.conversation_id)[0].state == "aborted"
    alerts = number_health.alerts(admin_actor)
    assert [(a.number_id, a.kind) for a in alerts if a.number_id == msg.from_number_id] == [
        (msg.from_number_id, "paused")
    ]
    with tenant_session(tenant) as s:
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'number.auto_pause'")).scalar() == 1

    # While paused the number sends nothing; after the operator resumes it, it works again.
    engine.sim.set_faults(error_5xx_rate=0.0)
    engine.driver.advance(timedelta(hours=2))
    assert engine.sim.messages(from_me=True) == []
    number_health.resume(admin_actor, msg.from_number_id)
    assert _number(tenant, msg.from_number_id).status == "connected"
    engine.driver.advance(timedelta(hours=6))  # the next window (one round per window; the aborted one counted)
    assert any(r.state == "done" for r in scenario.rounds(tenant, sc.conversation_id))
    _assert_each_sent_once(engine, scenario.messages(tenant, sc.conversation_id))


def test_a_timeout_is_never_resent_and_the_webhook_proves_the_send(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc, rnd = _start(engine, admin_actor)
    engine.sim.set_faults(timeout_rate=1.0, hang_s=1.5)  # the send happens, the answer does not come back
    result = rounds.start_round(tenant, rnd.id)
    assert result.send.state == "failed" and result.send.reason == "unknown_delivery"
    [msg] = scenario.messages(tenant, sc.conversation_id)
    assert msg.status == "failed" and msg.error == "unknown_delivery"
    engine.sim.set_faults(timeout_rate=0.0)
    engine.sim.wait_idle(5)
    engine.driver.settle()  # B's webhook arrives: the row is adopted and B answers
    engine.driver.advance(timedelta(minutes=10))
    msgs = scenario.messages(tenant, sc.conversation_id)
    adopted = next(m for m in msgs if m.id == msg.id)
    assert adopted.status in ("delivered", "read") and adopted.wa_msg_id and adopted.error is None
    assert adopted.attempts == 1  # never resent
    assert [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["done"]
    _assert_each_sent_once(engine, msgs)


def test_a_timeout_without_proof_ends_failed_unknown_delivery(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc, rnd = _start(engine, admin_actor)
    # B's phone is offline: it never receives the message, so nothing proves the send beyond A's own echo.
    receiver = sc.sessions[sc.numbers[1]]
    engine.sim.drop_connection(receiver, 401)  # logged out: stays offline
    engine.sim.set_faults(timeout_rate=1.0, hang_s=1.5)
    rounds.start_round(tenant, rnd.id)
    engine.sim.set_faults(timeout_rate=0.0)
    engine.driver.advance(timedelta(hours=3))
    msgs = scenario.messages(tenant, sc.conversation_id)
    mine = [m for m in msgs if m.round_id is not None]
    assert [(m.status, m.error, m.attempts) for m in mine] == [("failed", "unknown_delivery", 1)]
    assert len(engine.sim.messages(from_me=True)) == 1  # sent once, never again
    assert [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["aborted"]  # stuck, then aborted


def test_closed_connection_is_retried_until_it_reopens(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc = scenario.build(admin_actor, engine, PHONES, mode="pair", max_rounds=1)
    engine.sim.set_faults(disconnect=["*"])
    engine.driver.step()
    [msg] = scenario.messages(tenant, sc.conversation_id)
    assert msg.status == "queued" and msg.error == "connection_closed"
    engine.sim.set_faults(disconnect=[])
    engine.driver.advance(timedelta(minutes=10))
    msgs = scenario.messages(tenant, sc.conversation_id)
    assert [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["done"]
    assert all(m.status in ("delivered", "read") for m in msgs)
    _assert_each_sent_once(engine, msgs)


def test_duplicate_and_reordered_webhooks_change_nothing(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc = scenario.build(admin_actor, engine, PHONES, mode="pair", max_rounds=2, pause=(1, 1))
    engine.sim.set_faults(duplicate_rate=0.5, reorder_rate=0.5, reorder_hold_s=0.05)
    engine.driver.advance(timedelta(minutes=30))
    rows = scenario.rounds(tenant, sc.conversation_id)
    assert [r.state for r in rows] == ["done", "done"]
    msgs = scenario.messages(tenant, sc.conversation_id)
    assert len(msgs) == sum(r.planned_turns for r in rows)
    _assert_each_sent_once(engine, msgs)
