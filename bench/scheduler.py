"""One conversation-scheduler tick at 1k and 10k conversations (one number each, paired in rings), in ms.

    .venv/bin/python -m bench.scheduler                 # 1k and 10k, 10 tenants, 9 timed ticks per case
    .venv/bin/python -m bench.scheduler --sizes 1000 10000 50000 --runs 15

Runs against an embedded PostgreSQL and Redis in a temporary folder (or DATABASE_URL / REDIS_URL, in a fresh
database). For each size it times `conversation_scheduler.tick()` (the real one: SECURITY DEFINER due look-up,
per-tenant RLS sessions, rounds written, `start_round` jobs enqueued in Redis) in three states:

- idle: every conversation active, none due (all waiting for a window or a pause) — the usual minute;
- 1% due: 1% of the conversations due now, each plans a round;
- baseline: a separate small set of exactly as many conversations as the 1% case (same tenants), all due.

"1% due" beside "baseline" shows that the cost follows the due work, not the table size.
Goal: < 250 ms per tick at 10k.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_MS = 250.0


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def generate(admin_url: str, size: int, tenants: int, label: str) -> list[uuid.UUID]:
    """`size` conversations (and numbers) spread over `tenants` tenants; returns the conversation ids."""
    import psycopg

    from mirage_app.services.seed import create_tenant

    per = max(1, size // tenants)
    conv_ids: list[uuid.UUID] = []
    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        for t in range(tenants):
            tenant = create_tenant(f"{label} {t}")
            conn.execute(
                "UPDATE settings_tenant SET quiet_start = '00:00', quiet_end = '00:00', humanize = false, "
                'hourly_burst_limit = 1000, warmup = \'{"day1": 1000, "first_week_cap": 1000, '
                '"max_daily": 1000}\' WHERE tenant_id = %s',
                (tenant,),
            )
            rows = conn.execute(
                """
                WITH n AS (
                  INSERT INTO numbers (tenant_id, session_id, label, status, wa_number, paired_at, failure_streak,
                                       active_days)
                  SELECT %(t)s, 'bench-' || %(tag)s || '-' || g, 'N' || g, 'connected',
                         '+55' || (11000000000 + %(base)s + g)::text, now() - interval '30 days', 0, 10
                  FROM generate_series(1, %(per)s) g RETURNING id, label
                ), c AS (
                  INSERT INTO conversations (tenant_id, name, mode, active, openai_model, temperature,
                                             topic_strategy, topic_refresh_minutes, next_due_at)
                  SELECT %(t)s, 'C' || g, 'pair', true, 'gpt-4o-mini', 0.8, 'rotate', 120, now() + interval '1 day'
                  FROM generate_series(1, %(per)s) g RETURNING id, name
                )
                SELECT c.id AS conversation_id, n.id AS number_id, substr(c.name, 2)::int AS k
                FROM c JOIN n ON substr(n.label, 2) = substr(c.name, 2) ORDER BY k
                """,
                {"t": tenant, "tag": f"{label}-{t}-{uuid.uuid4().hex[:6]}", "base": t * 10_000_000, "per": per},
            ).fetchall()
            numbers = [r[1] for r in rows]
            participants = []
            for i, (cid, nid, _k) in enumerate(rows):
                partner = numbers[(i + 1) % len(numbers)]
                participants += [(tenant, cid, nid, 0), (tenant, cid, partner, 1)]
                conv_ids.append(cid)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO conversation_participants (tenant_id, conversation_id, kind, number_id, role, "
                    "start_order) VALUES (%s, %s, 'bot', %s, 'member', %s)",
                    participants,
                )
            conn.execute(
                """
                INSERT INTO conversation_schedule (tenant_id, conversation_id, day, morning_enabled, morning_start,
                  morning_end, afternoon_enabled, afternoon_start, afternoon_end, evening_enabled, evening_start,
                  evening_end, max_rounds_per_window, pause_between_rounds_min, pause_between_rounds_max)
                SELECT %(t)s, c.id, d::weekday, true, '00:00', '08:00', true, '08:00', '16:00', true, '16:00',
                       '00:00', 1000, 0, 0
                FROM conversations c CROSS JOIN unnest(ARRAY['sun','mon','tue','wed','thu','fri','sat']) d
                WHERE c.tenant_id = %(t)s
                """,
                {"t": tenant},
            )
            conn.execute(
                "INSERT INTO settings_conversation (tenant_id, conversation_id, guard_no_echo) "
                "SELECT %s, id, true FROM conversations WHERE tenant_id = %s",
                (tenant, tenant),
            )
        conn.execute("ANALYZE")
    return conv_ids


def make_due(admin_url: str, ids: list[uuid.UUID]) -> None:
    import psycopg

    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        conn.execute("DELETE FROM rounds WHERE conversation_id = ANY(%s)", (ids,))
        conn.execute("UPDATE conversations SET next_due_at = now() - interval '1 minute' WHERE id = ANY(%s)", (ids,))


def park(admin_url: str, ids: list[uuid.UUID]) -> None:
    import psycopg

    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        conn.execute("DELETE FROM rounds WHERE conversation_id = ANY(%s)", (ids,))
        conn.execute("UPDATE conversations SET next_due_at = now() + interval '1 day' WHERE id = ANY(%s)", (ids,))


def timed_ticks(admin_url: str, due: list[uuid.UUID], runs: int) -> tuple[list[float], int]:
    from mirage_app.core.redis import get_redis
    from mirage_app.engine import conversation_scheduler

    samples, started_rounds = [], 0
    for i in range(runs + 1):  # the first run warms caches and is not counted
        if due:
            make_due(admin_url, due)
        get_redis().flushdb()
        t0 = time.perf_counter()
        report = conversation_scheduler.tick()
        elapsed = (time.perf_counter() - t0) * 1000
        if i:
            samples.append(elapsed)
            started_rounds = report.rounds_started
        if due:
            park(admin_url, due)
    return samples, started_rounds


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="mirage-bench-scheduler-"))
    os.environ.setdefault("MIRAGE_SECRET_KEY", "bench-secret")
    os.environ.setdefault("MIRAGE_DATA_DIR", str(workdir / "data"))
    stoppers = []
    if not os.environ.get("DATABASE_URL"):
        from mirage_app.core.embedded import EmbeddedPostgres

        pg = EmbeddedPostgres(workdir / "pg").start()
        stoppers.append(pg.stop)
        os.environ["DATABASE_URL"] = pg.admin_url()
    if not os.environ.get("REDIS_URL"):
        from mirage_app.core.embedded import EmbeddedRedis

        redis = EmbeddedRedis(workdir / "redis").start()
        stoppers.append(redis.stop)
        os.environ["REDIS_URL"] = redis.url
    try:
        from mirage_app.core import migrate

        migrate.upgrade()
        admin_url = os.environ["DATABASE_URL"]
        rows = []
        total = 0
        baselines: dict[int, list[uuid.UUID]] = {}
        for size in sorted(args.sizes):
            t0 = time.perf_counter()
            ids = generate(admin_url, size - total, args.tenants, f"S{size}")
            total = size
            all_ids = _all_bench_ids(admin_url, exclude_prefix="B")
            print(f"{size:,} conversations ready ({time.perf_counter() - t0:.1f} s)", flush=True)
            del ids
            n_due = max(1, round(size * args.due_percent / 100))
            idle, _ = timed_ticks(admin_url, [], args.runs)
            due_ids = all_ids[:: max(1, len(all_ids) // n_due)][:n_due]
            busy, started = timed_ticks(admin_url, due_ids, args.runs)
            rows.append((f"{size:,}", "idle (0 due)", 0, idle))
            rows.append((f"{size:,}", f"{args.due_percent:g}% due", started, busy))
            baselines.setdefault(n_due, [])
        # Baseline: only as many conversations as were due, in as many tenants, all due (the big set is parked).
        for n_due in sorted(baselines):
            ids = generate(admin_url, n_due, max(1, min(args.tenants, n_due // 2)), f"B{n_due}")
            base, started = timed_ticks(admin_url, ids, args.runs)
            park(admin_url, ids)
            rows.append((f"+{n_due:,} small", "baseline: all due", started, base))

        print()
        print(f"{'conversations':>14}  {'state':<18} {'rounds':>6} {'p50 ms':>8} {'p95 ms':>8}")
        for size, state, started, samples in rows:
            print(f"{size:>14}  {state:<18} {started:>6} {statistics.median(samples):>8.1f} {p95(samples):>8.1f}")
        big = [r for r in rows if r[0] == f"{max(args.sizes):,}" and "due" in r[1] and "idle" not in r[1]]
        base_rows = [r for r in rows if "baseline" in r[1]]
        if big and base_rows:
            ratio = statistics.median(big[-1][3]) / statistics.median(base_rows[-1][3])
            print(f"\n{max(args.sizes):,} with {args.due_percent:g}% due vs the same due work alone: x{ratio:.2f}")
            worst = p95(big[-1][3])
            verdict = "met" if worst < GOAL_MS else "NOT met"
            print(f"goal < {GOAL_MS:.0f} ms per tick at {max(args.sizes):,}: {verdict} (p95 {worst:.1f} ms)")
        return 0
    finally:
        from mirage_app.core.db import reset_engines

        reset_engines()
        for stop in reversed(stoppers):
            stop()


def _all_bench_ids(admin_url: str, exclude_prefix: str) -> list[uuid.UUID]:
    import psycopg

    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT c.id FROM conversations c JOIN tenants t ON t.id = c.tenant_id "
                "WHERE t.name NOT LIKE %s ORDER BY c.id",
                (f"{exclude_prefix}%",),
            )
        ]


if __name__ == "__main__":
    raise SystemExit(main())
