"""Metrics facts: two small materialized views the /metrics charts read (through tenant-filtered views)
instead of scanning `messages`:
- mv_message_facts: messages per tenant-local day and hour, number, conversation and direction, with failures
  and reply latency (per-day, per-number, latency and heatmap charts);
- mv_topic_facts: messages per day, number, conversation and topic (topic ranking).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NONE = "'00000000-0000-0000-0000-000000000000'::uuid"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

MV_MESSAGE_FACTS = f"""
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

MV_TOPIC_FACTS = f"""
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

REFRESH = """
CREATE OR REPLACE FUNCTION mirage_refresh_stats(concurrent boolean DEFAULT true) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE mv text;
BEGIN
  FOREACH mv IN ARRAY ARRAY[{views}] LOOP
    IF concurrent THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', mv);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I', mv);
    END IF;
  END LOOP;
END $$
"""


FACT_VIEWS = {
    "message_facts": ("mv_message_facts", "tenant_id, day, hour, number_id, conversation_id, direction"),
    "topic_facts": ("mv_topic_facts", "tenant_id, day, number_id, conversation_id, topic_id"),
}
BASE_VIEWS = "'mv_stats_messages', 'mv_number_stats'"


def upgrade() -> None:
    op.execute(MV_MESSAGE_FACTS)
    op.execute(MV_TOPIC_FACTS)
    for view, (mv, key) in FACT_VIEWS.items():
        op.execute(f"CREATE UNIQUE INDEX uq_{mv} ON {mv} ({key})")
        op.execute(
            f"CREATE VIEW {view} WITH (security_barrier) AS SELECT * FROM {mv} WHERE tenant_id = {CURRENT_TENANT}"
        )
        op.execute(f"REVOKE ALL ON {mv} FROM PUBLIC")
        op.execute(f"GRANT SELECT ON {view} TO mirage_app")
    op.execute(REFRESH.format(views=f"{BASE_VIEWS}, 'mv_message_facts', 'mv_topic_facts'"))


def downgrade() -> None:
    op.execute(REFRESH.format(views=BASE_VIEWS))
    for view, (mv, _key) in FACT_VIEWS.items():
        op.execute(f"DROP VIEW IF EXISTS {view}")
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {mv}")
