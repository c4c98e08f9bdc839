"""Number safety (issue 16): restriction signals and a proxy per number.

- `number_restrictions`: a number WhatsApp keeps from reaching new contacts (the reach-out timelock, "463"), either
  inferred from the `messages.update` ERROR pattern (Evolution 2.3.7 drops the code) or reported; while it lasts the
  number opens no new chat.
- `proxies`: the tenant's proxy pool, the password encrypted at rest; `numbers.proxy_id` is the sticky assignment.
- `settings_tenant.unanswered_first_allowance`: first messages to new contacts that may go unanswered per month.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
NEW_TABLES = ("proxies", "number_restrictions")


def upgrade() -> None:
    op.execute("CREATE TYPE restriction_source AS ENUM ('inferred', 'reported')")
    op.execute(
        """
        CREATE TABLE proxies (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          label varchar(120) NOT NULL,
          host varchar(253) NOT NULL,
          port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
          protocol varchar(10) NOT NULL DEFAULT 'http',
          username varchar(200) NOT NULL DEFAULT '',
          password_enc text,
          max_numbers integer NOT NULL DEFAULT 3 CHECK (max_numbers >= 1),
          last_test_at timestamptz,
          last_test_ok boolean,
          last_test_error varchar(500),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz,
          CONSTRAINT uq_proxies_endpoint UNIQUE (tenant_id, host, port, username),
          CONSTRAINT ck_proxies_protocol CHECK (protocol IN ('http', 'https', 'socks4', 'socks5'))
        )
        """
    )
    op.execute(
        """
        CREATE TABLE number_restrictions (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          number_id uuid NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
          kind varchar(40) NOT NULL,
          source restriction_source NOT NULL,
          started_at timestamptz NOT NULL,
          ends_at timestamptz NOT NULL,
          ends_at_estimated boolean NOT NULL DEFAULT true,
          evidence jsonb NOT NULL DEFAULT '{}'::jsonb,
          lifted_at timestamptz,
          created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_number_restrictions_tenant_id ON number_restrictions (tenant_id)")
    op.execute("CREATE INDEX ix_number_restrictions_number_ends ON number_restrictions (number_id, ends_at)")
    for table in NEW_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    op.execute("ALTER TABLE numbers ADD COLUMN proxy_id uuid REFERENCES proxies(id) ON DELETE SET NULL")
    op.execute("CREATE INDEX ix_numbers_proxy_id ON numbers (proxy_id)")
    op.execute("ALTER TABLE settings_tenant ADD COLUMN unanswered_first_allowance integer NOT NULL DEFAULT 200")


def downgrade() -> None:
    op.execute("ALTER TABLE settings_tenant DROP COLUMN unanswered_first_allowance")
    op.execute("ALTER TABLE numbers DROP COLUMN proxy_id")
    for table in reversed(NEW_TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TYPE restriction_source")
