"""Metrics facts: messages per tenant-local day and hour, number, conversation, topic and direction.

Every chart of /metrics (with its number / conversation / period filters) reads this one small materialized
view through a tenant-filtered view, instead of scanning `messages`.

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
       COALESCE(r.topic_id, {NONE}) AS topic_id,
       m.direction::text AS direction,
       count(*) AS messages,
       count(*) FILTER (WHERE m.status = 'failed') AS failed,
       COALESCE(sum((m.meta->>'reply_latency_s')::float), 0) AS latency_sum,
       count(m.meta->>'reply_latency_s') AS latency_n
FROM messages m
JOIN tenants t ON t.id = m.tenant_id
LEFT JOIN rounds r ON r.id = m.round_id
WHERE m.created_at >= now() - interval '92 days'
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def upgrade() -> None:
    op.execute(MV_MESSAGE_FACTS)
    op.execute(
        "CREATE UNIQUE INDEX uq_mv_message_facts ON mv_message_facts "
        "(tenant_id, day, hour, number_id, conversation_id, topic_id, direction)"
    )
    op.execute(
        f"CREATE VIEW message_facts WITH (security_barrier) AS "
        f"SELECT * FROM mv_message_facts WHERE tenant_id = {CURRENT_TENANT}"
    )
    op.execute("REVOKE ALL ON mv_message_facts FROM PUBLIC")
    op.execute("GRANT SELECT ON message_facts TO mirage_app")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION mirage_refresh_stats(concurrent boolean DEFAULT true) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          IF concurrent THEN
            REFRESH MATERIALIZED VIEW CONCURRENTLY mv_stats_messages;
            REFRESH MATERIALIZED VIEW CONCURRENTLY mv_number_stats;
            REFRESH MATERIALIZED VIEW CONCURRENTLY mv_message_facts;
          ELSE
            REFRESH MATERIALIZED VIEW mv_stats_messages;
            REFRESH MATERIALIZED VIEW mv_number_stats;
            REFRESH MATERIALIZED VIEW mv_message_facts;
          END IF;
        END $$
        """
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION mirage_refresh_stats(concurrent boolean DEFAULT true) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          IF concurrent THEN
            REFRESH MATERIALIZED VIEW CONCURRENTLY mv_stats_messages;
            REFRESH MATERIALIZED VIEW CONCURRENTLY mv_number_stats;
          ELSE
            REFRESH MATERIALIZED VIEW mv_stats_messages;
            REFRESH MATERIALIZED VIEW mv_number_stats;
          END IF;
        END $$
        """
    )
    op.execute("DROP VIEW IF EXISTS message_facts")
    op.execute("DROP MATERIALIZED VIEW IF EXISTS mv_message_facts")
