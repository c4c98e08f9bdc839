"""What the conversation engine needs from the outside world, injectable in one place.

Jobs only carry ids (`send_message(tenant_id, message_id)`); the time, the job queue, the Evolution client and
the LLM come from the process-wide `EngineRuntime` returned by `runtime()`:

- production: `SystemClock`, `RqDeferrer` (RQ `enqueue` / `enqueue_at`; the workers' built-in scheduler releases
  delayed jobs), the shared Evolution client and the configured LLM (or the offline generator);
- tests and benches: `use_runtime(EngineRuntime(clock=FrozenClock(...), deferrer=ManualDeferrer(...)))`. RQ's
  scheduled registry runs on real time, so a time-warped test keeps delayed jobs in `ManualDeferrer` and
  releases them into the real RQ queue as its FrozenClock advances; `SimpleWorker(...).work(burst=True)` then
  runs them in-process (see tests/engine/driver.py).

Job ids follow RQ 2.x rules: only [A-Za-z0-9_-]; a delayed job's id includes its due time, because in RQ 2.12
`enqueue_at` with an existing id silently replaces the earlier job.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.redis import queue as rq_queue
from mirage_app.engine.evolution_gateway import client_for, evolution_client
from mirage_app.engine.llm_client import default_client

log = logging.getLogger("mirage.engine")

SEND_QUEUE = "high"
TICK_QUEUE = "default"

# Job names (dotted paths into workers.jobs): here, so whoever enqueues a job needs no import of its handler.
SEND_JOB = "workers.jobs.send_message"
ON_MESSAGE_JOB = "workers.jobs.on_message"
DRAIN_JOB = "workers.jobs.drain_inbox"
START_ROUND_JOB = "workers.jobs.start_round"
GROUP_SETUP_JOB = "workers.jobs.setup_group"


@dataclass(frozen=True)
class EngineSettings:
    """Engine tunables (not per-tenant: those live in settings_tenant / settings_conversation)."""

    max_send_attempts: int = 5
    retry_base_s: float = 30.0  # first clear-failure retry; doubles each attempt
    retry_cap_s: float = 900.0
    failure_streak_pause: int = 5  # consecutive failed attempts that auto-pause a number
    overdue_grace_s: float = 300.0  # a queued send this late has lost its job: the tick re-enqueues it
    round_watchdog_s: float = 300.0  # how often the tick looks at a running round
    round_stuck_s: float = 3600.0  # a round with no progress for this long is aborted
    reply_recover_s: float = 120.0  # a delivered turn without a reply after this long gets its reply re-enqueued
    min_window_left_s: float = 900.0  # do not start a round in the last minutes of a window
    no_echo_last_n: int = 10  # guard_no_echo compares with this many of the speaker's last bodies
    history_limit: int = 12  # turns of context for the LLM
    offline_history_limit: int = 500  # the offline generator never repeats anything in this many bodies
    tick_limit: int = 500  # due conversations per batch of a tick (and overdue sends recovered per tick)
    tick_budget_s: float = 30.0  # a tick takes further batches until this much time is used (it runs every 60 s)
    inline_sends: bool = True  # a turn due now is sent inside the job that created it (one job per reply)
    job_timeout_s: int = 180
    server_hold_s: float = 30.0  # a send held for its Evolution server (down, unlicensed) is tried again after this
    # A drain that finds the inbox empty waits this long for the next message before it gives its slot up (each
    # new drain job costs RQ some fifty Redis commands). 0 in-process (tests); `mirage worker` sets WORKER_LINGER_S.
    drain_linger_s: float = 0.0


WORKER_LINGER_S = 0.5  # the drains' linger in a `mirage worker` process (other queued work waits at most this long)


class Deferrer(Protocol):
    """Puts engine jobs on the queue, now or later. `func` is a dotted path into workers.jobs."""

    def enqueue(self, func: str, *args: Any, job_id: str | None = None, queue: str = SEND_QUEUE) -> None: ...

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str, queue: str = SEND_QUEUE) -> None: ...


class RqDeferrer:
    """The real thing: RQ queues in Redis. Immediate jobs with an id are unique while queued (a duplicate trigger
    is dropped); delayed ones go to RQ's ScheduledJobRegistry (workers run `--with-scheduler`)."""

    def __init__(self, clock: Clock = system_clock, job_timeout_s: int = 180) -> None:
        self._clock = clock
        self._timeout = job_timeout_s

    def _options(self, job_id: str | None) -> dict[str, Any]:
        # Retry covers a worker killed mid-job: RQ's StartedJobRegistry cleanup re-queues abandoned jobs that
        # still have retries left. result_ttl=0 frees the id as soon as the job succeeded.
        return {
            "job_id": job_id,
            "result_ttl": 0,
            "failure_ttl": 86400,
            "job_timeout": self._timeout,
            "retry": Retry(max=3, interval=[5, 30, 120]),
        }

    def enqueue(self, func: str, *args: Any, job_id: str | None = None, queue: str = SEND_QUEUE) -> None:
        with contextlib.suppress(DuplicateJobError):
            rq_queue(queue).enqueue(func, *args, unique=job_id is not None, **self._options(job_id))

    def enqueue_many(self, jobs: list[tuple[str, tuple, str]], queue: str = SEND_QUEUE) -> None:
        """Immediate jobs (func, args, job id) in one Redis round trip; ids are expected to be fresh (no dedupe)."""
        if not jobs:
            return
        q = rq_queue(queue)
        data = [
            Queue.prepare_data(
                func,
                args,
                timeout=self._timeout,
                result_ttl=0,
                failure_ttl=86400,
                job_id=jid,
                retry=Retry(max=3, interval=[5, 30, 120]),
            )
            for func, args, jid in jobs
        ]
        with q.connection.pipeline() as pipe:
            q.enqueue_many(data, pipeline=pipe)
            pipe.execute()

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str, queue: str = SEND_QUEUE) -> None:
        if when <= self._clock.now():
            self.enqueue(func, *args, job_id=job_id, queue=queue)
            return
        # RQ scores scheduled jobs in whole seconds, rounded down, and would release this one up to a second early
        # (the send pipeline then finds its message not due yet). The next whole second is never early.
        due = datetime.fromtimestamp(math.ceil(when.timestamp()), tz=when.tzinfo or UTC)
        rq_queue(queue).enqueue_at(due, func, *args, **self._options(job_id))


@dataclass(order=True)
class _Held:
    when: datetime
    seq: int
    func: str = field(compare=False)
    args: tuple = field(compare=False)
    job_id: str = field(compare=False)
    queue: str = field(compare=False)


class ManualDeferrer:
    """For time-warped runs: immediate jobs go to the real RQ queue at once; delayed jobs wait here, keyed by job
    id like RQ 2.x (same id = replaced), until `release_due(now)` moves them to the queue."""

    def __init__(self, immediate: Deferrer | None = None) -> None:
        self._immediate = immediate or RqDeferrer(clock=_Never())
        self._heap: list[_Held] = []
        self._by_id: dict[str, _Held] = {}
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.released = 0

    def enqueue(self, func: str, *args: Any, job_id: str | None = None, queue: str = SEND_QUEUE) -> None:
        self._immediate.enqueue(func, *args, job_id=job_id, queue=queue)

    def enqueue_many(self, jobs: list[tuple[str, tuple, str]], queue: str = SEND_QUEUE) -> None:
        for func, args, jid in jobs:
            self._immediate.enqueue(func, *args, job_id=jid, queue=queue)

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str, queue: str = SEND_QUEUE) -> None:
        held = _Held(when, next(self._seq), func, args, job_id, queue)
        with self._lock:
            self._by_id[job_id] = held
            heapq.heappush(self._heap, held)

    def next_due(self) -> datetime | None:
        with self._lock:
            self._drop_replaced()
            return self._heap[0].when if self._heap else None

    def pending(self) -> int:
        with self._lock:
            return len(self._by_id)

    def release_due(self, now: datetime) -> int:
        """Queue every held job due at `now`; returns how many."""
        due: list[_Held] = []
        with self._lock:
            while self._heap:
                self._drop_replaced()
                if not self._heap or self._heap[0].when > now:
                    break
                held = heapq.heappop(self._heap)
                del self._by_id[held.job_id]
                due.append(held)
        for held in due:
            self._immediate.enqueue(held.func, *held.args, job_id=held.job_id, queue=held.queue)
        self.released += len(due)
        return len(due)

    def _drop_replaced(self) -> None:
        while self._heap and self._by_id.get(self._heap[0].job_id) is not self._heap[0]:
            heapq.heappop(self._heap)


class _Never:
    """A clock for the immediate side of ManualDeferrer: every time is 'in the future' is never asked."""

    def now(self) -> datetime:  # pragma: no cover - RqDeferrer.enqueue never reads it
        raise AssertionError("not used")


@dataclass(frozen=True)
class EngineRuntime:
    clock: Clock = system_clock
    deferrer: Deferrer | None = None
    settings: EngineSettings = field(default_factory=EngineSettings)
    # Factories, so a test can swap the Evolution server or the LLM without touching the globals.
    evolution: Callable[[], Any] | None = None
    llm: Callable[[], Any] | None = None

    def jobs(self) -> Deferrer:
        return self.deferrer if self.deferrer is not None else RqDeferrer(self.clock, self.settings.job_timeout_s)

    def evolution_client(self, tenant_id: uuid.UUID | str | None = None, server_id: uuid.UUID | None = None):
        """The client of the Evolution server that holds a number (the default server for `server_id` None)."""
        if self.evolution is not None:
            return self.evolution()
        if tenant_id is None or server_id is None:
            return evolution_client()
        return client_for(tenant_id, server_id)

    def llm_client(self):
        """The configured LLM client, or None for the offline generator."""
        if self.llm is not None:
            return self.llm()
        return default_client()

    def with_changes(self, **changes: Any) -> EngineRuntime:
        return replace(self, **changes)


_current = EngineRuntime()
_lock = threading.Lock()


def runtime() -> EngineRuntime:
    return _current


def set_runtime(value: EngineRuntime) -> EngineRuntime:
    """Install `value` for the whole process; returns the previous runtime."""
    global _current
    with _lock:
        previous, _current = _current, value
    return previous


@contextlib.contextmanager
def use_runtime(value: EngineRuntime) -> Iterator[EngineRuntime]:
    previous = set_runtime(value)
    try:
        yield value
    finally:
        set_runtime(previous)


def job_id(*parts: object) -> str:
    """An RQ-safe job id from parts (uuids, ints, words): only [A-Za-z0-9_-]."""
    text = "-".join(str(p) for p in parts)
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)
