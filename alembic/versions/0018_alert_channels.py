"""Alerts that reach people (issue 16): channels, events and the delivery log.

- `alert_channels`: where a tenant's alerts go: a signed webhook, an e-mail over SMTP, or a WhatsApp message to an
  operator's phone. `config` holds the non-secret settings; `secret_enc` the webhook's signing secret or the SMTP
  password (Fernet).
- `alert_events`: what happened (disconnect, ban-like close, auto-pause, restriction, score drop, proxy failure,
  server unreachable), one row per alert kept after de-duplication.
- `alert_deliveries`: one row per (event, channel): attempts, the last status code or error, the next retry.
- `mirage_alert_server_tenants(server)`: the tenants with numbers on a server (a platform server's probe runs
  without a tenant and must tell each of them).
- `mirage_alert_overdue(before)`: deliveries whose attempt is overdue in any tenant (their job was lost), for the
  periodic recovery.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
NEW_TABLES = ("alert_channels", "alert_events", "alert_deliveries")
SERVER_TENANTS = "mirage_alert_server_tenants(p_server uuid)"
OVERDUE = "mirage_alert_overdue(p_before timestamptz)"
FUNCTIONS = {
    SERVER_TENANTS: (
        "TABLE(tenant_id uuid)",
        "SELECT s.tenant_id FROM evolution_servers s WHERE s.id = p_server AND s.tenant_id IS NOT NULL "
        "UNION SELECT DISTINCT n.tenant_id FROM numbers n WHERE n.server_id = p_server",
    ),
    OVERDUE: (
        "TABLE(tenant_id uuid, delivery_id uuid, attempt integer)",
        "SELECT d.tenant_id, d.id, d.attempt FROM alert_deliveries d "
        "WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at < p_before ORDER BY d.next_attempt_at "
        "LIMIT 500",
    ),
}


def upgrade() -> None:
    op.execute("CREATE TYPE alert_channel_kind AS ENUM ('webhook', 'email', 'whatsapp')")
    op.execute(
        """
        CREATE TABLE alert_channels (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          kind alert_channel_kind NOT NULL,
          name varchar(120) NOT NULL,
          config jsonb NOT NULL DEFAULT '{}'::jsonb,
          secret_enc varchar,
          enabled boolean NOT NULL DEFAULT true,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_alert_channels_tenant_id ON alert_channels (tenant_id)")
    op.execute(
        """
        CREATE TABLE alert_events (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          kind varchar(40) NOT NULL,
          subject varchar(120) NOT NULL,
          number_id uuid REFERENCES numbers(id) ON DELETE SET NULL,
          server_id uuid REFERENCES evolution_servers(id) ON DELETE SET NULL,
          detail jsonb NOT NULL DEFAULT '{}'::jsonb,
          repeats integer NOT NULL DEFAULT 0,
          at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_alert_events_dedupe ON alert_events (tenant_id, kind, subject, at)")
    op.execute(
        """
        CREATE TABLE alert_deliveries (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          channel_id uuid NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
          event_id uuid REFERENCES alert_events(id) ON DELETE CASCADE,
          status varchar(20) NOT NULL,
          attempt integer NOT NULL DEFAULT 0,
          status_code integer,
          error varchar(500),
          held integer NOT NULL DEFAULT 0,
          next_attempt_at timestamptz,
          at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_alert_deliveries_channel_at ON alert_deliveries (channel_id, at)")
    op.execute("CREATE INDEX ix_alert_deliveries_tenant_at ON alert_deliveries (tenant_id, at)")
    for table in NEW_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    op.execute("CREATE INDEX ix_alert_deliveries_due ON alert_deliveries (next_attempt_at) "
               "WHERE status IN ('pending', 'retrying')")
    for signature, (returns, body) in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE SECURITY DEFINER "
            f"SET search_path = public, pg_temp AS $$ {body} $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in reversed(NEW_TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TYPE alert_channel_kind")
