"""Acceptance: a time-warped outreach week run by 4 real worker processes, 2 policies, Redis flushed mid-week.

- 4 `tests.engine.warp_worker` processes (RQ SimpleWorkers running the production job functions) share a clock
  file the driver moves forward in 10-minute steps through each day's windows (08:00–22:00, São Paulo).
- Each step enqueues the outreach tick FOUR times (the 4 workers run it concurrently) and every due send TWICE,
  so claims on the same number race all the time; simulated humans reply (or opt out) through real webhooks.
- On Thursday at noon Redis is FLUSHALLed while jobs are queued and running: queues, registries, everything.
- Then, from the database: for each number, zero daily-cap (tenant-local day), zero hourly-cap (rolling hour)
  and zero minimum-gap violations; contacts without consent or suppressed never received anything; after an
  opt-out nothing but the one confirmation went to that contact, from any number.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import text

from mirage_app.core.config import PROJECT_ROOT
from mirage_app.core.db import tenant_session
from mirage_app.core.redis import QUEUE_NAMES, get_redis
from mirage_app.engine.runtime import EngineRuntime, use_runtime
from mirage_app.services import contacts, outreach, personas, tenant_settings
from tests.engine.conftest import TZ, connect_numbers
from tests.engine.warp_worker import DatabaseHeldDeferrer, write_clock

pytestmark = pytest.mark.slow

WORKERS = 4
STEP = timedelta(minutes=10)
POLICY_A = {"daily_limit": 12, "hourly_limit": 3, "min_gap_minutes": 20, "max_rounds_per_contact": 3,
            "dayparts": ["morning", "afternoon"], "allow_days": ["mon", "tue", "wed", "thu", "fri"]}  # fmt: skip
POLICY_B = {"daily_limit": 10, "hourly_limit": 2, "min_gap_minutes": 15, "max_rounds_per_contact": 2,
            "dayparts": ["afternoon", "evening"], "allow_days": []}  # fmt: skip
OPTOUT_TEXTS = ["Pare!", "sair", "STOP por favor", "Descadastrar.", "PARAR"]
OUTREACH = "('opener', 'follow_up', 'closing')"


def _start_workers(clock_file, log_dir) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.engine.warp_worker", str(clock_file)],
            cwd=PROJECT_ROOT,
            stdout=(log_dir / f"worker{i}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        for i in range(WORKERS)
    ]


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.terminate()
    for w in workers:
        try:
            w.wait(timeout=15)
        except subprocess.TimeoutExpired:
            w.kill()


class Driver:
    def __init__(self, sim, clock, clock_file, tenant, workers, log_dir) -> None:
        self.sim, self.clock, self.clock_file, self.tenant = sim, clock, clock_file, tenant
        self.workers, self.log_dir = workers, log_dir
        self.redis = get_redis()
        self.queues = {name: Queue(name, connection=self.redis) for name in QUEUE_NAMES}
        self.step_no = 0
        self.failed: list[str] = []

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker*.log")))

    def busy(self) -> bool:
        return any(q.count for q in self.queues.values()) or any(
            StartedJobRegistry(queue=q).count for q in self.queues.values()
        )

    def drain(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:
            assert time.monotonic() < deadline, "the workers did not drain\n" + self.logs()
            assert all(w.poll() is None for w in self.workers), "a worker died\n" + self.logs()
            if self.busy():
                quiet = 0
                time.sleep(0.005)
                continue
            self.sim.wait_idle(10)
            quiet += 1
            time.sleep(0.01)

    def collect_failures(self) -> None:
        for q in self.queues.values():
            registry = FailedJobRegistry(queue=q)
            for job_id in registry.get_job_ids():
                job = q.fetch_job(job_id)
                result = job.latest_result() if job else None
                self.failed.append(f"{job_id}: {result.exc_string if result else '?'}")
                registry.remove(job_id, delete_job=True)

    def step(self, when: datetime, *, flush: bool = False) -> None:
        self.step_no += 1
        self.clock.set(when)
        write_clock(self.clock_file, when)
        for k in range(WORKERS):  # the same tick, four times at once
            self.queues["default"].enqueue(
                "workers.jobs.outreach_tick", job_id=f"otick-{self.step_no}-{k}", result_ttl=0, failure_ttl=86400
            )
        with tenant_session(self.tenant) as s:
            due = s.execute(
                text(
                    "SELECT tenant_id, id FROM messages WHERE status = 'queued' AND direction = 'out' "
                    "AND (send_after IS NULL OR send_after <= :now)"
                ),
                {"now": when},
            ).all()
        for row in due:  # what RQ's scheduler / the tick's overdue sweep would release; twice, to race
            for k in range(2):
                self.queues["high"].enqueue(
                    "workers.jobs.send_message",
                    str(row.tenant_id),
                    str(row.id),
                    job_id=f"send-{row.id}-s{self.step_no}-{k}",
                    result_ttl=0,
                    failure_ttl=86400,
                )
        if flush:
            time.sleep(0.02)  # let the workers pick some of it up first
            self.collect_failures()
            self.redis.flushall()
        self.drain()


def _windows(start_local: datetime):
    """Every 10-minute step of the week inside 08:00–22:00 local time."""
    for day in range(7):
        t = start_local.replace(hour=8) + timedelta(days=day)
        end = t.replace(hour=22)
        while t <= end:
            yield t
            t += STEP


def test_a_week_with_four_workers_two_policies_and_a_redis_flush(warp_sim, warp_clock, admin_actor, tmp_path):
    sim, clock, tenant = warp_sim, warp_clock, admin_actor.tenant_id
    rng = random.Random(20240611)
    get_redis().flushall()
    tenant_settings.update_settings(admin_actor, humanize=True, min_delay_s=15, max_delay_s=60)
    a, b = connect_numbers(admin_actor, sim, ["5511900009001", "5511900009002"], clock)
    persona = personas.create_persona(admin_actor, name="Clara", style="simpática", traits={"emoji_use": "low"})

    phones = [f"55119888{i:05d}" for i in range(60)]
    for i, phone in enumerate(phones):
        sim.add_human(phone, f"Pessoa {i}", reply_probability=0.6, optout_probability=0.05,
                      optout_text=OPTOUT_TEXTS[i % len(OPTOUT_TEXTS)])  # fmt: skip
    people = []
    for i, phone in enumerate(phones):
        consent = "granted" if i < 55 else ("revoked" if i % 2 else None)
        people.append(contacts.create_contact(admin_actor, "+" + phone, f"Pessoa {i}", consent_status=consent,
                                              consent_source="site" if consent else None))  # fmt: skip
    for p in people[58:]:
        contacts.suppress(admin_actor, p.wa_number, "pediu por telefone")
    policy_a = outreach.create_policy(admin_actor, number_id=a, persona_id=persona.id, **POLICY_A)
    policy_b = outreach.create_policy(admin_actor, number_id=b, **POLICY_B)
    for policy, chosen in ((policy_a, people[:35]), (policy_b, people[25:55])):
        for person in chosen:
            outreach.add_targets(admin_actor, policy.id, [person.id], priority=rng.randint(0, 5))
    # The never-contactable ones are queued at the top of both policies, straight into the table.
    with tenant_session(tenant) as s:
        for policy in (policy_a, policy_b):
            for person in people[55:]:
                s.execute(
                    text(
                        "INSERT INTO outreach_targets (tenant_id, policy_id, contact_id, priority, status, rounds_done)"
                        " VALUES (:t, :p, :c, 100, 'pending', 0)"
                    ),
                    {"t": tenant, "p": policy.id, "c": person.id},
                )
        s.commit()
    outreach.activate_policy(admin_actor, policy_a.id)
    outreach.activate_policy(admin_actor, policy_b.id)

    clock_file = tmp_path / "clock"
    monday = clock.now().astimezone(ZoneInfo(TZ))
    write_clock(clock_file, clock.now())
    flush_at = monday.replace(hour=12) + timedelta(days=3)  # Thursday noon
    workers = _start_workers(clock_file, tmp_path)
    driver = Driver(sim, clock, clock_file, tenant, workers, tmp_path)
    with use_runtime(EngineRuntime(clock=clock, deferrer=DatabaseHeldDeferrer(), llm=lambda: None)):
        try:
            flushed = False
            for local in _windows(monday):
                flush = not flushed and local >= flush_at
                driver.step(local.astimezone(clock.now().tzinfo), flush=flush)
                flushed = flushed or flush
            driver.collect_failures()
        finally:
            _stop(workers)
    # Jobs that were running when Redis was flushed finish their work, then RQ cannot find its own records of them
    # ("Failed to retrieve status" in handle_job_success, or, by timing, its execution record: rq/executions.py):
    # bookkeeping only. Anything else is a real failure.
    bookkeeping = ("InvalidJobOperation: Failed to retrieve status", "not found in Redis")
    real_failures = [f for f in driver.failed if not any(b in f for b in bookkeeping)]
    assert flushed and real_failures == [], real_failures[:5]

    with tenant_session(tenant) as s:
        sends = s.execute(
            text(
                f"SELECT from_number_id, contact_id, sent_at, meta->>'kind' AS kind FROM messages "
                f"WHERE direction = 'out' AND sent_at IS NOT NULL AND (status <> 'failed' OR error = "
                f"'unknown_delivery') AND meta->>'kind' IN {OUTREACH} ORDER BY sent_at"
            )
        ).all()
        confirmations = s.execute(
            text(
                "SELECT contact_id, sent_at, status::text AS status FROM messages "
                "WHERE meta->>'kind' = 'optout_confirmation'"
            )
        ).all()
        suppressions = s.execute(text("SELECT contact_id, created_at, reason FROM suppression")).all()
    limits = {a: POLICY_A, b: POLICY_B}
    tz = ZoneInfo(TZ)
    by_number: dict = defaultdict(list)
    for row in sends:
        by_number[row.from_number_id].append(row.sent_at)
    violations = []
    for number_id, times in by_number.items():
        limit = limits[number_id]
        per_day = Counter(t.astimezone(tz).date() for t in times)
        violations += [f"{number_id} {day}: {n} > daily" for day, n in per_day.items() if n > limit["daily_limit"]]
        for i, t in enumerate(times):
            in_hour = sum(1 for u in times[: i + 1] if t - u < timedelta(hours=1))
            if in_hour > limit["hourly_limit"]:
                violations.append(f"{number_id} {t}: {in_hour} in the hour ending here")
            if i and t - times[i - 1] < timedelta(minutes=limit["min_gap_minutes"]):
                violations.append(f"{number_id} {t}: gap {t - times[i - 1]}")
            if t.astimezone(tz).hour < 8 or t.astimezone(tz).hour >= 22:
                violations.append(f"{number_id} {t}: outside the dayparts")
    assert violations == []

    # The caps really were the limit (demand exceeded them), and the run did real work after the flush.
    daily_max = {n: max(Counter(t.astimezone(tz).date() for t in ts).values()) for n, ts in by_number.items()}
    assert daily_max == {a: POLICY_A["daily_limit"], b: POLICY_B["daily_limit"]}, daily_max
    after_flush = [t for t in (r.sent_at for r in sends) if t >= flush_at]
    assert len(after_flush) >= 20
    assert {r.kind for r in sends} == {"opener", "follow_up", "closing"}
    days_a = {t.astimezone(tz).strftime("%a") for t in by_number[a]}
    assert days_a <= {"Mon", "Tue", "Wed", "Thu", "Fri"}  # policy A never works weekends

    # Never contacted: no consent or suppressed, in the database and on the wire.
    never = {p.id for p in people[55:]}
    assert not [r for r in sends if r.contact_id in never]
    wire_peers = {m.peer_phone for m in sim.messages(from_me=True)}
    assert not wire_peers & {p.wa_number.lstrip("+") for p in people[55:]}

    # Opt-outs: each confirmed exactly once, and nothing else ever reached them afterwards.
    optouts = [s for s in suppressions if s.reason.startswith("optout:")]
    assert optouts, "no simulated human opted out this week"
    assert Counter(c.contact_id for c in confirmations) == Counter(s.contact_id for s in optouts)
    for sup in optouts:
        late = [r for r in sends if r.contact_id == sup.contact_id and r.sent_at > sup.created_at]
        assert late == [], (sup, late)
    targets = outreach.list_targets(admin_actor, status="optout", limit=500).items
    assert {t.contact_id for t in targets} >= {s.contact_id for s in optouts}
