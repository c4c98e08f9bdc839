"""Drive the conversation engine synchronously on an injected clock (no real waiting).

- immediate jobs go to the real RQ queues in Redis and run in-process with `SimpleWorker(...).work(burst=True)`;
- delayed jobs (`enqueue_at`) wait in the `ManualDeferrer` and are released as the FrozenClock reaches them;
- the scheduler tick is called directly at the moments it would matter (a conversation's `next_due_at`, rounded
  up to the minute like the real every-minute tick, or a released delayed job);
- after each step the simulator is drained (`wait_idle`), so its webhooks have reached Mirage's API and enqueued
  their `on_message` jobs before the next step.
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime, timedelta

from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.core.redis import QUEUE_NAMES, get_redis
from mirage_app.engine import conversation_scheduler
from mirage_app.engine.runtime import ManualDeferrer


class BurstWorker(SimpleWorker):
    """SimpleWorker without the pub/sub command channel: joining its listener thread costs ~0.1 s per burst, and
    nothing sends worker commands in these tests. Counts the jobs it ran."""

    jobs_run = 0

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass

    def perform_job(self, job, queue) -> bool:
        BurstWorker.jobs_run += 1
        return super().perform_job(job, queue)


def ceil_minute(when: datetime) -> datetime:
    epoch = when.timestamp()
    return datetime.fromtimestamp(math.ceil(epoch / 60) * 60, UTC)


class Driver:
    def __init__(self, clock: FrozenClock, deferrer: ManualDeferrer, sim, tenant_id: uuid.UUID) -> None:
        self.clock = clock
        self.deferrer = deferrer
        self.sim = sim
        self.tenant_id = tenant_id
        self.queues = [Queue(name, connection=get_redis()) for name in QUEUE_NAMES]
        self.reports: list[conversation_scheduler.TickReport] = []
        self.jobs_run = 0
        self.timing = {"work": 0.0, "idle": 0.0, "tick": 0.0}

    def pending(self) -> int:
        return sum(q.count for q in self.queues)

    def work(self) -> None:
        started = time.perf_counter()
        before = BurstWorker.jobs_run
        BurstWorker(self.queues, connection=get_redis()).work(burst=True, logging_level="WARNING")
        self.jobs_run += BurstWorker.jobs_run - before
        self.timing["work"] += time.perf_counter() - started

    def wait_idle(self) -> None:
        started = time.perf_counter()
        self.sim.wait_idle(10)
        self.timing["idle"] += time.perf_counter() - started

    def settle(self, max_steps: int = 100) -> None:
        """Run everything that is due now, including what the simulator's webhooks trigger."""
        for _ in range(max_steps):
            self.deferrer.release_due(self.clock.now())
            if not self.pending():
                self.wait_idle()
                self.deferrer.release_due(self.clock.now())
                if not self.pending():
                    return
            self.work()
            self.wait_idle()
        raise AssertionError("the engine did not settle")

    def tick(self) -> conversation_scheduler.TickReport:
        started = time.perf_counter()
        report = conversation_scheduler.tick()
        self.timing["tick"] += time.perf_counter() - started
        self.reports.append(report)
        return report

    def step(self) -> None:
        self.tick()
        self.settle()

    def next_conversation_due(self) -> datetime | None:
        with tenant_session(self.tenant_id) as s:
            return s.execute(text("SELECT min(next_due_at) FROM conversations WHERE active")).scalar()

    def advance(self, delta: timedelta) -> None:
        self.run_until(self.clock.now() + delta)

    def run_until(self, end: datetime, max_iterations: int = 200_000) -> None:
        for _ in range(max_iterations):
            self.step()
            now = self.clock.now()
            if now >= end:
                return
            candidates = [end]
            held = self.deferrer.next_due()
            if held is not None:
                candidates.append(held)
            due = self.next_conversation_due()
            if due is not None:
                candidates.append(ceil_minute(due))
            nxt = min(candidates)
            if nxt <= now:  # due right now: step again without moving the clock (bounded by the loop)
                nxt = now + timedelta(seconds=1) if due is not None and due <= now and held is None else now
                if nxt == now:
                    continue
            self.clock.set(nxt)
        raise AssertionError("run_until did not reach its end")

    def failed_jobs(self) -> list[str]:
        out = []
        for q in self.queues:
            registry = FailedJobRegistry(queue=q)
            for job_id in registry.get_job_ids():
                job = q.fetch_job(job_id)
                out.append(f"{job_id}: {job.latest_result().exc_string if job and job.latest_result() else '?'}")
        return out
