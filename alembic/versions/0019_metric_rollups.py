"""Incremental metric rollups (issue 17) in place of the materialized views refreshed whole every 5 minutes.

- `mirage_message_facts(<a message's columns>)`: the one definition of what a message counts for. A message that left one of
  the tenant's numbers is *sent* for it (or a failure), one that reached one of its numbers (from a contact, or a
  warming message from another of its numbers) is *received* for it; queued messages count nowhere.
- `message_fact_changes` (no foreign key: a tenant's deletion cascades to its messages, whose last changes the
  next step drops): the signed fact rows of every change to `messages` (insert, status change, delete),
  written by the `messages_facts_*` triggers in the writer's own transaction. Updates that change no fact (most
  status webhooks: sent -> delivered -> read) and queued rows write nothing.
- `message_rollups`: the facts summed per tenant, tenant-local day and hour, number, conversation, direction and
  topic. `mirage_advance_metric_rollups(limit)` moves the oldest changes into it (one statement, so a change is
  applied exactly once): a step costs in proportion to the changes since the last one, not to the history.
  Readers add the changes still pending (services/metrics.FACTS), so every figure is current.
- `mirage_rebuild_metric_rollups(tenant, since)`: the rollups recomputed from `messages` (repairs, a new time zone),
  called under REPEATABLE READ (services/metric_rollups.rebuild) so the changes it discards are exactly those its
  snapshot of `messages` already holds (a step committed meanwhile makes it fail to serialise: the service retries).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
NONE = "'00000000-0000-0000-0000-000000000000'::uuid"
LEFT = "('sent', 'server_ack', 'delivered', 'read')"
NEW_TABLES = ("message_rollups", "message_fact_changes")
FACT_COLUMNS = (
    "tenant_id, at, number_id, conversation_id, direction, topic_id, messages, failed, latency_sum, latency_n"
)
KEY = "tenant_id, day, hour, number_id, conversation_id, direction, topic_id"

# Plain SQL with no SET clause, so the planner inlines it into the rebuild's scan of `messages`. It takes the
# columns, not a `messages` row, so it outlives a rebuilt `messages` table (e.g. a partitioned one).
FACT_ARGS = "tenant_id, created_at, direction, status, from_number_id, to_number_id, conversation_id, round_id, meta"
MESSAGE_FACTS = f"""
CREATE FUNCTION mirage_message_facts(p_tenant uuid, p_at timestamptz, p_direction msg_direction,
                                     p_status message_status, p_from uuid, p_to uuid, p_conversation uuid,
                                     p_round uuid, p_meta jsonb)
RETURNS TABLE(tenant_id uuid, at timestamptz, number_id uuid, conversation_id uuid, direction text, topic_id uuid,
              messages integer, failed integer, latency_sum double precision, latency_n integer)
LANGUAGE sql STABLE AS $$
  SELECT p_tenant, p_at, COALESCE(p_from, {NONE}), COALESCE(p_conversation, {NONE}), 'out',
         COALESCE(CASE WHEN p_status <> 'failed' THEN (SELECT r.topic_id FROM public.rounds r WHERE r.id = p_round)
                  END, {NONE}),
         (p_status <> 'failed')::int, (p_status = 'failed')::int,
         COALESCE((p_meta->>'reply_latency_s')::float, 0), ((p_meta->>'reply_latency_s') IS NOT NULL)::int
  WHERE p_direction = 'out' AND p_status <> 'queued'
  UNION ALL
  SELECT p_tenant, p_at, p_to, COALESCE(p_conversation, {NONE}), 'in', {NONE}, 1, 0, 0, 0
  WHERE p_to IS NOT NULL AND p_status IN {LEFT}
$$
"""
FACTS_SIGNATURE = (
    "mirage_message_facts(uuid, timestamptz, msg_direction, message_status, uuid, uuid, uuid, uuid, jsonb)"
)


def _facts_of(row: str) -> str:
    return "mirage_message_facts(" + ", ".join(f"{row}.{arg}" for arg in FACT_ARGS.split(", ")) + ")"


# Definer: the change log is written whoever changes a message (a tenant session, a cascade run by the owner).
RECORD_CHANGE = f"""
CREATE FUNCTION mirage_record_message_facts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.tenant_id = NEW.tenant_id AND OLD.created_at = NEW.created_at
     AND OLD.direction = NEW.direction AND OLD.round_id IS NOT DISTINCT FROM NEW.round_id
     AND OLD.from_number_id IS NOT DISTINCT FROM NEW.from_number_id
     AND OLD.to_number_id IS NOT DISTINCT FROM NEW.to_number_id
     AND OLD.conversation_id IS NOT DISTINCT FROM NEW.conversation_id
     AND OLD.meta->'reply_latency_s' IS NOT DISTINCT FROM NEW.meta->'reply_latency_s'
     AND (OLD.status = NEW.status OR (OLD.status IN {LEFT} AND NEW.status IN {LEFT})) THEN
    RETURN NULL;  -- e.g. delivered -> read: counts the same
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO message_fact_changes ({FACT_COLUMNS})
    SELECT f.tenant_id, f.at, f.number_id, f.conversation_id, f.direction, f.topic_id,
           -f.messages, -f.failed, -f.latency_sum, -f.latency_n
    FROM {_facts_of('OLD')} f;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO message_fact_changes ({FACT_COLUMNS}) SELECT * FROM {_facts_of('NEW')};
  END IF;
  RETURN NULL;
END $$
"""

FACT_FIELDS = (
    "OLD.status, OLD.created_at, OLD.direction, OLD.round_id, OLD.from_number_id, OLD.to_number_id, "
    "OLD.conversation_id, OLD.tenant_id, OLD.meta->'reply_latency_s'"
)
TRIGGERS = {
    # Queued rows count nowhere: the send pipeline's inserts cost nothing here.
    "messages_facts_insert": "AFTER INSERT ON messages FOR EACH ROW WHEN (NEW.status <> 'queued')",
    "messages_facts_update": (
        f"AFTER UPDATE ON messages FOR EACH ROW WHEN (({FACT_FIELDS}) IS DISTINCT FROM "
        f"({FACT_FIELDS.replace('OLD.', 'NEW.')}))"
    ),
    "messages_facts_delete": "AFTER DELETE ON messages FOR EACH ROW WHEN (OLD.status <> 'queued')",
}

# Local day and hour of a change, in its tenant's time zone (`c` a change, `t` its tenant).
LOCAL = "(c.at AT TIME ZONE t.timezone)"
ADVANCE = f"""
CREATE FUNCTION mirage_advance_metric_rollups(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE moved integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('mirage_metric_rollups'));
  WITH taken AS (
    DELETE FROM message_fact_changes WHERE id IN (SELECT id FROM message_fact_changes ORDER BY id LIMIT p_limit)
    RETURNING *
  ), summed AS (
    SELECT c.tenant_id, {LOCAL}::date AS day, extract(hour FROM {LOCAL})::int AS hour, c.number_id,
           c.conversation_id, c.direction, c.topic_id, sum(c.messages) AS messages, sum(c.failed) AS failed,
           sum(c.latency_sum) AS latency_sum, sum(c.latency_n) AS latency_n, count(*) AS n
    FROM taken c JOIN tenants t ON t.id = c.tenant_id GROUP BY 1, 2, 3, 4, 5, 6, 7
  ), applied AS (
    INSERT INTO message_rollups AS r ({KEY}, messages, failed, latency_sum, latency_n)
    SELECT {KEY}, messages, failed, latency_sum, latency_n FROM summed
    ON CONFLICT ({KEY}) DO UPDATE SET messages = r.messages + EXCLUDED.messages,
      failed = r.failed + EXCLUDED.failed, latency_n = r.latency_n + EXCLUDED.latency_n,
      latency_sum = CASE WHEN r.latency_n + EXCLUDED.latency_n = 0 THEN 0
                         ELSE r.latency_sum + EXCLUDED.latency_sum END
  )
  SELECT COALESCE(sum(n), 0) INTO moved FROM summed;
  -- A bucket whose messages all went (deleted, or moved to another number) goes too; the partial index keeps
  -- this to the few such rows.
  DELETE FROM message_rollups WHERE messages = 0 AND failed = 0;
  RETURN moved;
END $$
"""

REBUILD = f"""
CREATE FUNCTION mirage_rebuild_metric_rollups(p_tenant uuid, p_since date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE written integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('mirage_metric_rollups'));
  DELETE FROM message_fact_changes c USING tenants t
  WHERE t.id = c.tenant_id AND (p_tenant IS NULL OR c.tenant_id = p_tenant)
    AND (p_since IS NULL OR {LOCAL}::date >= p_since);
  DELETE FROM message_rollups r
  WHERE (p_tenant IS NULL OR r.tenant_id = p_tenant) AND (p_since IS NULL OR r.day >= p_since);
  INSERT INTO message_rollups ({KEY}, messages, failed, latency_sum, latency_n)
  SELECT c.tenant_id, {LOCAL}::date, extract(hour FROM {LOCAL})::int, c.number_id, c.conversation_id,
         c.direction, c.topic_id, sum(c.messages), sum(c.failed), sum(c.latency_sum), sum(c.latency_n)
  FROM messages m JOIN tenants t ON t.id = m.tenant_id CROSS JOIN LATERAL {_facts_of('m')} c
  WHERE (p_tenant IS NULL OR m.tenant_id = p_tenant)
    AND (p_since IS NULL OR m.created_at >= (p_since::timestamp AT TIME ZONE t.timezone))
  GROUP BY 1, 2, 3, 4, 5, 6, 7;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$
"""
FUNCTIONS = ("mirage_advance_metric_rollups(integer)", "mirage_rebuild_metric_rollups(uuid, date)")

# What 0002, 0005 and 0009 left, restored by the downgrade.
OLD_FACT_ROWS = f"""
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
OLD_VIEWS = {
    "stats_messages": (
        "mv_stats_messages",
        """SELECT m.tenant_id, (m.created_at AT TIME ZONE t.timezone)::date AS date, m.direction,
                  count(*) AS message_count, count(DISTINCT m.from_number_id) AS unique_senders
           FROM messages m JOIN tenants t ON t.id = m.tenant_id
           WHERE m.created_at >= now() - interval '31 days' GROUP BY m.tenant_id, 2, m.direction""",
        "tenant_id, date, direction",
    ),
    "number_stats": (
        "mv_number_stats",
        """SELECT x.tenant_id, x.number_id, x.day,
                  count(*) FILTER (WHERE x.kind = 'sent') AS sent,
                  count(*) FILTER (WHERE x.kind = 'received') AS received,
                  count(*) FILTER (WHERE x.kind = 'sent' AND x.status = 'failed') AS failed,
                  avg(x.latency_s) FILTER (WHERE x.kind = 'sent') AS avg_reply_latency_s
           FROM (
             SELECT m.tenant_id, m.from_number_id AS number_id, (m.created_at AT TIME ZONE t.timezone)::date AS day,
                    'sent' AS kind, m.status::text AS status, (m.meta->>'reply_latency_s')::float AS latency_s
             FROM messages m JOIN tenants t ON t.id = m.tenant_id
             WHERE m.from_number_id IS NOT NULL AND m.created_at >= now() - interval '31 days'
             UNION ALL
             SELECT m.tenant_id, m.to_number_id, (m.created_at AT TIME ZONE t.timezone)::date, 'received',
                    m.status::text, NULL
             FROM messages m JOIN tenants t ON t.id = m.tenant_id
             WHERE m.to_number_id IS NOT NULL AND m.created_at >= now() - interval '31 days'
           ) x GROUP BY x.tenant_id, x.number_id, x.day""",
        "tenant_id, number_id, day",
    ),
    "message_facts": (
        "mv_message_facts",
        f"""SELECT f.tenant_id, f.local_at::date AS day, extract(hour FROM f.local_at)::int AS hour, f.number_id,
                   f.conversation_id, f.direction, count(*) FILTER (WHERE NOT f.failed) AS messages,
                   count(*) FILTER (WHERE f.failed) AS failed, COALESCE(sum(f.latency), 0) AS latency_sum,
                   count(f.latency) AS latency_n
            FROM ({OLD_FACT_ROWS}) f GROUP BY 1, 2, 3, 4, 5, 6""",
        "tenant_id, day, hour, number_id, conversation_id, direction",
    ),
    "topic_facts": (
        "mv_topic_facts",
        f"""SELECT f.tenant_id, f.local_at::date AS day, f.number_id, f.conversation_id, r.topic_id,
                   count(*) AS messages
            FROM ({OLD_FACT_ROWS}) f JOIN rounds r ON r.id = f.round_id
            WHERE f.direction = 'out' AND NOT f.failed AND r.topic_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5""",
        "tenant_id, day, number_id, conversation_id, topic_id",
    ),
}
OLD_REFRESH = """
CREATE FUNCTION mirage_refresh_stats(concurrent boolean DEFAULT true) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE mv text;
BEGIN
  FOREACH mv IN ARRAY ARRAY['mv_stats_messages', 'mv_number_stats', 'mv_message_facts', 'mv_topic_facts'] LOOP
    IF concurrent THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', mv);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I', mv);
    END IF;
  END LOOP;
END $$
"""


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE message_rollups (
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          day date NOT NULL,
          hour smallint NOT NULL,
          number_id uuid NOT NULL,
          conversation_id uuid NOT NULL,
          direction varchar(3) NOT NULL,
          topic_id uuid NOT NULL,
          messages integer NOT NULL,
          failed integer NOT NULL,
          latency_sum double precision NOT NULL,
          latency_n integer NOT NULL,
          PRIMARY KEY ({KEY})
        )
        """
    )
    op.execute("CREATE INDEX ix_message_rollups_empty ON message_rollups (tenant_id) WHERE messages = 0 AND failed = 0")
    op.execute(
        """
        CREATE TABLE message_fact_changes (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          tenant_id uuid NOT NULL,
          at timestamptz NOT NULL,
          number_id uuid NOT NULL,
          conversation_id uuid NOT NULL,
          direction varchar(3) NOT NULL,
          topic_id uuid NOT NULL,
          messages integer NOT NULL,
          failed integer NOT NULL,
          latency_sum double precision NOT NULL,
          latency_n integer NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_message_fact_changes_tenant_id ON message_fact_changes (tenant_id)")
    # A queue: every step deletes what it took, and readers scan what is left, dead rows included until a vacuum.
    op.execute(
        "ALTER TABLE message_fact_changes SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000)"
    )
    for table in NEW_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        # Read only: the triggers and the definer functions write them.
        op.execute(f"GRANT SELECT ON {table} TO {APP_ROLE}")

    op.execute(MESSAGE_FACTS)
    op.execute(RECORD_CHANGE)
    op.execute("REVOKE ALL ON FUNCTION mirage_record_message_facts() FROM PUBLIC")
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION mirage_record_message_facts()")
    op.execute(ADVANCE)
    op.execute(REBUILD)
    for signature in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    op.execute("SELECT mirage_rebuild_metric_rollups(NULL, NULL)")

    op.execute("DROP FUNCTION IF EXISTS mirage_refresh_stats(boolean)")
    for view, (mv, _body, _key) in OLD_VIEWS.items():
        op.execute(f"DROP VIEW IF EXISTS {view}")
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {mv}")


def downgrade() -> None:
    for view, (mv, body, key) in OLD_VIEWS.items():
        op.execute(f"CREATE MATERIALIZED VIEW {mv} AS {body}")
        op.execute(f"CREATE UNIQUE INDEX uq_{mv} ON {mv} ({key})")
        op.execute(
            f"CREATE VIEW {view} WITH (security_barrier) AS SELECT * FROM {mv} WHERE tenant_id = {CURRENT_TENANT}"
        )
        op.execute(f"REVOKE ALL ON {mv} FROM PUBLIC")
        op.execute(f"GRANT SELECT ON {view} TO {APP_ROLE}")
    op.execute("CREATE INDEX ix_mv_number_stats_tenant_day ON mv_number_stats (tenant_id, day)")
    op.execute(OLD_REFRESH)
    op.execute("REVOKE ALL ON FUNCTION mirage_refresh_stats(boolean) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION mirage_refresh_stats(boolean) TO {APP_ROLE}")

    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON messages")
    op.execute("DROP FUNCTION IF EXISTS mirage_record_message_facts()")
    op.execute(f"DROP FUNCTION IF EXISTS {FACTS_SIGNATURE}")
    for table in NEW_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
