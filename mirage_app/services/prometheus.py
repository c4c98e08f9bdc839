"""The Prometheus exposition behind `/api/metrics`: counters from every process (core.telemetry) plus the facts
read at scrape time — each Evolution server's health, numbers and capacity, queue depths, the scheduler's
heartbeat, the metric rollups' backlog. Server names are the operator's own labels; no tenant data leaves through
here."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import text

from mirage_app.core.db import system_session
from mirage_app.core.redis import QUEUE_NAMES, SCHEDULER_HEARTBEAT_KEY, get_redis, queue
from mirage_app.models.servers import ServerHealth


class StateCollector(Collector):
    """Gauges read from PostgreSQL and Redis when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        yield from self._servers()
        yield from self._queues()
        yield self._rollup_backlog()

    def _servers(self) -> Iterator[Metric]:
        with system_session() as s:
            rows = s.execute(
                text(
                    "SELECT name, owner, state, health, capacity, placed, latency_ms "
                    "FROM mirage_evolution_server_stats()"
                )
            ).all()
        up = GaugeMetricFamily(
            "mirage_evolution_server_up", "1 when the last probe found a working Evolution server", labels=["server"]
        )
        health = GaugeMetricFamily(
            "mirage_evolution_server_health", "The server's health (1 for its current one)", labels=["server", "health"]
        )
        state = GaugeMetricFamily(
            "mirage_evolution_server_state", "active, draining or disabled (1 for its current one)",
            labels=["server", "owner", "state"],
        )  # fmt: skip
        numbers = GaugeMetricFamily(
            "mirage_evolution_server_numbers", "Numbers placed on the server", labels=["server"]
        )
        capacity = GaugeMetricFamily("mirage_evolution_server_capacity", "Instances it may hold", labels=["server"])
        latency = GaugeMetricFamily(
            "mirage_evolution_server_latency_seconds", "Answer time of the last probe", labels=["server"]
        )
        for r in rows:
            up.add_metric([r.name], 1.0 if r.health == ServerHealth.ok else 0.0)
            health.add_metric([r.name, r.health], 1.0)
            state.add_metric([r.name, r.owner, r.state], 1.0)
            numbers.add_metric([r.name], float(r.placed))
            capacity.add_metric([r.name], float(r.capacity))
            if r.latency_ms is not None:
                latency.add_metric([r.name], r.latency_ms / 1000)
        yield from (up, health, state, numbers, capacity, latency)

    def _rollup_backlog(self) -> Metric:
        with system_session() as s:
            pending = s.execute(text("SELECT mirage_metric_rollup_backlog()")).scalar()
        backlog = GaugeMetricFamily(
            "mirage_metric_rollup_backlog",
            "Message fact changes not yet folded into the metric rollups (the metric-rollups job folds them)",
        )
        backlog.add_metric([], float(pending or 0))
        return backlog

    def _queues(self) -> Iterator[Metric]:
        redis = get_redis()
        depth = GaugeMetricFamily(
            "mirage_queue_jobs", "RQ jobs by queue and registry (queued, scheduled, started, failed)",
            labels=["queue", "registry"],
        )  # fmt: skip
        for name in QUEUE_NAMES:
            q = queue(name)
            depth.add_metric([name, "queued"], float(q.count))
            for label, registry in (
                ("scheduled", ScheduledJobRegistry), ("started", StartedJobRegistry), ("failed", FailedJobRegistry),
            ):  # fmt: skip
                depth.add_metric([name, label], float(registry(queue=q).count))
        yield depth
        alive = GaugeMetricFamily("mirage_scheduler_alive", "1 while a scheduler leader renews its heartbeat")
        alive.add_metric([], 1.0 if redis.exists(SCHEDULER_HEARTBEAT_KEY) else 0.0)
        yield alive


def exposition() -> tuple[bytes, str]:
    """The text exposition and its content type."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in list(REGISTRY._collector_to_names):  # this process's own counters
            registry.register(collector)
    registry.register(StateCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
