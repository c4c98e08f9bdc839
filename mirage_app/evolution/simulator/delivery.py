"""Background webhook delivery with Evolution's retry policy, plus a timeline for delayed simulator actions.

One worker thread runs both, in due-time order, so with zero delays events reach the receiver in emission
order unless a fault (duplicate, reorder) says otherwise. Requests never wait on it.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from mirage_app.evolution.simulator.config import SimConfig

log = logging.getLogger(__name__)

NO_RETRY_STATUSES = frozenset({400, 401, 403, 404, 422})


@dataclass
class Delivery:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    attempt: int = 0
    duplicate: bool = False
    was_held: bool = False


@dataclass(frozen=True)
class AttemptRecord:
    event: str
    url: str
    attempt: int
    status: int | None  # None: no HTTP answer
    error: str | None
    duplicate: bool


Job = Delivery | Callable[[], None]


class WebhookPoster:
    """POSTs JSON over keep-alive HTTP/1.1 connections, one per origin, from the dispatcher's single thread.

    The standard library's client: a webhook is a small POST, and httpx spent about a millisecond of CPU on each,
    which on a shared machine was taken from the Mirage under test. A kept connection the receiver has closed
    meanwhile is replaced and the POST sent once more (the receiver may see it twice, as Evolution's retries do)."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = timeout_s
        self._connections: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}

    def post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body, separators=(",", ":")).encode()
        sent_headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        sent_headers |= {"Content-Type": "application/json", "Content-Length": str(len(data))}
        for attempt in (1, 2):
            conn = self._connections.pop(origin, None)
            reused = conn is not None
            if conn is None:
                cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
                conn = cls(origin[1], origin[2], timeout=self._timeout)
            try:
                conn.request("POST", target, body=data, headers=sent_headers)
                response = conn.getresponse()
                response.read()
            except (ConnectionError, http.client.RemoteDisconnected):
                conn.close()
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                self._connections[origin] = conn
            return response.status
        raise AssertionError("unreachable")

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


class WebhookDispatcher:
    """Runs delayed callbacks and POSTs webhooks, retrying like Evolution 2.3.x (`retryWebhookRequest`)."""

    def __init__(self, config: SimConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._held: Delivery | None = None
        self._held_until = 0.0
        self._busy = False
        self._closed = False
        self._paused = False
        self._thread: threading.Thread | None = None
        self.attempts: deque[AttemptRecord] = deque(maxlen=1000)

    def submit(self, delivery: Delivery, delay_s: float = 0.0) -> None:
        self._push(delay_s, delivery)

    def call_later(self, delay_s: float, action: Callable[[], None]) -> None:
        """Run `action` on the worker thread after `delay_s` (used for acks, replies, pending flushes)."""
        self._push(delay_s, action)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued, held or running; False if that did not happen within `timeout`."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._heap and not self._busy and self._held is None, timeout=timeout
            )

    def pause(self) -> None:
        """Hold every queued job (the server is down); a job already running finishes."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Run what was held, in due-time order (overdue jobs at once)."""
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _push(self, delay_s: float, job: Job) -> None:
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay_s), next(self._seq), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="evolution-sim-webhooks", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        poster = WebhookPoster(self._config.webhook_timeout_s)
        try:
            while (job := self._next_job()) is not None:
                try:
                    if isinstance(job, Delivery):
                        self._deliver(poster, job)
                    else:
                        job()
                except Exception:  # a bug in one job must not kill the worker
                    log.exception("simulator background job failed")
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            poster.close()

    def _next_job(self) -> Job | None:
        """Wait for the next due job; a held (reordered) delivery goes out right after the one behind it."""
        with self._cond:
            while not self._closed:
                if self._paused:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                if self._held is not None and self._held_until <= now:
                    job: Job = self._held
                    self._held = None
                elif self._heap and self._heap[0][0] <= now:
                    job = heapq.heappop(self._heap)[2]
                    if isinstance(job, Delivery) and self._should_hold(job):
                        self._held, job.was_held = job, True
                        self._held_until = now + self._config.faults.reorder_hold_s
                        continue
                else:
                    deadlines = [self._heap[0][0]] if self._heap else []
                    if self._held is not None:
                        deadlines.append(self._held_until)
                    self._cond.wait(timeout=min(deadlines) - now if deadlines else None)
                    continue
                self._busy = True
                return job
            return None

    def _should_hold(self, job: Delivery) -> bool:
        return (
            self._held is None
            and job.attempt == 0
            and not (job.was_held or job.duplicate)
            and self._rng.random() < self._config.faults.reorder_rate
        )

    def _deliver(self, poster: WebhookPoster, delivery: Delivery) -> None:
        delivery.attempt += 1
        status: int | None = None
        error: str | None = None
        try:
            status = poster.post(delivery.url, delivery.body, delivery.headers)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, reset, timed out, bad URL...
            error = f"{type(exc).__name__}: {exc}"
        self.attempts.append(
            AttemptRecord(
                str(delivery.body.get("event")), delivery.url, delivery.attempt, status, error, delivery.duplicate
            )
        )
        with self._cond:
            if self._held is not None:  # release the reordered delivery right after this later one
                self._held_until = 0.0
        if status is not None and 200 <= status < 300:
            if not delivery.duplicate and self._rng.random() < self._config.faults.duplicate_rate:
                self.submit(replace(delivery, attempt=0, duplicate=True))
            return
        if status in NO_RETRY_STATUSES or delivery.attempt >= self._config.webhook_max_attempts:
            event = delivery.body.get("event")
            log.warning("webhook %s to %s given up after %d attempt(s)", event, delivery.url, delivery.attempt)
            return
        backoff = self._config.webhook_backoff_s * 2 ** (delivery.attempt - 1)
        self.submit(delivery, min(backoff, self._config.webhook_backoff_cap_s) * self._rng.uniform(0.8, 1.2))
