"""A week of one number's life over the Evolution simulator (HTTP, webhooks) with the clock warped: while it
exchanges normally its reputation is high and it may send up to the configured cap; 5xx bursts make its sends fail,
the score falls and the band's smaller hourly cap takes over; a ban-like close (403) cools it down at once and its
sends wait (deferred, not failed) until the cooldown ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import reputation, send_outcomes
from mirage_app.logic import reputation as rules
from mirage_app.services import tenant_settings
from tests.engine.conftest import connect_numbers, queue_messages

pytestmark = pytest.mark.usefixtures("text_only")

PHONES = ["5511950000001", "5511950000002"]
CONFIGURED_HOURLY = 60


@pytest.fixture
def engine_settings():
    # Failures are what this test is about: the circuit breaker's pause would stop the number first.
    return {"retry_base_s": 30.0, "max_send_attempts": 3, "failure_streak_pause": 1000}


def _run(engine, delta: timedelta, step: timedelta = timedelta(minutes=5)) -> None:
    """Let the engine work for `delta`, the reputation job running every `step` as the scheduler would."""
    end = engine.clock.now() + delta
    while engine.clock.now() < end:
        engine.driver.run_until(min(end, engine.clock.now() + step))
        reputation.recompute_changed(engine.clock)
    engine.driver.settle()


def _queue(engine, tenant, a, b, n):
    ids = queue_messages(tenant, a, b, n, engine.clock)
    for message_id in ids:
        send_outcomes.schedule(engine.runtime, tenant, message_id, None)
    return ids


def _standing(tenant, number_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text(
                "SELECT reputation_score AS score, reputation_band AS band, reputation_cooldown_until AS until, "
                "reputation_signals AS signals, session_id FROM numbers WHERE id = :n"
            ),
            {"n": number_id},
        ).one()


def _sent_by(engine, session_id) -> int:
    return len(engine.sim.messages(session_id, from_me=True))


def _held(tenant, ids) -> dict[str, int]:
    with tenant_session(tenant) as s:
        rows = s.execute(
            text("SELECT COALESCE(wait_reason, status::text) AS w, count(*) FROM messages WHERE id = ANY(:ids) "
                 "GROUP BY 1"),
            {"ids": ids},
        ).all()  # fmt: skip
    return dict(rows)


def test_a_week_of_faults_lowers_the_score_the_caps_follow_and_a_ban_cools_it_down(engine, admin_actor):
    tenant = admin_actor.tenant_id
    tenant_settings.update_settings(
        admin_actor, humanize=False, quiet_hours_enabled=False, hourly_burst_limit=CONFIGURED_HOURLY,
        warmup={"day1": 1000, "first_week_cap": 1000, "max_daily": 1000},
    )  # fmt: skip
    a, b = connect_numbers(admin_actor, engine.sim, PHONES, engine.clock, paired_days_ago=60)
    session_a = _standing(tenant, a).session_id

    # Days 1-3: an ordinary conversation, both ways.
    for _ in range(3):
        for _ in range(6):
            _queue(engine, tenant, a, b, 1)
            _run(engine, timedelta(minutes=10))
            _queue(engine, tenant, b, a, 1)
            _run(engine, timedelta(minutes=10))
        _run(engine, timedelta(hours=22))
    healthy = _standing(tenant, a)
    assert healthy.band == rules.HEALTHY, healthy
    # Nothing new since the last run: the job recomputes none of this tenant's numbers (other tests' tenants
    # share the database, so the job's own count is not this test's).
    with tenant_session(tenant) as s:
        stamps = s.execute(text("SELECT id, reputation_at FROM numbers ORDER BY id")).all()
    reputation.recompute_changed(engine.clock)
    with tenant_session(tenant) as s:
        assert s.execute(text("SELECT id, reputation_at FROM numbers ORDER BY id")).all() == stamps

    # A burst: a healthy number may send the configured hourly cap (the band's is higher).
    before = _sent_by(engine, session_a)
    _queue(engine, tenant, a, b, 70)
    _run(engine, timedelta(minutes=59))
    assert _sent_by(engine, session_a) - before == CONFIGURED_HOURLY
    _run(engine, timedelta(hours=23))

    # Day 5: Evolution answers 5xx to everything for a few hours: every send fails, the score falls step by step.
    engine.sim.set_faults(error_5xx_rate=1.0)
    for _ in range(12):
        _queue(engine, tenant, a, b, 1)
        _run(engine, timedelta(minutes=20))
    engine.sim.set_faults(error_5xx_rate=0.0)
    _run(engine, timedelta(minutes=30))
    failing = _standing(tenant, a)
    assert failing.score < healthy.score - 10
    assert failing.band == rules.WARMING, failing
    assert any(t["signal"] == "failures" for t in failing.signals["top"])

    # The caps follow: the warming band's hourly cap, not the configured one.
    before = _sent_by(engine, session_a)
    _queue(engine, tenant, a, b, 40)
    _run(engine, timedelta(minutes=59))
    assert _sent_by(engine, session_a) - before == rules.LIMITS[rules.WARMING].per_hour
    _run(engine, timedelta(hours=6))

    # Day 6: WhatsApp closes the session with 403: cooling down at once, its sends wait.
    engine.sim.drop_connection(session_a, 403)
    _run(engine, timedelta(minutes=1), step=timedelta(seconds=30))
    banned = _standing(tenant, a)
    assert banned.band == rules.COOLING_DOWN and banned.until is not None
    assert banned.until >= engine.clock.now() + rules.BAN_COOLDOWN - timedelta(minutes=2)
    before = _sent_by(engine, session_a)
    held = _queue(engine, tenant, a, b, 5)
    _run(engine, timedelta(hours=12), step=timedelta(minutes=30))
    assert _sent_by(engine, session_a) == before
    assert _held(tenant, held) == {"reputation_cooldown": 5}  # deferred, not failed
    with tenant_session(tenant) as s:
        bands = s.execute(
            text("SELECT band FROM reputation_history WHERE number_id = :n ORDER BY at"), {"n": a}
        ).scalars().all()  # fmt: skip
        audited = s.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'number.reputation_band' AND entity_id = :n"),
            {"n": str(a)},
        ).scalar()
    assert bands[-1] == rules.COOLING_DOWN and rules.HEALTHY in bands and rules.WARMING in bands
    assert audited >= 3
