"""A size's figures: the Result a run fills, and the database queries that give its sends, lags, events, rounds
and cap violations over the measured window (counted from the rows, not from the engine's own bookkeeping)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.capacity.plan import Pacing, Size
from bench.capacity.watch import ProcInfo
from bench.pipeline import pct

MIRAGE_GROUPS = ("backend", "workers", "scheduler")
SENT = "('sent', 'server_ack', 'delivered', 'read')"
CLAIMED = "m.direction = 'out' AND m.sent_at IS NOT NULL AND (m.status <> 'failed' OR m.error = 'unknown_delivery')"


@dataclass
class Result:
    size: Size
    conversations: int
    pacing: Pacing
    typing: str
    window_s: float = 0.0
    setup_s: float = 0.0
    sends: int = 0
    lags_ms: list[int] = field(default_factory=list)
    per_minute: list[int] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)
    webhook_events: dict[str, int] = field(default_factory=dict)
    ticks: list[dict] = field(default_factory=list)
    queue_series: list[dict] = field(default_factory=list)
    violations: dict[str, int] = field(default_factory=dict)
    headroom: dict[str, float] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    procs: list[ProcInfo] = field(default_factory=list)
    rounds: dict[str, int] = field(default_factory=dict)
    typing_busy: float = 0.0
    stalled_at_end: int = 0
    unclaimed: int = 0  # sends due in the window and not claimed by its end (in lags_ms with their lag so far)
    backend_workers: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def number_hours(self) -> float:
        return self.size.numbers * self.window_s / 3600

    def cost(self, groups: tuple[str, ...] = MIRAGE_GROUPS) -> float:
        """CPU seconds per 1,000 number-hours of `groups`."""
        return sum(self.cpu.get(g, 0.0) for g in groups) / (self.number_hours / 1000) if self.window_s else 0.0

    @property
    def sends_per_s(self) -> float:
        return self.sends / self.window_s if self.window_s else 0.0

    def lag_s(self, q: float) -> float:
        return pct(self.lags_ms, q) / 1000 if self.lags_ms else float("nan")

    def tick_ms(self, key: str, q: float) -> float:
        values = [t[key] for t in self.ticks if t.get(key) is not None]
        return pct(values, q) if values else float("nan")

    @property
    def events_per_s(self) -> float:
        return sum(self.webhook_events.values()) / self.window_s if self.window_s else 0.0

    @property
    def mirage_peak_rss(self) -> int:
        return max((p.peak_rss for p in self.procs if p.group in MIRAGE_GROUPS), default=0)


def database_figures(dsn: str, r: Result, t_start: float, t_end: float) -> None:
    import psycopg

    from mirage_app.logic import warmup

    a, b = datetime.fromtimestamp(t_start, UTC), datetime.fromtimestamp(t_end, UTC)
    window = {"a": a, "b": b}
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT (meta->>'lag_ms')::int, (meta->'plan'->>'typing_ms')::int FROM messages m "
            f"WHERE direction = 'out' AND status IN {SENT} AND sent_at >= %(a)s AND sent_at < %(b)s",
            window,
        ).fetchall()
        r.sends = len(rows)
        r.lags_ms = [lag for lag, _ in rows if lag is not None]
        # Sends that were due in the window but not claimed by its end count with the lag they had reached: a
        # backlog must show in the percentiles, not only in the sends that made it.
        waiting = conn.execute(
            "SELECT (extract(epoch FROM %(b)s - coalesce(send_after, created_at)) * 1000)::int FROM messages "
            "WHERE direction = 'out' AND status = 'queued' AND dispatched_at IS NULL "
            "AND coalesce(send_after, created_at) < %(b)s",
            window,
        ).fetchall()
        r.unclaimed = len(waiting)
        r.lags_ms += [lag for (lag,) in waiting]
        r.typing_busy = sum(t or 0 for _, t in rows) / 1000 / r.window_s
        r.per_minute = [
            n
            for (n,) in conn.execute(
                f"SELECT count(m.id) FROM generate_series(0, %(m)s - 1) g LEFT JOIN messages m ON m.direction = 'out' "
                f"AND m.status IN {SENT} AND m.sent_at >= %(a)s + g * interval '1 minute' "
                f"AND m.sent_at < least(%(a)s + (g + 1) * interval '1 minute', %(b)s) GROUP BY g ORDER BY g",
                window | {"m": max(1, int(r.window_s // 60))},
            )
        ]
        r.failed = dict(
            conn.execute(
                "SELECT coalesce(error, '?'), count(*) FROM messages WHERE direction = 'out' AND status = 'failed' "
                "AND updated_at >= %(a)s AND updated_at < %(b)s GROUP BY 1 ORDER BY 2 DESC",
                window,
            ).fetchall()
        )
        r.webhook_events = dict(
            conn.execute(
                "SELECT event_type, count(*) FROM webhook_events WHERE received_at >= %(a)s AND received_at < %(b)s "
                "GROUP BY 1 ORDER BY 2 DESC",
                window,
            ).fetchall()
        )
        started = conn.execute(
            "SELECT count(*) FROM rounds WHERE started_at >= %(a)s AND started_at < %(b)s", window
        ).fetchone()[0]
        ended = dict(
            conn.execute(
                "SELECT coalesce(end_reason, state::text), count(*) FROM rounds WHERE ended_at >= %(a)s "
                "AND ended_at < %(b)s GROUP BY 1",
                window,
            ).fetchall()
        )
        r.rounds = {"started": started, **{f"ended {k}": v for k, v in ended.items()}}
        r.stalled_at_end = conn.execute(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'queued' "
            "AND coalesce(send_after, created_at) < %(b)s - interval '60 seconds'",
            window,
        ).fetchone()[0]

        # Caps, over every claimed send of the run.
        hourly, min_delay, humanize, warm = conn.execute(
            "SELECT hourly_burst_limit, min_delay_s, humanize, warmup FROM settings_tenant LIMIT 1"
        ).fetchone()
        policy = warmup.WarmupPolicy.from_mapping(warm or {})
        min_gap = timedelta(seconds=min_delay if humanize else 0)
        caps = {d: warmup.daily_cap(policy, d) for d in range(1, 9)}
        rows = conn.execute(
            f"""
            WITH s AS (
                SELECT m.from_number_id AS n, m.sent_at, (m.sent_at AT TIME ZONE t.timezone)::date AS local_day
                FROM messages m JOIN tenants t ON t.id = m.tenant_id WHERE {CLAIMED}
            ), w AS (
                SELECT n, sent_at,
                       count(*) OVER (PARTITION BY n ORDER BY sent_at
                                      RANGE BETWEEN interval '1 hour' PRECEDING AND CURRENT ROW) AS in_hour,
                       count(*) OVER (PARTITION BY n, local_day ORDER BY sent_at ROWS UNBOUNDED PRECEDING) AS in_day,
                       dense_rank() OVER (PARTITION BY n ORDER BY local_day) AS day_index,
                       sent_at - lag(sent_at) OVER (PARTITION BY n ORDER BY sent_at) AS gap
                FROM s
            )
            SELECT day_index, count(*) FILTER (WHERE in_hour > %(hourly)s) AS hourly,
                   count(*) FILTER (WHERE gap < %(gap)s) AS min_gap,
                   max(in_hour), max(in_day), min(gap), count(*),
                   array_agg(in_day) FILTER (WHERE in_day > %(floor)s) AS high_days
            FROM w GROUP BY day_index
            """,
            {"hourly": hourly, "gap": min_gap, "floor": min(caps.values())},
        ).fetchall()
    r.limits = {"hourly": hourly, "daily (day 1)": caps[1], "min gap s": min_gap.total_seconds()}
    v = {"hourly": 0, "daily": 0, "min_gap": 0}
    head = {"max in an hour": 0, "max in a day": 0, "min gap s": math.inf, "claimed sends": 0}
    for day_index, hour_v, gap_v, max_hour, max_day, min_g, count, high_days in rows:
        v["hourly"] += hour_v
        v["min_gap"] += gap_v
        cap = caps.get(day_index, warmup.daily_cap(policy, day_index))
        v["daily"] += sum(1 for d in high_days or () if d > cap)
        head["max in an hour"] = max(head["max in an hour"], max_hour or 0)
        head["max in a day"] = max(head["max in a day"], max_day or 0)
        if min_g is not None:
            head["min gap s"] = min(head["min gap s"], min_g.total_seconds())
        head["claimed sends"] += count
    r.violations = v
    r.headroom = head
