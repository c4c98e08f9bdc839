"""Metrics queries at scale: p95 of each /metrics query over the materialized view, beside the same figure
computed straight from `messages` (services/metrics.LIVE_FACTS over the whole period: the rows the views hold), in
the same run, and the ratio. Each query's rows are checked equal both ways once per filter.

    .venv/bin/python bench/metrics.py                    # 5 million messages (a few minutes to generate)
    .venv/bin/python bench/metrics.py --messages 500000  # quicker

Runs against an embedded PostgreSQL in a temporary folder (or DATABASE_URL's server, in a fresh database).
Goal: p95 < 100 ms for every metrics query at 5 million messages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NUMBERS, CONVERSATIONS, TOPICS, ROUNDS = 20, 6, 12, 20_000


def _uuid_array(ids: list[uuid.UUID]) -> str:
    return "ARRAY[" + ",".join(f"'{i}'::uuid" for i in ids) + "]"


def generate(admin_url: str, tenant_id: uuid.UUID, total: int) -> dict[str, list[uuid.UUID]]:
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    numbers = [uuid.uuid4() for _ in range(NUMBERS)]
    conversations = [uuid.uuid4() for _ in range(CONVERSATIONS)]
    topics = [uuid.uuid4() for _ in range(TOPICS)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i, n in enumerate(numbers):
            conn.execute(
                "INSERT INTO numbers (id, tenant_id, session_id, label, status, failure_streak, active_days) "
                "VALUES (%s, %s, %s, %s, 'connected', 0, 10)",
                (n, tenant_id, f"bench-{n.hex[:12]}", f"Número {i + 1:02d}"),
            )
        for i, c in enumerate(conversations):
            conn.execute(
                "INSERT INTO conversations (id, tenant_id, name, active, openai_model, temperature, topic_strategy, "
                "topic_refresh_minutes) VALUES (%s, %s, %s, true, 'gpt-4o-mini', 0.8, 'rotate', 120)",
                (c, tenant_id, f"Conversa {i + 1}"),
            )
        for i, tp in enumerate(topics):  # two topics per conversation
            conn.execute(
                "INSERT INTO topics (id, tenant_id, conversation_id, seed, system_prompt) VALUES (%s, %s, %s, %s, '')",
                (tp, tenant_id, conversations[i % CONVERSATIONS], f"tópico {i + 1}"),
            )
        conn.execute(
            f"INSERT INTO rounds (tenant_id, conversation_id, topic_id, window_key, state, planned_turns, turns_done) "
            f"SELECT %s, ({_uuid_array(conversations)})[1 + g %% {CONVERSATIONS}], "
            f"({_uuid_array(topics)})[1 + g %% {TOPICS}], 'bench', 'done', 4, 4 FROM generate_series(1, {ROUNDS}) g",
            (tenant_id,),
        )
        by_conversation = conn.execute(
            "SELECT conversation_id, array_agg(id) FROM rounds WHERE tenant_id = %s GROUP BY 1", (tenant_id,)
        ).fetchall()
        rounds_flat = []  # 300 rounds per conversation, conversation-major, for array indexing below
        for conversation in conversations:
            rounds_flat += next(r[1] for r in by_conversation if r[0] == conversation)[:300]
        rounds_sql, numbers_sql = _uuid_array(rounds_flat), _uuid_array(numbers)
        chunk = 250_000
        started = time.perf_counter()
        for offset in range(0, total, chunk):
            size = min(chunk, total - offset)
            # 80 % warming messages inside a conversation (between its three numbers, in one of its rounds),
            # 20 % outreach from the last two numbers, a third of it answered by the contact.
            conn.execute(
                f"""
                INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, wa_msg_id,
                                      direction, body, meta, status, created_at)
                SELECT %(t)s,
                       CASE WHEN x.warm THEN ({_uuid_array(conversations)})[1 + x.conv] END,
                       CASE WHEN x.warm THEN ({rounds_sql})[1 + x.conv * 300 + x.g %% 300] END,
                       CASE WHEN x.inbound THEN NULL
                            WHEN x.warm THEN ({numbers_sql})[1 + x.conv * 3 + x.g %% 3]
                            ELSE ({numbers_sql})[19 + x.g %% 2] END,
                       CASE WHEN x.warm THEN ({numbers_sql})[1 + x.conv * 3 + (x.g + 1) %% 3]
                            WHEN x.inbound THEN ({numbers_sql})[19 + x.g %% 2] END,
                       'B' || x.g,
                       CASE WHEN x.inbound THEN 'in'::msg_direction ELSE 'out'::msg_direction END,
                       'mensagem ' || x.g,
                       CASE WHEN x.warm AND x.g %% 2 = 0 THEN jsonb_build_object('reply_latency_s', 20 + x.g %% 300)
                            ELSE '{{}}'::jsonb END,
                       CASE WHEN x.g %% 37 = 0 THEN 'failed'::message_status ELSE 'read'::message_status END,
                       now() - (random() * interval '30 days')
                FROM (SELECT g, g %% 5 <> 0 AS warm, g %% 15 = 0 AS inbound, g %% 6 AS conv
                      FROM generate_series(%(start)s, %(end)s) g) x
                """,
                {"t": tenant_id, "start": offset + 1, "end": offset + size},
            )
            done = offset + size
            rate = done / (time.perf_counter() - started)
            print(f"  generated {done:>9,} messages ({rate:,.0f}/s)", flush=True)
        conn.execute("ANALYZE messages")
    return {"numbers": numbers, "conversations": conversations}


def _rows(s, sql: str, params: dict) -> list[tuple]:
    """A query's rows in a stable order, sums rounded (float addition order differs between the two sources)."""
    from sqlalchemy import text

    rows = s.execute(text(sql), params).all()
    return sorted(tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows)


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=40, help="timed runs per query on the materialized view")
    parser.add_argument("--raw-runs", type=int, default=5, help="timed runs per query straight from messages")
    args = parser.parse_args()

    from sqlalchemy import text

    # Under the project's git-ignored data folder rather than /tmp, which other tools may clean mid-run.
    workdir = Path(__file__).resolve().parents[1] / ".mirage" / "bench" / f"metrics-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MIRAGE_SECRET_KEY", "bench-secret")
    pg = None
    if not os.environ.get("DATABASE_URL"):
        from mirage_app.core.embedded import EmbeddedPostgres

        pg = EmbeddedPostgres(workdir / "pg").start()
        os.environ["DATABASE_URL"] = pg.admin_url()
    try:
        from mirage_app.base.permissions import Actor
        from mirage_app.core import migrate
        from mirage_app.core.clock import system_clock
        from mirage_app.core.db import tenant_session
        from mirage_app.models import UserRole
        from mirage_app.services import metrics
        from mirage_app.services.seed import create_tenant

        migrate.upgrade()
        tenant = create_tenant("Bench")
        print(f"generating {args.messages:,} messages over 30 days ...", flush=True)
        ids = generate(os.environ["DATABASE_URL"], tenant, args.messages)
        started = time.perf_counter()
        metrics.refresh_materialized_views(concurrently=False)
        refresh_s = time.perf_counter() - started
        started = time.perf_counter()
        metrics.refresh_materialized_views(concurrently=True)
        refresh_c = time.perf_counter() - started
        print(f"materialized views: full refresh {refresh_s:.1f} s, concurrent refresh {refresh_c:.1f} s\n")

        actor = Actor(tenant_id=tenant, role=UserRole.viewer, label="bench")
        variants = {
            "30 d": metrics.MetricsFilter(30),
            "7 d, one number": metrics.MetricsFilter(7, number_id=str(ids["numbers"][3])),
            "30 d, one conversation": metrics.MetricsFilter(30, conversation_id=str(ids["conversations"][1])),
        }
        raw, raw_topics = f"({metrics.LIVE_FACTS})", f"({metrics.LIVE_TOPIC_FACTS})"
        print(f"{'query':<12} {'filter':<24} {'MV p50':>8} {'MV p95':>8} {'raw p50':>9} {'raw p95':>9} {'ratio':>7}")
        worst = 0.0
        with tenant_session(tenant) as s:
            for label, flt in variants.items():
                tz, days = metrics.period_start(s, actor, flt, system_clock)
                since, live = days[0], metrics.live_params(tz, system_clock.now())
                # The baseline's live window is the whole period, from the first day's local midnight.
                whole_period = {"today_start": datetime.combine(since, datetime.min.time(), tz)}
                for name in metrics.QUERIES:
                    sql, params = metrics.chart_query(name, flt)
                    raw_sql, _ = metrics.chart_query(name, flt, facts=raw, topic_facts=raw_topics)
                    params.update(live, since=since)
                    raw_params = params | whole_period
                    assert _rows(s, sql, params) == _rows(s, raw_sql, raw_params), f"{name} ({label}) differs"
                    mv = timed(lambda sql=sql, params=params: s.execute(text(sql), params).all(), args.runs)
                    straight = timed(
                        lambda sql=raw_sql, params=raw_params: s.execute(text(sql), params).all(), args.raw_runs
                    )
                    worst = max(worst, p95(mv))
                    print(
                        f"{name:<12} {label:<24} {statistics.median(mv):>6.1f}ms {p95(mv):>6.1f}ms "
                        f"{statistics.median(straight):>7.0f}ms {p95(straight):>7.0f}ms "
                        f"{statistics.median(straight) / statistics.median(mv):>6.0f}x",
                        flush=True,
                    )
            whole = timed(lambda: metrics.dashboard(actor, variants["30 d"]), 10)
        print(f"\nwhole /metrics dashboard (5 queries + opt-outs): p50 {statistics.median(whole):.1f} ms")
        print(
            f"worst p95 over the materialized view: {worst:.1f} ms "
            f"(goal < 100 ms: {'met' if worst < 100 else 'MISSED'})"
        )
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
