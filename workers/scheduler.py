"""Periodic ticks (`mirage scheduler`): exactly one active leader however many scheduler processes run.

Leadership is a Redis key taken with SET NX and renewed while alive; a second process waits as a hot standby.
Each tick is enqueued with a job id derived from its period, so even a leadership hand-over in the middle of
a period cannot enqueue the same tick twice.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

from redis import Redis
from rq.exceptions import DuplicateJobError

from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.redis import SCHEDULER_HEARTBEAT_KEY, get_redis, queue

log = logging.getLogger("mirage.scheduler")
LEADER_KEY = "mirage:scheduler:leader"
LEASE_SECONDS = 15


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    func: str  # dotted path, so the scheduler never imports the job code
    queue: str = "default"


PERIODIC_JOBS: list[PeriodicJob] = [
    # Figures never wait for it (readers add what is pending); it keeps the pending remainder small.
    PeriodicJob("metric-rollups", 30, "workers.jobs.advance_metric_rollups", "low"),
    PeriodicJob("conversation-tick", 60, "workers.jobs.conversation_tick", "default"),
    PeriodicJob("outreach-tick", 60, "workers.jobs.outreach_tick", "default"),
    PeriodicJob("evolution-probe", 30, "workers.jobs.probe_evolution_servers", "default"),
    PeriodicJob("qr-expire", 60, "workers.jobs.expire_qr_attempts", "low"),
    PeriodicJob("instance-reconcile", 60, "workers.jobs.reconcile_instances", "low"),
    PeriodicJob("status-posts", 300, "workers.jobs.post_statuses", "default"),
    PeriodicJob("webhook-upgrade", 3600, "workers.jobs.upgrade_webhooks", "low"),
    PeriodicJob("alert-recover", 60, "workers.jobs.recover_alerts", "low"),
    PeriodicJob("reputation", 60, "workers.jobs.recompute_reputation", "default"),
    PeriodicJob("restriction-sweep", 60, "workers.jobs.sweep_restrictions", "default"),
    PeriodicJob("proxy-probe", 120, "workers.jobs.probe_proxies", "low"),
    PeriodicJob("retention", 3600, "workers.jobs.apply_retention", "low"),
]


class LeaderLease:
    def __init__(self, redis: Redis, identity: str) -> None:
        self.redis = redis
        self.identity = identity

    def acquire_or_renew(self) -> bool:
        if self.redis.set(LEADER_KEY, self.identity, nx=True, ex=LEASE_SECONDS):
            return True
        # Renew only if we still hold it (compare-and-set in one round trip).
        renewed = self.redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) "
            "else return 0 end",
            1,
            LEADER_KEY,
            self.identity,
            LEASE_SECONDS,
        )
        return bool(renewed)

    def release(self) -> None:
        self.redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
            1,
            LEADER_KEY,
            self.identity,
        )


def enqueue_due(jobs: list[PeriodicJob], clock: Clock) -> list[str]:
    """Enqueue every periodic job whose current period has not been enqueued yet."""
    enqueued = []
    epoch = int(clock.now().timestamp())
    for job in jobs:
        period = epoch // job.every_seconds
        job_id = f"tick-{job.name}-{period}"
        try:
            queue(job.queue).enqueue(
                job.func,
                job_id=job_id,
                unique=True,
                result_ttl=job.every_seconds * 2,
                failure_ttl=86400,
                job_timeout=max(60, job.every_seconds),
            )
            enqueued.append(job_id)
        except DuplicateJobError:
            pass
    return enqueued


def run_scheduler(interval: float = 5.0, clock: Clock = system_clock, jobs: list[PeriodicJob] | None = None) -> None:
    redis = get_redis()
    lease = LeaderLease(redis, f"{socket.gethostname()}:{os.getpid()}")
    running = True

    def _stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("scheduler %s started", lease.identity)
    try:
        while running:
            if lease.acquire_or_renew():
                redis.set(SCHEDULER_HEARTBEAT_KEY, lease.identity, ex=int(interval * 3) + 5)
                enqueue_due(jobs if jobs is not None else PERIODIC_JOBS, clock)
            time.sleep(interval)
    finally:
        lease.release()
