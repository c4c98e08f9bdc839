"""Why things wait, and one definition of "sent" and "received" for every total.

- `messages.wait_reason` / `messages.wait_until`: why a queued message has not gone out yet and until when, written
  by the send pipeline in the same UPDATE that defers it (engine/sending.py).
- `outreach_policies.wait_reason` / `wait_until` / `wait_checked_at`: why the policy's last tick sent no opener, so
  each waiting target can say why (engine/outreach_scheduler.py).
- `mv_message_facts` / `mv_topic_facts` redefined: a message that left one of the tenant's numbers is *sent* for
  that number; a message that reached one of the tenant's numbers (from a contact, or from another of its numbers)
  is *received* for it. Queued messages count nowhere; failed sends only as failures. The same rows are computed
  live for today by services/metrics.LIVE_ROWS (keep the two in step: tests/services/test_metrics_totals.py).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NONE = "'00000000-0000-0000-0000-000000000000'::uuid"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
LEFT = "('sent', 'server_ack', 'delivered', 'read')"

FACT_ROWS = f"""
SELECT m.tenant_id, m.created_at AT TIME ZONE t.timezone AS local_at, COALESCE(m.from_number_id, {NONE}) AS number_id,
       COALESCE(m.conversation_id, {NONE}) AS conversation_id, m.round_id, 'out' AS direction,
       m.status = 'failed' AS failed, (m.meta->>'reply_latency_s')::float AS latency
FROM messages m JOIN tenants t ON t.id = m.tenant_id
WHERE m.direction = 'out' AND m.status <> 'queued' AND m.created_at >= now() - interval '92 days'
UNION ALL
SELECT m.tenant_id, m.created_at AT TIME ZONE t.timezone, m.to_number_id, COALESCE(m.conversation_id, {NONE}),
       m.round_id, 'in', false, NULL
FROM messages m JOIN tenants t ON t.id = m.tenant_id
WHERE m.to_number_id IS NOT NULL AND m.status IN {LEFT} AND m.created_at >= now() - interval '92 days'
"""

MV_MESSAGE_FACTS = f"""
CREATE MATERIALIZED VIEW mv_message_facts AS
SELECT f.tenant_id, f.local_at::date AS day, extract(hour FROM f.local_at)::int AS hour, f.number_id,
       f.conversation_id, f.direction,
       count(*) FILTER (WHERE NOT f.failed) AS messages,
       count(*) FILTER (WHERE f.failed) AS failed,
       COALESCE(sum(f.latency), 0) AS latency_sum,
       count(f.latency) AS latency_n
FROM ({FACT_ROWS}) f
GROUP BY 1, 2, 3, 4, 5, 6
"""

MV_TOPIC_FACTS = f"""
CREATE MATERIALIZED VIEW mv_topic_facts AS
SELECT f.tenant_id, f.local_at::date AS day, f.number_id, f.conversation_id, r.topic_id, count(*) AS messages
FROM ({FACT_ROWS}) f
JOIN rounds r ON r.id = f.round_id
WHERE f.direction = 'out' AND NOT f.failed AND r.topic_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
"""

OLD_MESSAGE_FACTS = f"""
CREATE MATERIALIZED VIEW mv_message_facts AS
SELECT m.tenant_id,
       (m.created_at AT TIME ZONE t.timezone)::date AS day,
       extract(hour FROM m.created_at AT TIME ZONE t.timezone)::int AS hour,
       COALESCE(CASE WHEN m.direction = 'out' THEN m.from_number_id ELSE m.to_number_id END, {NONE}) AS number_id,
       COALESCE(m.conversation_id, {NONE}) AS conversation_id,
       m.direction::text AS direction,
       count(*) AS messages,
       count(*) FILTER (WHERE m.status = 'failed') AS failed,
       COALESCE(sum((m.meta->>'reply_latency_s')::float), 0) AS latency_sum,
       count(m.meta->>'reply_latency_s') AS latency_n
FROM messages m
JOIN tenants t ON t.id = m.tenant_id
WHERE m.created_at >= now() - interval '92 days'
GROUP BY 1, 2, 3, 4, 5, 6
"""

OLD_TOPIC_FACTS = f"""
CREATE MATERIALIZED VIEW mv_topic_facts AS
SELECT m.tenant_id,
       (m.created_at AT TIME ZONE t.timezone)::date AS day,
       COALESCE(CASE WHEN m.direction = 'out' THEN m.from_number_id ELSE m.to_number_id END, {NONE}) AS number_id,
       COALESCE(m.conversation_id, {NONE}) AS conversation_id,
       r.topic_id,
       count(*) AS messages
FROM messages m
JOIN tenants t ON t.id = m.tenant_id
JOIN rounds r ON r.id = m.round_id
WHERE m.created_at >= now() - interval '92 days' AND r.topic_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
"""

FACT_VIEWS = {
    "message_facts": ("mv_message_facts", "tenant_id, day, hour, number_id, conversation_id, direction"),
    "topic_facts": ("mv_topic_facts", "tenant_id, day, number_id, conversation_id, topic_id"),
}


def _replace_facts(message_facts: str, topic_facts: str) -> None:
    for view, (mv, _key) in FACT_VIEWS.items():
        op.execute(f"DROP VIEW IF EXISTS {view}")
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {mv}")
    op.execute(message_facts)
    op.execute(topic_facts)
    for view, (mv, key) in FACT_VIEWS.items():
        op.execute(f"CREATE UNIQUE INDEX uq_{mv} ON {mv} ({key})")
        op.execute(
            f"CREATE VIEW {view} WITH (security_barrier) AS SELECT * FROM {mv} WHERE tenant_id = {CURRENT_TENANT}"
        )
        op.execute(f"REVOKE ALL ON {mv} FROM PUBLIC")
        op.execute(f"GRANT SELECT ON {view} TO mirage_app")


def upgrade() -> None:
    op.execute("ALTER TABLE messages ADD COLUMN wait_reason varchar(60), ADD COLUMN wait_until timestamptz")
    op.execute(
        "ALTER TABLE outreach_policies ADD COLUMN wait_reason varchar(60), ADD COLUMN wait_until timestamptz, "
        "ADD COLUMN wait_checked_at timestamptz"
    )
    _replace_facts(MV_MESSAGE_FACTS, MV_TOPIC_FACTS)


def downgrade() -> None:
    _replace_facts(OLD_MESSAGE_FACTS, OLD_TOPIC_FACTS)
    op.execute(
        "ALTER TABLE outreach_policies DROP COLUMN wait_reason, DROP COLUMN wait_until, DROP COLUMN wait_checked_at"
    )
    op.execute("ALTER TABLE messages DROP COLUMN wait_reason, DROP COLUMN wait_until")
