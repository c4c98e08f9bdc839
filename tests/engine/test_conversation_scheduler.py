"""The conversation tick on an injected clock: windows, quiet hours, rounds per window, pauses, eligibility, modes,
idempotence under concurrent ticks, and one active scheduler process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.config import PROJECT_ROOT
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.engine import conversation_scheduler
from mirage_app.engine.runtime import EngineRuntime, EngineSettings, use_runtime
from mirage_app.logic.dayparts import WEEKDAYS
from mirage_app.models import Number, NumberStatus
from mirage_app.services import conversations, personas, tenant_settings

SP = ZoneInfo("America/Sao_Paulo")


class Recorder:
    """A Deferrer that only records (the tick's own work is under test, not the jobs)."""

    def __init__(self) -> None:
        self.now: list[tuple] = []
        self.later: list[tuple] = []

    def enqueue(self, func, *args, job_id=None, queue="high"):
        self.now.append((func, args, job_id))

    def enqueue_at(self, when, func, *args, job_id, queue="high"):
        self.later.append((when, func, args, job_id))


def local(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SP).astimezone(UTC)


@pytest.fixture
def clock():
    return FrozenClock(local(2030, 6, 3, 9, 0))  # a Monday, 09:00 in São Paulo


@pytest.fixture
def pool_server():
    """A platform Evolution server whose probe found it unreachable (nothing listens at its address)."""
    with admin_engine().begin() as conn:
        server_id = conn.execute(
            text(
                "INSERT INTO evolution_servers (name, base_url, capacity, state, health) "
                "VALUES ('Down', :url, 10, 'draining', 'unreachable') RETURNING id"
            ),
            {"url": f"http://127.0.0.1:9/{uuid.uuid4().hex}"},
        ).scalar()
    yield server_id
    with admin_engine().begin() as conn:
        conn.execute(text("UPDATE numbers SET server_id = NULL WHERE server_id = :id"), {"id": server_id})
        conn.execute(text("DELETE FROM evolution_servers WHERE id = :id"), {"id": server_id})


@pytest.fixture
def jobs(clock):
    from tests.engine.conftest import park_all_conversations

    park_all_conversations()
    recorder = Recorder()
    with use_runtime(EngineRuntime(clock=clock, deferrer=recorder, settings=EngineSettings())):
        yield recorder


def _numbers(tenant, n, clock, **over) -> list[uuid.UUID]:
    ids = []
    with tenant_session(tenant) as s:
        for i in range(n):
            number = Number(
                tenant_id=tenant,
                session_id=f"s-{uuid.uuid4().hex[:10]}",
                label=f"N{i}",
                status=over.get("status", NumberStatus.connected),
                wa_number=f"+55119{uuid.uuid4().int % 10**8:08d}",
                paired_at=over.get("paired_at", clock.now() - timedelta(days=10)),
            )
            s.add(number)
            s.flush()
            ids.append(number.id)
        s.commit()
    return ids


def _conversation(actor, clock, numbers, mode="pair", day=None, **schedule):
    c = conversations.create_conversation(actor, f"C-{uuid.uuid4().hex[:4]}", mode, clock=clock)
    for n in numbers:
        conversations.add_participant(actor, c.id, number_id=n, clock=clock)
    row = {
        "morning_start": "08:00",
        "morning_end": "12:00",
        "afternoon_start": "13:00",
        "afternoon_end": "18:00",
        "evening_enabled": False,
        "max_rounds_per_window": 2,
        "pause_min": 30,
        "pause_max": 30,
    } | (day or {})
    conversations.set_schedule(actor, c.id, [{"day": d, **row} for d in WEEKDAYS], clock=clock)  # fmt: skip
    conversations.activate(actor, c.id, clock=clock)
    return c.id


def _rounds(tenant, cid):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT id, state::text AS state, window_key, participants, planned_turns FROM rounds "
                 "WHERE conversation_id = :c ORDER BY created_at"), {"c": cid}
        ).all()  # fmt: skip


def _due(tenant, cid):
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT next_due_at FROM conversations WHERE id = :c"), {"c": cid}).scalar()


def _end(tenant, round_id, when):
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE rounds SET state = 'done', ended_at = :t WHERE id = :r"), {"t": when, "r": round_id})
        s.commit()


def test_plans_inside_the_window_respects_rounds_per_window_and_pauses(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    cid = _conversation(admin_actor, clock, _numbers(tenant, 2, clock))
    report = conversation_scheduler.tick()
    assert report.rounds_started == 1 and report.due == 1
    [r1] = _rounds(tenant, cid)
    assert r1.state == "running" and r1.window_key == "2030-06-03:morning" and r1.planned_turns in (4, 6, 8)
    starts = [j for j in jobs.now if j[0] == "workers.jobs.start_round"]  # (the overdue sweep is cross-tenant)
    assert starts == [("workers.jobs.start_round", (str(tenant), str(r1.id)), f"start-{r1.id}")]
    # While it runs: supervised only, nothing new; the next look is the watchdog.
    assert _due(tenant, cid) == clock.now() + timedelta(minutes=5)
    clock.advance(timedelta(minutes=5))
    assert conversation_scheduler.tick().rounds_started == 0
    # Ended: the 30-minute pause holds, then the second round of the window starts.
    _end(tenant, r1.id, clock.now())
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE conversations SET next_due_at = :t WHERE id = :c"), {"t": clock.now(), "c": cid})
        s.commit()
    report = conversation_scheduler.tick()
    assert report.rounds_started == 0 and report.skipped["pause"] == 1
    assert _due(tenant, cid) == clock.now() + timedelta(minutes=30)
    clock.advance(timedelta(minutes=30))
    assert conversation_scheduler.tick().rounds_started == 1
    r2 = _rounds(tenant, cid)[1]
    _end(tenant, r2.id, clock.now())
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE conversations SET next_due_at = :t WHERE id = :c"), {"t": clock.now(), "c": cid})
        s.commit()
    # Two rounds done in this window: the next look is the afternoon window's opening.
    report = conversation_scheduler.tick()
    assert report.skipped["window_full"] == 1
    assert _due(tenant, cid) == local(2030, 6, 3, 13, 0)
    # Pair mode with one pair: the opener alternates between rounds.
    assert r2.participants[0]["number_id"] == _rounds(tenant, cid)[0].participants[1]["number_id"]


def test_outside_windows_and_in_quiet_hours_nothing_starts(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    tenant_settings.update_settings(admin_actor, quiet_start="11:30", quiet_end="08:00")  # longer: no MFA needed
    clock.set(local(2030, 6, 3, 12, 30))  # between the morning and afternoon windows
    cid = _conversation(admin_actor, clock, _numbers(tenant, 2, clock))
    report = conversation_scheduler.tick()
    assert report.rounds_started == 0 and report.skipped["no_window"] == 1
    assert _due(tenant, cid) == local(2030, 6, 3, 13, 0)  # idle until the window opens: no reads in between
    clock.set(local(2030, 6, 3, 13, 0))
    report = conversation_scheduler.tick()
    assert report.skipped["quiet_hours"] == 1 and report.rounds_started == 0
    assert _due(tenant, cid) == local(2030, 6, 4, 8, 0)


def test_a_round_does_not_start_when_the_window_is_about_to_close(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    clock.set(local(2030, 6, 3, 11, 50))
    cid = _conversation(admin_actor, clock, _numbers(tenant, 2, clock))
    report = conversation_scheduler.tick()
    assert report.skipped["window_closing"] == 1 and _due(tenant, cid) == local(2030, 6, 3, 13, 0)


def test_only_connected_settled_numbers_take_part(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    fresh = _numbers(tenant, 1, clock, paired_at=clock.now() - timedelta(hours=2))  # still settling (12 h)
    paused = _numbers(tenant, 1, clock, status=NumberStatus.paused)
    ok = _numbers(tenant, 2, clock)
    cid = _conversation(admin_actor, clock, [fresh[0], paused[0], *ok], mode="round_robin")
    conversation_scheduler.tick()
    [r] = _rounds(tenant, cid)
    assert {p["number_id"] for p in r.participants} == {str(n) for n in ok}
    cid2 = _conversation(admin_actor, clock, [fresh[0], paused[0]], mode="random")
    report = conversation_scheduler.tick()
    assert report.skipped["no_eligible_participants"] == 1 and not _rounds(tenant, cid2)


def test_a_number_on_a_server_that_is_down_takes_no_part(admin_actor, clock, jobs, pool_server):
    """A round on a server that does not answer would only wait for it and lose its window."""
    tenant = admin_actor.tenant_id
    a, b = _numbers(tenant, 2, clock)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET server_id = :srv WHERE id = :a"), {"srv": pool_server, "a": a})
        s.commit()
    cid = _conversation(admin_actor, clock, [a, b])
    assert conversation_scheduler.tick().rounds_started == 0
    assert _rounds(tenant, cid) == []
    with admin_engine().begin() as conn:
        conn.execute(text("UPDATE evolution_servers SET health = 'ok' WHERE id = :id"), {"id": pool_server})
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE conversations SET next_due_at = :t WHERE id = :c"), {"t": clock.now(), "c": cid})
        s.commit()
    assert conversation_scheduler.tick().rounds_started == 1


def test_a_tick_takes_every_due_conversation_in_batches(admin_actor, clock, jobs):
    """The work per tick follows the fleet: more due conversations than one batch are all planned in one tick."""
    tenant = admin_actor.tenant_id
    ids = [_conversation(admin_actor, clock, _numbers(tenant, 2, clock)) for _ in range(7)]
    report = conversation_scheduler.tick(limit=3)
    assert report.due == 7 and report.rounds_started == 7
    assert all(len(_rounds(tenant, cid)) == 1 for cid in ids)
    assert conversation_scheduler.tick(limit=3).due == 0


def test_a_number_rests_outside_its_personas_active_hours(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    early = personas.create_persona(admin_actor, name="Madrugadora", active_hours={"start": "06:00", "end": "08:30"})
    a, b = _numbers(tenant, 2, clock)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET persona_id = :p WHERE id = :n"), {"p": early.id, "n": a})
        s.commit()
    cid = _conversation(admin_actor, clock, [a, b])  # 09:00: A's persona went to rest at 08:30
    report = conversation_scheduler.tick()
    assert report.skipped["no_eligible_participants"] == 1 and not _rounds(tenant, cid)
    personas.update_persona(admin_actor, early.id, active_hours={"start": "08:00", "end": "18:00"})
    clock.advance(timedelta(minutes=15))
    assert conversation_scheduler.tick().rounds_started == 1


def test_a_topic_lasts_its_refresh_period_then_rotates(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    cid = _conversation(admin_actor, clock, _numbers(tenant, 2, clock), day={"pause_min": 1, "pause_max": 1,
                                                                             "max_rounds_per_window": 10})  # fmt: skip
    conversations.update_conversation(admin_actor, cid, topic_refresh_minutes=60)
    seeds = ["futebol", "receitas", "viagens"]
    for i, seed in enumerate(seeds):  # created a second apart: that is their order
        conversations.create_topic(admin_actor, cid, seed, clock=FrozenClock(clock.now() + timedelta(seconds=i)))
    picked = []
    for _ in range(4):  # every 20 minutes: two rounds share each hour's topic, the next hour brings the next one
        conversation_scheduler.tick()
        last = _rounds(tenant, cid)[-1]
        with tenant_session(tenant) as s:
            picked.append(s.execute(text("SELECT t.seed FROM rounds r JOIN topics t ON t.id = r.topic_id "
                                         "WHERE r.id = :r"), {"r": last.id}).scalar())  # fmt: skip
        _end(tenant, last.id, clock.now())
        clock.advance(timedelta(minutes=20))
        with tenant_session(tenant) as s:
            s.execute(text("UPDATE conversations SET next_due_at = :t WHERE id = :c"), {"t": clock.now(), "c": cid})
            s.commit()
    hours = [(local(2030, 6, 3, 9, 0) + timedelta(minutes=20 * i)).timestamp() // 3600 for i in range(4)]
    for i in range(1, 4):
        assert (picked[i] == picked[i - 1]) == (hours[i] == hours[i - 1]), (picked, hours)
    assert seeds.index(picked[-1]) == (seeds.index(picked[0]) + int(hours[-1] - hours[0])) % 3


def test_bot_to_bot_can_be_switched_off(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    cid = _conversation(admin_actor, clock, _numbers(tenant, 2, clock))
    conversations.set_settings(admin_actor, cid, allow_bot_to_bot=False)
    report = conversation_scheduler.tick()
    assert report.skipped["bot_to_bot_disabled"] == 1 and not _rounds(tenant, cid)


def test_modes_pick_participants(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    a, b, c, d = _numbers(tenant, 4, clock)
    pair = _conversation(admin_actor, clock, [a, b, c, d], mode="pair")
    conversations.set_pairings(admin_actor, pair, [(c, d), (a, b)])
    rr = _conversation(admin_actor, clock, [a, b, c], mode="round_robin", day={"pause_min": 1, "pause_max": 1,
                                                                             "max_rounds_per_window": 50})  # fmt: skip
    seen_pair, seen_rr = [], []
    for _ in range(3):
        conversation_scheduler.tick()
        for cid, seen in ((pair, seen_pair), (rr, seen_rr)):
            last = _rounds(tenant, cid)[-1]
            seen.append(tuple(p["number_id"] for p in last.participants))
            _end(tenant, last.id, clock.now())
            with tenant_session(tenant) as s:
                s.execute(text("UPDATE conversations SET next_due_at = :t WHERE id = :c"), {"t": clock.now(),
                                                                                           "c": cid})  # fmt: skip
                s.commit()
        clock.advance(timedelta(minutes=31))
    # pair mode walks the configured pairings in participant start order
    assert {frozenset(x) for x in seen_pair[:2]} == {frozenset((str(a), str(b))), frozenset((str(c), str(d)))}
    # round robin: three different pairs over three rounds
    assert len({frozenset(x) for x in seen_rr}) == 3


def test_concurrent_ticks_plan_each_round_once(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    cids = [_conversation(admin_actor, clock, _numbers(tenant, 2, clock)) for _ in range(6)]
    results = []
    barrier = threading.Barrier(3)

    def run():
        barrier.wait()
        results.append(conversation_scheduler.tick().rounds_started)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 6
    assert all(len(_rounds(tenant, c)) == 1 for c in cids)


def test_idle_conversations_are_not_even_read(admin_actor, clock, jobs):
    tenant = admin_actor.tenant_id
    for _ in range(3):
        _conversation(admin_actor, clock, _numbers(tenant, 2, clock))
    conversation_scheduler.tick()
    clock.advance(timedelta(minutes=1))
    report = conversation_scheduler.tick()
    assert report.due == 0 and report.supervised == 0


def test_two_scheduler_processes_one_leader_one_tick_per_period(services):
    """Two real `mirage scheduler` processes: one holds the lease, each period's tick is enqueued once."""
    redis = get_redis()
    redis.flushdb()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mirage_app.cli", "scheduler", "--interval", "0.2"],
            cwd=PROJECT_ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not redis.get("mirage:scheduler:heartbeat"):
            time.sleep(0.1)
        time.sleep(1.5)  # several scheduler loops of both processes
        leader = redis.get("mirage:scheduler:leader").decode()
        assert leader.endswith(tuple(f":{p.pid}" for p in procs))
        ids = [j.decode() for j in redis.lrange("rq:queue:default", 0, -1)]
        ticks = [i for i in ids if i.startswith("tick-conversation-tick-")]
        assert len(ticks) in (1, 2) and len(set(ticks)) == len(ticks)  # 2 only if a minute boundary passed
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=10)
