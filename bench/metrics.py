"""Metrics at scale (issue 17): what the incremental rollups cost, side by side at several history sizes.

For each size, in a fresh embedded PostgreSQL (or DATABASE_URL's server): the history is generated over 30 days,
then it prints
- the chart queries' p50/p95 over the rollups (goal: p95 < 50 ms at 20 M), with nothing pending and with 1,000 new
  messages not rolled up yet (readers add the pending changes: a busy minute between two steps);
- one rollup step after 10,000 new messages (goal: the same at every size, ratio <= 1.3);
- the old materialized views' full refresh (alembic 0019's OLD_VIEWS, created in the bench database) as baseline,
  and a full `mirage metrics rebuild`;
- the ingest cost per message (one message per transaction, as webhooks arrive) with the rollup triggers and
  without them.
Each chart query's rows are checked equal to the same query straight from `messages` (services/metrics.
SCRATCH_FACTS) once per size.

    .venv/bin/python bench/metrics.py                              # 5 M and 20 M messages (long: 20 M takes a while)
    .venv/bin/python bench/metrics.py --sizes 500000,2000000       # the shape, quickly
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
NUMBERS, CONVERSATIONS, TOPICS, ROUNDS = 20, 6, 12, 20_000
STEP_MESSAGES = 10_000
INGEST_MESSAGES = 2_000
PENDING_MESSAGES = 1_000
# The rollups' triggers (alembic 0019); the message-key triggers (0027) stay on: a warming insert without a WhatsApp
# id or send key does not run them anyway.
ROLLUP_TRIGGERS = ("messages_facts_insert", "messages_facts_update", "messages_facts_delete")

# The chart rows straight from `messages` (no rollup), through the one definition of a message's facts: the baseline.
SCRATCH_FACTS = """(
    SELECT (c.at AT TIME ZONE :tz)::date AS day, extract(hour FROM c.at AT TIME ZONE :tz)::int AS hour, c.number_id,
           c.conversation_id, c.direction, c.topic_id, c.messages, c.failed, c.latency_sum, c.latency_n
    FROM messages m CROSS JOIN LATERAL mirage_message_facts(m.tenant_id, m.created_at, m.direction, m.status,
        m.from_number_id, m.to_number_id, m.conversation_id, m.round_id, m.meta) c
    WHERE m.created_at >= :since_ts
)"""
SCRATCH_TOPIC_FACTS = f"(SELECT * FROM {SCRATCH_FACTS} t WHERE t.direction = 'out' AND t.topic_id <> :none)"


def _uuid_array(ids: list[uuid.UUID]) -> str:
    return "ARRAY[" + ",".join(f"'{i}'::uuid" for i in ids) + "]"


def _messages_sql(rounds_sql: str, numbers_sql: str, conversations_sql: str, created_at: str) -> str:
    """80 % warming messages inside a conversation (between its three numbers, in one of its rounds), 20 % outreach
    from the last two numbers, a third of it answered by the contact; rows %(start)s..%(end)s of a series."""
    return f"""
        INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, wa_msg_id,
                              direction, body, meta, status, created_at)
        SELECT %(t)s,
               CASE WHEN x.warm THEN ({conversations_sql})[1 + x.conv] END,
               CASE WHEN x.warm THEN ({rounds_sql})[1 + x.conv * 300 + x.g %% 300] END,
               CASE WHEN x.inbound THEN NULL
                    WHEN x.warm THEN ({numbers_sql})[1 + x.conv * 3 + x.g %% 3]
                    ELSE ({numbers_sql})[19 + x.g %% 2] END,
               CASE WHEN x.warm THEN ({numbers_sql})[1 + x.conv * 3 + (x.g + 1) %% 3]
                    WHEN x.inbound THEN ({numbers_sql})[19 + x.g %% 2] END,
               %(prefix)s || x.g,
               CASE WHEN x.inbound THEN 'in'::msg_direction ELSE 'out'::msg_direction END,
               'mensagem ' || x.g,
               CASE WHEN x.warm AND x.g %% 2 = 0 THEN jsonb_build_object('reply_latency_s', 20 + x.g %% 300)
                    ELSE '{{}}'::jsonb END,
               CASE WHEN x.g %% 37 = 0 THEN 'failed'::message_status ELSE 'read'::message_status END,
               {created_at}
        FROM (SELECT g, g %% 5 <> 0 AS warm, g %% 15 = 0 AS inbound, g %% 6 AS conv
              FROM generate_series(CAST(%(start)s AS bigint), CAST(%(end)s AS bigint)) g) x
    """


class History:
    """One tenant's numbers, conversations, topics and rounds, and the SQL that adds its messages."""

    def __init__(self, conn, tenant_id: uuid.UUID) -> None:
        self.conn, self.tenant = conn, tenant_id
        self.numbers = [uuid.uuid4() for _ in range(NUMBERS)]
        self.conversations = [uuid.uuid4() for _ in range(CONVERSATIONS)]
        topics = [uuid.uuid4() for _ in range(TOPICS)]
        for i, n in enumerate(self.numbers):
            conn.execute(
                "INSERT INTO numbers (id, tenant_id, session_id, label, status, failure_streak, active_days) "
                "VALUES (%s, %s, %s, %s, 'connected', 0, 10)",
                (n, tenant_id, f"bench-{n.hex[:12]}", f"Número {i + 1:02d}"),
            )
        for i, c in enumerate(self.conversations):
            conn.execute(
                "INSERT INTO conversations (id, tenant_id, name, active, openai_model, temperature, topic_strategy, "
                "topic_refresh_minutes) VALUES (%s, %s, %s, true, 'gpt-4o-mini', 0.8, 'rotate', 120)",
                (c, tenant_id, f"Conversa {i + 1}"),
            )
        for i, tp in enumerate(topics):  # two topics per conversation
            conn.execute(
                "INSERT INTO topics (id, tenant_id, conversation_id, seed, system_prompt) VALUES (%s, %s, %s, %s, '')",
                (tp, tenant_id, self.conversations[i % CONVERSATIONS], f"tópico {i + 1}"),
            )
        conn.execute(
            f"INSERT INTO rounds (tenant_id, conversation_id, topic_id, window_key, state, planned_turns, turns_done) "
            f"SELECT %s, ({_uuid_array(self.conversations)})[1 + g %% {CONVERSATIONS}], "
            f"({_uuid_array(topics)})[1 + g %% {TOPICS}], 'bench', 'done', 4, 4 FROM generate_series(1, {ROUNDS}) g",
            (tenant_id,),
        )
        by_conversation = dict(
            conn.execute(
                "SELECT conversation_id, array_agg(id) FROM rounds WHERE tenant_id = %s GROUP BY 1", (tenant_id,)
            ).fetchall()
        )
        rounds = [r for c in self.conversations for r in by_conversation[c][:300]]  # conversation-major
        self.a_round = rounds[0]
        self.arrays = (_uuid_array(rounds), _uuid_array(self.numbers), _uuid_array(self.conversations))
        self.serial = 0

    def add(self, count: int, created_at: str, prefix: str) -> None:
        sql = _messages_sql(*self.arrays, created_at)
        self.conn.execute(
            sql, {"t": self.tenant, "start": self.serial + 1, "end": self.serial + count, "prefix": prefix}
        )
        self.serial += count


def generate(history: History, total: int) -> None:
    """`total` messages over the last 30 days, without triggers (the rollups are rebuilt after; the message-key
    tables stay empty, which no measured query reads)."""
    chunk, started = 250_000, time.perf_counter()
    history.conn.execute("ALTER TABLE messages DISABLE TRIGGER USER")
    try:
        for offset in range(0, total, chunk):
            history.add(min(chunk, total - offset), "now() - (random() * interval '30 days')", "B")
            done = offset + min(chunk, total - offset)
            print(f"  generated {done:>11,} messages ({done / (time.perf_counter() - started):,.0f}/s)", flush=True)
    finally:
        history.conn.execute("ALTER TABLE messages ENABLE TRIGGER USER")
    history.conn.execute("ANALYZE messages")


def old_views():
    """alembic 0019's OLD_VIEWS: the four materialized views the rollups replaced."""
    path = ROOT / "alembic" / "versions" / "0019_metric_rollups.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OLD_VIEWS


def old_refresh_seconds(conn) -> float:
    views = old_views()
    for _view, (mv, body, key) in views.items():
        conn.execute(f"CREATE MATERIALIZED VIEW {mv} AS {body} WITH NO DATA")
        conn.execute(f"CREATE UNIQUE INDEX uq_{mv} ON {mv} ({key})")
    started = time.perf_counter()
    for _view, (mv, _body, _key) in views.items():
        conn.execute(f"REFRESH MATERIALIZED VIEW {mv}")
    seconds = time.perf_counter() - started
    for _view, (mv, _body, _key) in views.items():
        conn.execute(f"DROP MATERIALIZED VIEW {mv}")
    return seconds


def ingest_us(history: History, with_rollups: bool) -> float:
    """Microseconds per message: single-row INSERTs of a warming message (sent by one number, received by another),
    in one transaction so the commit's fsync, the same either way, does not drown the difference."""
    a, b = history.numbers[0], history.numbers[1]
    row = (history.tenant, history.conversations[0], history.a_round, a, b)
    if not with_rollups:
        for name in ROLLUP_TRIGGERS:
            history.conn.execute(f"ALTER TABLE messages DISABLE TRIGGER {name}")
    try:
        started = time.perf_counter()
        with history.conn.transaction():
            for _ in range(INGEST_MESSAGES):
                history.conn.execute(
                    "INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, "
                    "direction, body, meta, status) VALUES (%s, %s, %s, %s, %s, 'out', 'oi', "
                    "'{\"reply_latency_s\": 30}', 'sent')",
                    row,
                    prepare=True,
                )
        return (time.perf_counter() - started) / INGEST_MESSAGES * 1e6
    finally:
        if not with_rollups:
            for name in ROLLUP_TRIGGERS:
                history.conn.execute(f"ALTER TABLE messages ENABLE TRIGGER {name}")


def _rows(s, sql: str, params: dict) -> list[tuple]:
    """A query's rows in a stable order, sums rounded (float addition order differs between the two sources)."""
    from sqlalchemy import text

    rows = s.execute(text(sql), params).all()
    return sorted(tuple(round(float(v), 6) if isinstance(v, float) else v for v in row) for row in rows)


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]


def chart_samples(tenant: uuid.UUID, history: History, runs: int, check: bool) -> list[float]:
    """Every chart query under three filters, `runs` times each: all samples (ms)."""
    from sqlalchemy import text

    from mirage_app.base.permissions import Actor
    from mirage_app.core.clock import system_clock
    from mirage_app.core.db import tenant_session
    from mirage_app.models import UserRole
    from mirage_app.services import metrics

    actor = Actor(tenant_id=tenant, role=UserRole.viewer, label="bench")
    variants = {
        "30 d": metrics.MetricsFilter(30),
        "7 d, one number": metrics.MetricsFilter(7, number_id=str(history.numbers[3])),
        "30 d, one conversation": metrics.MetricsFilter(30, conversation_id=str(history.conversations[1])),
    }
    samples: list[float] = []
    with tenant_session(tenant) as s:
        for label, flt in variants.items():
            tz, days = metrics.period_start(s, actor, flt, system_clock)
            since = days[0]
            for name in metrics.QUERIES:
                sql, params = metrics.chart_query(name, flt)
                params.update(metrics.fact_params(tz, system_clock.now()), since=since)
                if check and label == "7 d, one number":
                    scratch, _ = metrics.chart_query(name, flt, SCRATCH_FACTS, SCRATCH_TOPIC_FACTS)
                    since_ts = datetime.combine(since, datetime.min.time(), tz)
                    assert _rows(s, sql, params) == _rows(s, scratch, params | {"since_ts": since_ts}), name
                samples += timed(lambda sql=sql, params=params: s.execute(text(sql), params).all(), runs)
    return samples


def measure(size: int, runs: int, check: bool) -> dict[str, str]:
    import psycopg
    from sqlalchemy import text

    from mirage_app.core import migrate
    from mirage_app.core.db import tenant_session
    from mirage_app.services import metric_rollups
    from mirage_app.services.seed import create_tenant

    migrate.upgrade()
    tenant = create_tenant("Bench")
    dsn = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    out: dict[str, str] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        # The months the history spans, as the retention job keeps them made (alembic 0027).
        conn.execute("SELECT mirage_message_partitions_ensure(CAST(now() - interval '31 days' AS date), 3)")
        history = History(conn, tenant)
        print(f"[{size:,}] generating ...", flush=True)
        generate(history, size)
        started = time.perf_counter()
        metric_rollups.rebuild()
        out["full rebuild (mirage metrics rebuild)"] = f"{time.perf_counter() - started:.1f} s"
        out["old: full refresh of the 4 views"] = f"{old_refresh_seconds(conn):.1f} s"
        conn.execute("ANALYZE message_rollups")

        recent = "now() - (random() * interval '2 hours')"
        history.add(PENDING_MESSAGES, recent, "P")  # what a reader sees between two steps (a busy minute)
        with_pending = chart_samples(tenant, history, runs, check)
        metric_rollups.advance()
        steps = []
        for _ in range(5):
            history.add(STEP_MESSAGES, recent, "S")
            with tenant_session(tenant) as s:
                pending = s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar()
            started = time.perf_counter()
            moved = metric_rollups.advance()
            steps.append((time.perf_counter() - started) * 1000)
            assert moved == pending, (moved, pending)
        out[f"rollup step after {STEP_MESSAGES:,} new messages"] = (
            f"{statistics.median(steps):.0f} ms ({pending // 1000}k ch.)"
        )
        conn.execute("VACUUM message_fact_changes")  # what autovacuum does within a minute (alembic 0019)
        settled = chart_samples(tenant, history, runs, check)
        out["chart p50 / p95, none pending"] = f"{statistics.median(settled):.1f} / {p95(settled):.1f} ms"
        out[f"chart p50 / p95, {PENDING_MESSAGES:,} msgs pending"] = (
            f"{statistics.median(with_pending):.1f} / {p95(with_pending):.1f} ms"
        )
        out["ingest per message, without rollups"] = f"{ingest_us(history, with_rollups=False):.0f} µs"
        out["ingest per message, with rollup triggers"] = f"{ingest_us(history, with_rollups=True):.0f} µs"
        out["_step_ms"] = str(statistics.median(steps))
        out["_p95"] = str(max(p95(with_pending), p95(settled)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000000,20000000", help="history sizes in messages, comma-separated")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per chart query and filter")
    parser.add_argument("--no-check", action="store_true", help="skip the equality check against `messages`")
    args = parser.parse_args()
    sizes = [int(v) for v in args.sizes.split(",")]

    from mirage_app.core.config import reset_settings_cache
    from mirage_app.core.db import reset_engines

    os.environ.setdefault("MIRAGE_SECRET_KEY", "bench-secret")
    given = os.environ.get("DATABASE_URL")
    if given and len(sizes) > 1:
        parser.error("with DATABASE_URL, one size per run (each size needs a fresh database)")
    results = {}
    for size in sizes:
        # Under the project's git-ignored data folder rather than /tmp, which other tools may clean mid-run.
        workdir = ROOT / ".mirage" / "bench" / f"metrics-{os.getpid()}-{size}"
        workdir.mkdir(parents=True, exist_ok=True)
        pg = None
        if not given:
            from mirage_app.core.embedded import EmbeddedPostgres

            pg = EmbeddedPostgres(workdir / "pg").start()
            os.environ["DATABASE_URL"] = pg.admin_url()
        reset_settings_cache()
        reset_engines()
        try:
            results[size] = measure(size, args.runs, not args.no_check)
            print(f"[{size:,}] {results[size]}", flush=True)  # kept in the log should a later size fail
        finally:
            reset_engines()
            if pg is not None:
                pg.stop()
            shutil.rmtree(workdir, ignore_errors=True)

    labels = [k for k in next(iter(results.values())) if not k.startswith("_")]
    width = max(len(k) for k in labels) + 2
    print("\n" + "".join([f"{'':<{width}}"] + [f"{f'{size:,} msgs':>18}" for size in sizes]))
    for label in labels:
        print("".join([f"{label:<{width}}"] + [f"{results[size][label]:>18}" for size in sizes]))
    steps = [float(results[size]["_step_ms"]) for size in sizes]
    worst = float(results[sizes[-1]]["_p95"])
    ratio = max(steps) / min(steps)
    print(f"\nrollup step, largest / smallest size: {ratio:.2f} (goal <= 1.3: {'met' if ratio <= 1.3 else 'MISSED'})")
    print(f"worst chart p95 at {sizes[-1]:,}: {worst:.1f} ms (goal < 50 ms: {'met' if worst < 50 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
