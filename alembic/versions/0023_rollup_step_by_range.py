"""Rollup steps by id range; the rebuild for the owner only (issue 17).

- `mirage_advance_metric_rollups(limit)`: the changes a step takes are found once (the id of the `limit`-th oldest)
  and deleted by one range scan of the primary key, in place of `id IN (<the oldest ids>)`, which probed the
  index once per change (hashing the ids first) and read each change twice.
- `mirage_rebuild_metric_rollups`: no longer executable by the application role; it rewrites every tenant's rollups
  in one call, so only the owner's connection runs it (`mirage metrics rebuild`, the time-zone job).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
REBUILD = "mirage_rebuild_metric_rollups(uuid, date)"


def _rollups_0019():
    path = Path(__file__).with_name("0019_metric_rollups.py")
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _advance(m) -> str:
    return f"""
CREATE OR REPLACE FUNCTION mirage_advance_metric_rollups(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE moved integer; last_id bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('mirage_metric_rollups'));
  SELECT max(s.id) INTO last_id FROM (SELECT id FROM message_fact_changes ORDER BY id LIMIT p_limit) s;
  IF last_id IS NULL THEN
    RETURN 0;
  END IF;
  -- A change committed since (with a lower id) is taken too: it is deleted and applied by this same statement.
  WITH taken AS (
    DELETE FROM message_fact_changes WHERE id <= last_id RETURNING *
  ), summed AS (
    SELECT c.tenant_id, {m.LOCAL}::date AS day, extract(hour FROM {m.LOCAL})::int AS hour, c.number_id,
           c.conversation_id, c.direction, c.topic_id, sum(c.messages) AS messages, sum(c.failed) AS failed,
           sum(c.latency_sum) AS latency_sum, sum(c.latency_n) AS latency_n, count(*) AS n
    FROM taken c JOIN tenants t ON t.id = c.tenant_id GROUP BY 1, 2, 3, 4, 5, 6, 7
  ), applied AS (
    INSERT INTO message_rollups AS r ({m.KEY}, messages, failed, latency_sum, latency_n)
    SELECT {m.KEY}, messages, failed, latency_sum, latency_n FROM summed
    ON CONFLICT ({m.KEY}) DO UPDATE SET messages = r.messages + EXCLUDED.messages,
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


def upgrade() -> None:
    op.execute(_advance(_rollups_0019()))
    op.execute(f"REVOKE EXECUTE ON FUNCTION {REBUILD} FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT EXECUTE ON FUNCTION {REBUILD} TO {APP_ROLE}")
    op.execute(_rollups_0019().ADVANCE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
