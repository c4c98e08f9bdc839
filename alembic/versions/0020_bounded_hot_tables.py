"""Bounded hot tables (issue 17): `webhook_events` partitioned by day, per-tenant retention of payloads and bodies.

- `webhook_events` becomes a table partitioned by RANGE (received_at), one partition per UTC day, in the schema
  `mirage_partitions` (the application role has no USAGE on it: partitions are reached only through the parent,
  whose forced row-level security applies; each partition carries the same policy as well). Rows older than today
  move to one catch-all partition `webhook_events_upto_<today>`; today and the next days get their own partitions;
  a DEFAULT partition takes whatever no partition covers, so no insert ever fails. The primary key becomes
  (id, received_at), as a partitioned table's unique constraints must hold the partition key.
- `webhook_dedupe_keys`: (tenant_id, dedupe_key) -> received_at, the de-duplication of byte-identical redeliveries
  that the unique constraint `uq_webhook_events_dedupe` did before; not partitioned, so a retry is recognised
  across a partition boundary; kept for a bounded time (engine.retention prunes it).
- `settings_tenant.webhook_retention_days` / `body_retention_days`: how long a tenant keeps raw webhook payloads
  and message bodies; `bodies_expired_before` is how far the body expiry has gone (its watermark).
- `mirage_webhook_partitions_ensure(p_from, p_days)`: creates the missing daily partitions (moving any rows the
  DEFAULT partition took for those days first); `mirage_webhook_partitions_drop(p_now)`: drops the daily
  partitions every tenant's retention has passed (computed here, so the application role cannot drop younger
  ones). Both SECURITY DEFINER (only the owner may run DDL), with a short lock timeout: a partition that cannot be
  locked at once (DROP locks the parent, and ingestion would queue behind it) is left to the next run.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
PARTS = "mirage_partitions"
# The longest payload retention a tenant may choose (logic.retention.WEBHOOK_DAYS_MAX); used when no tenant exists.
WEBHOOK_DAYS_MAX = 90
WEBHOOK_DAYS_DEFAULT = 30
BODY_DAYS_DEFAULT = 365

QUOTED_TENANT = CURRENT_TENANT.replace("'", "''")  # inside a string literal of the function body
PROTECT = f"""
    EXECUTE format('ALTER TABLE {PARTS}.%I ENABLE ROW LEVEL SECURITY', p_name);
    EXECUTE format('ALTER TABLE {PARTS}.%I FORCE ROW LEVEL SECURITY', p_name);
    EXECUTE format('CREATE POLICY tenant_isolation ON {PARTS}.%I USING (tenant_id = {QUOTED_TENANT}) '
                   'WITH CHECK (tenant_id = {QUOTED_TENANT})', p_name);
"""

FUNCTIONS = {
    "mirage_webhook_partition_protect(p_name text)": (
        "void",
        f"BEGIN {PROTECT} END",
    ),
    "mirage_webhook_partitions_ensure(p_from date, p_days integer)": (
        "integer",
        f"""
        DECLARE
          d date; part text; lo timestamptz; hi timestamptz; made integer := 0;
        BEGIN
          FOR i IN 0 .. LEAST(p_days, 31) - 1 LOOP
            d := p_from + i;
            part := 'webhook_events_p' || to_char(d, 'YYYYMMDD');
            CONTINUE WHEN to_regclass('{PARTS}.' || part) IS NOT NULL;
            lo := d::timestamp AT TIME ZONE 'UTC';
            hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
            BEGIN
              -- CREATE + ATTACH rather than CREATE ... PARTITION OF: ATTACH does not lock out readers and writers.
              EXECUTE format('CREATE TABLE {PARTS}.%I (LIKE public.webhook_events INCLUDING DEFAULTS)', part);
              EXECUTE format('WITH moved AS (DELETE FROM {PARTS}.webhook_events_default WHERE received_at >= %L '
                             'AND received_at < %L RETURNING *) INSERT INTO {PARTS}.%I SELECT * FROM moved',
                             lo, hi, part);
              EXECUTE format('ALTER TABLE public.webhook_events ATTACH PARTITION {PARTS}.%I '
                             'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
              PERFORM mirage_webhook_partition_protect(part);
              made := made + 1;
            EXCEPTION
              WHEN invalid_object_definition THEN
                NULL;  -- the day lies inside an existing partition (the catch-all of older days): nothing to add
              WHEN lock_not_available THEN
                NULL;  -- busy: the next run makes it (the job runs well ahead of the day)
            END;
          END LOOP;
          RETURN made;
        END
        """,
    ),
    "mirage_webhook_partitions_drop(p_now timestamptz)": (
        "SETOF text",
        f"""
        DECLARE
          horizon date; r record; upper_day date;
        BEGIN
          SELECT (LEAST(p_now, now()) AT TIME ZONE 'UTC')::date
                 - COALESCE(max(COALESCE(s.webhook_retention_days, {WEBHOOK_DAYS_DEFAULT})), {WEBHOOK_DAYS_MAX})
            INTO horizon
            FROM tenants t LEFT JOIN settings_tenant s ON s.tenant_id = t.id;
          FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'public.webhook_events'::regclass
                     AND c.relname ~ '^webhook_events_(p|upto_)[0-9]{{8}}$'
          LOOP
            upper_day := to_date(substring(r.relname from '([0-9]{{8}})$'), 'YYYYMMDD')
                         + CASE WHEN r.relname LIKE 'webhook_events_p%' THEN 1 ELSE 0 END;
            IF upper_day <= horizon THEN
              BEGIN
                EXECUTE format('DROP TABLE {PARTS}.%I', r.relname);
                RETURN NEXT r.relname;
              EXCEPTION WHEN lock_not_available THEN
                NULL;  -- a long reader holds the table: dropped by the next run rather than queueing ingestion
              END;
            END IF;
          END LOOP;
        END
        """,
    ),
}

COLUMNS = """
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_id varchar(100) NOT NULL,
    event_type varchar(60) NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    wa_ts timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    error varchar(500),
    dedupe_key varchar(64)
"""
COLUMN_NAMES = "id, tenant_id, session_id, event_type, payload, wa_ts, received_at, processed_at, error, dedupe_key"


def _protect(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE settings_tenant ADD COLUMN webhook_retention_days integer NOT NULL "
        f"DEFAULT {WEBHOOK_DAYS_DEFAULT}, ADD COLUMN body_retention_days integer NOT NULL DEFAULT {BODY_DAYS_DEFAULT}, "
        "ADD COLUMN bodies_expired_before timestamptz"
    )
    op.execute(
        """
        CREATE TABLE webhook_dedupe_keys (
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          dedupe_key varchar(64) NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, dedupe_key)
        )
        """
    )
    op.execute("CREATE INDEX ix_webhook_dedupe_keys_tenant_received ON webhook_dedupe_keys (tenant_id, received_at)")
    _protect("webhook_dedupe_keys")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON webhook_dedupe_keys TO {APP_ROLE}")
    op.execute(
        "INSERT INTO webhook_dedupe_keys (tenant_id, dedupe_key, received_at) "
        "SELECT tenant_id, dedupe_key, max(received_at) FROM webhook_events WHERE dedupe_key IS NOT NULL "
        "AND received_at >= now() - interval '2 days' GROUP BY 1, 2"
    )

    op.execute("ALTER TABLE webhook_events RENAME TO webhook_events_unpartitioned")
    for index in ("ix_webhook_events_session_id", "ix_webhook_events_unprocessed"):
        op.execute(f"DROP INDEX {index}")
    op.execute("ALTER TABLE webhook_events_unpartitioned DROP CONSTRAINT uq_webhook_events_dedupe")
    op.execute("ALTER TABLE webhook_events_unpartitioned DROP CONSTRAINT webhook_events_pkey")
    op.execute(
        f"CREATE TABLE webhook_events ({COLUMNS}, PRIMARY KEY (id, received_at)) PARTITION BY RANGE (received_at)"
    )
    op.execute("CREATE INDEX ix_webhook_events_session_id ON webhook_events (session_id)")
    op.execute("CREATE INDEX ix_webhook_events_tenant_received ON webhook_events (tenant_id, received_at)")
    op.execute("CREATE INDEX ix_webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL")
    _protect("webhook_events")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_events TO {APP_ROLE}")

    op.execute(f"CREATE SCHEMA {PARTS}")
    op.execute(f"REVOKE ALL ON SCHEMA {PARTS} FROM PUBLIC")
    op.execute(f"CREATE TABLE {PARTS}.webhook_events_default PARTITION OF webhook_events DEFAULT")
    op.execute(
        """
        DO $$ DECLARE today date := (now() AT TIME ZONE 'UTC')::date; BEGIN
          EXECUTE format('CREATE TABLE mirage_partitions.%I PARTITION OF webhook_events FOR VALUES FROM (MINVALUE) '
                         'TO (%L)', 'webhook_events_upto_' || to_char(today, 'YYYYMMDD'), today::timestamp AT TIME ZONE 'UTC');
        END $$
        """
    )
    for signature, (returns, body) in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE plpgsql VOLATILE SECURITY DEFINER "
            f"SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$ {body} $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    for signature in list(FUNCTIONS)[1:]:
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    op.execute("SELECT mirage_webhook_partition_protect('webhook_events_default')")
    op.execute(
        "SELECT mirage_webhook_partition_protect(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'public.webhook_events'::regclass AND c.relname LIKE 'webhook_events_upto_%'"
    )
    # Today and the next two days; the scheduler's retention job keeps creating them ahead.
    op.execute("SELECT mirage_webhook_partitions_ensure((now() AT TIME ZONE 'UTC')::date, 3)")
    op.execute(f"INSERT INTO webhook_events ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM webhook_events_unpartitioned")
    op.execute("DROP TABLE webhook_events_unpartitioned")


def downgrade() -> None:
    op.execute("ALTER TABLE webhook_events RENAME TO webhook_events_partitioned")
    op.execute("ALTER INDEX ix_webhook_events_session_id RENAME TO ix_webhook_events_session_id_partitioned")
    op.execute("ALTER INDEX ix_webhook_events_unprocessed RENAME TO ix_webhook_events_unprocessed_partitioned")
    op.execute(f"CREATE TABLE webhook_events ({COLUMNS}, PRIMARY KEY (id))")
    # The unique constraint comes back: keep the first of any redeliveries the key table no longer remembered.
    op.execute(
        f"INSERT INTO webhook_events ({COLUMN_NAMES}) SELECT DISTINCT ON (tenant_id, dedupe_key) {COLUMN_NAMES} "
        "FROM webhook_events_partitioned WHERE dedupe_key IS NOT NULL ORDER BY tenant_id, dedupe_key, received_at"
    )
    op.execute(
        f"INSERT INTO webhook_events ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM webhook_events_partitioned "
        "WHERE dedupe_key IS NULL"
    )
    op.execute("ALTER TABLE webhook_events ADD CONSTRAINT uq_webhook_events_dedupe UNIQUE (tenant_id, dedupe_key)")
    op.execute("CREATE INDEX ix_webhook_events_session_id ON webhook_events (session_id)")
    op.execute("CREATE INDEX ix_webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL")
    _protect("webhook_events")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_events TO {APP_ROLE}")
    op.execute("DROP TABLE webhook_events_partitioned")
    op.execute(f"DROP SCHEMA {PARTS} CASCADE")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP TABLE webhook_dedupe_keys")
    op.execute(
        "ALTER TABLE settings_tenant DROP COLUMN webhook_retention_days, DROP COLUMN body_retention_days, "
        "DROP COLUMN bodies_expired_before"
    )
