"""Counters and histograms an operator of many Evolution servers watches (exposed at `/api/metrics`).

Mirage runs as several processes (web workers, RQ workers, the scheduler). With PROMETHEUS_MULTIPROC_DIR set
(the embedded supervisor sets it; set it for every process of a machine in production) each process writes its
samples to that folder and the scrape adds them up; without it, `/api/metrics` shows the web process's own.
Gauges that are facts in the database or Redis (servers, queues) are read at scrape time instead
(services.prometheus).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SENDS = Counter(
    "mirage_send_attempts",
    "Send pipeline attempts by outcome (sent, deferred, retry, failed, reading, busy, noop, early, adopted)",
    ["outcome"],
)
SEND_LAG = Histogram(
    "mirage_send_lag_seconds",
    "How late a send goes out against its plan (claim time minus planned time)",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
WEBHOOK_EVENTS = Counter("mirage_webhook_events", "Evolution webhook deliveries received", ["result"])
