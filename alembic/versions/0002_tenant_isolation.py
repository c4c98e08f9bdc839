"""Tenant isolation: application role, forced row-level security, credential look-ups, statistics views.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

TENANT_TABLES = [
    "users", "invitations", "user_sessions", "api_keys", "settings_tenant", "audit_log", "personas", "numbers",
    "sessions", "conversations", "conversation_participants", "pairings", "topics", "conversation_schedule",
    "settings_conversation", "rounds", "messages", "webhook_events", "contacts", "outreach_policies",
    "outreach_targets", "suppression",
]

# Credential look-ups happen before the tenant is known (login, session cookie, API key, webhook secret,
# invitation link). Each is a narrow SECURITY DEFINER function that returns ids only; the caller then opens a
# tenant-scoped session. The application role gets EXECUTE on these and nothing else outside its tenant.
DEFINER_FUNCTIONS = {
    "auth_user_by_email(p_email text)": (
        "TABLE(user_id uuid, tenant_id uuid)",
        "SELECT id, tenant_id FROM users WHERE lower(email) = lower(p_email) AND is_active",
    ),
    "auth_session_by_token(p_hash text)": (
        "TABLE(session_id uuid, tenant_id uuid, user_id uuid)",
        "SELECT id, tenant_id, user_id FROM user_sessions WHERE token_hash = p_hash AND revoked_at IS NULL "
        "AND expires_at > now()",
    ),
    "auth_api_key_by_hash(p_hash text)": (
        "TABLE(api_key_id uuid, tenant_id uuid)",
        "SELECT id, tenant_id FROM api_keys WHERE key_hash = p_hash AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR expires_at > now())",
    ),
    "auth_invitation_by_token(p_hash text)": (
        "TABLE(invitation_id uuid, tenant_id uuid)",
        "SELECT id, tenant_id FROM invitations WHERE token_hash = p_hash",
    ),
    "webhook_session_by_instance(p_instance text)": (
        "TABLE(number_id uuid, tenant_id uuid, webhook_secret_hash text)",
        "SELECT n.id, n.tenant_id, s.webhook_secret_hash FROM numbers n "
        "JOIN sessions s ON s.number_id = n.id WHERE n.session_id = p_instance",
    ),
    "mirage_tenant_ids()": ("SETOF uuid", "SELECT id FROM tenants ORDER BY created_at"),
}

MV_STATS_MESSAGES = """
CREATE MATERIALIZED VIEW mv_stats_messages AS
SELECT m.tenant_id,
       (m.created_at AT TIME ZONE t.timezone)::date AS date,
       m.direction,
       count(*) AS message_count,
       count(DISTINCT m.from_number_id) AS unique_senders
FROM messages m JOIN tenants t ON t.id = m.tenant_id
WHERE m.created_at >= now() - interval '31 days'
GROUP BY m.tenant_id, 2, m.direction
"""

MV_NUMBER_STATS = """
CREATE MATERIALIZED VIEW mv_number_stats AS
SELECT x.tenant_id, x.number_id, x.day,
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
    SELECT m.tenant_id, m.to_number_id, (m.created_at AT TIME ZONE t.timezone)::date,
           'received', m.status::text, NULL
    FROM messages m JOIN tenants t ON t.id = m.tenant_id
    WHERE m.to_number_id IS NOT NULL AND m.created_at >= now() - interval '31 days'
) x
GROUP BY x.tenant_id, x.number_id, x.day
"""


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    # Read-only, so `reflex run` can check the schema revision as the application role.
    op.execute(f"GRANT SELECT ON alembic_version TO {APP_ROLE}")

    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON tenants USING (id = {CURRENT_TENANT}) WITH CHECK (id = {CURRENT_TENANT})")
    op.execute(f"GRANT SELECT, UPDATE ON tenants TO {APP_ROLE}")
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")

    for signature, (returns, body) in DEFINER_FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE SECURITY DEFINER "
            f"SET search_path = public, pg_temp AS $$ {body} $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")

    # Materialized views cannot carry row-level security: the application reads them only through
    # tenant-filtered views, and refreshes them through a definer function.
    op.execute(MV_STATS_MESSAGES)
    op.execute("CREATE UNIQUE INDEX uq_mv_stats_messages ON mv_stats_messages (tenant_id, date, direction)")
    op.execute(MV_NUMBER_STATS)
    op.execute("CREATE UNIQUE INDEX uq_mv_number_stats ON mv_number_stats (tenant_id, number_id, day)")
    op.execute("CREATE INDEX ix_mv_number_stats_tenant_day ON mv_number_stats (tenant_id, day)")
    for view, mv in (("stats_messages", "mv_stats_messages"), ("number_stats", "mv_number_stats")):
        op.execute(
            f"CREATE VIEW {view} WITH (security_barrier) AS SELECT * FROM {mv} WHERE tenant_id = {CURRENT_TENANT}"
        )
        op.execute(f"REVOKE ALL ON {mv} FROM PUBLIC")
        op.execute(f"GRANT SELECT ON {view} TO {APP_ROLE}")
    op.execute(
        """
        CREATE FUNCTION mirage_refresh_stats(concurrent boolean DEFAULT true) RETURNS void
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
    op.execute("REVOKE ALL ON FUNCTION mirage_refresh_stats(boolean) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION mirage_refresh_stats(boolean) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS mirage_refresh_stats(boolean)")
    for view in ("stats_messages", "number_stats"):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute("DROP MATERIALIZED VIEW IF EXISTS mv_number_stats")
    op.execute("DROP MATERIALIZED VIEW IF EXISTS mv_stats_messages")
    for signature in DEFINER_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in [*TENANT_TABLES, "tenants"]:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
