"""Tenants as a product (issue 18): the platform operator, plans with limits, suspension.

- `users.is_platform_operator`: the platform-level role (manages tenants and plans), apart from tenant roles. The
  embedded default's first admin holds it.
- `tenants.suspended_at / suspended_reason`: a suspended tenant's users cannot sign in, its API keys answer 403 and
  its engine holds every send (the emergency stop's gate looks at both).
- `plan_limits`: one table for the limits. Rows with `tenant_id` NULL are the defaults of each plan (readable by
  every tenant, written by the platform operator on the owner connection); a row with a `tenant_id` holds that
  tenant's overrides (NULL column: the plan's value). A NULL limit in a plan row means unlimited.
- The default tenant moves to "enterprise" (unlimited), so an existing installation keeps working as before.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
DEFAULT_TENANT = "00000000-0000-0000-0000-000000000001"
LIMITS = ("numbers", "active_conversations", "contacts", "outreach_per_day", "api_keys", "users")
PLAN_DEFAULTS = {
    "free": (2, 2, 500, 50, 1, 3),
    "pro": (20, 20, 20000, 1000, 5, 20),
    "enterprise": (None, None, None, None, None, None),
}


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN is_platform_operator boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE tenants ADD COLUMN suspended_at timestamptz")
    op.execute("ALTER TABLE tenants ADD COLUMN suspended_reason varchar(300)")
    columns = ",\n".join(f"          {name} integer" for name in LIMITS)
    op.execute(
        f"""
        CREATE TABLE plan_limits (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
          plan tenant_plan,
{columns},
          updated_at timestamptz,
          CONSTRAINT ck_plan_limits_owner CHECK ((tenant_id IS NULL) <> (plan IS NULL))
        )
        """
    )
    op.execute("CREATE INDEX ix_plan_limits_tenant_id ON plan_limits (tenant_id)")
    op.execute("CREATE UNIQUE INDEX uq_plan_limits_plan ON plan_limits (plan) WHERE tenant_id IS NULL")
    op.execute("CREATE UNIQUE INDEX uq_plan_limits_tenant ON plan_limits (tenant_id) WHERE tenant_id IS NOT NULL")
    op.execute("ALTER TABLE plan_limits ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE plan_limits FORCE ROW LEVEL SECURITY")
    own = f"tenant_id = {CURRENT_TENANT}"
    op.execute(f"CREATE POLICY tenant_read ON plan_limits FOR SELECT USING (tenant_id IS NULL OR {own})")
    op.execute(f"CREATE POLICY tenant_write ON plan_limits FOR INSERT WITH CHECK ({own})")
    op.execute(f"CREATE POLICY tenant_update ON plan_limits FOR UPDATE USING ({own}) WITH CHECK ({own})")
    op.execute(f"CREATE POLICY tenant_delete ON plan_limits FOR DELETE USING ({own})")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON plan_limits TO {APP_ROLE}")
    for plan, values in PLAN_DEFAULTS.items():
        literals = ", ".join("NULL" if v is None else str(v) for v in values)
        op.execute(f"INSERT INTO plan_limits (plan, {', '.join(LIMITS)}) VALUES ('{plan}', {literals})")
    op.execute(f"UPDATE tenants SET plan = 'enterprise' WHERE id = '{DEFAULT_TENANT}'")
    op.execute(
        f"UPDATE users SET is_platform_operator = true WHERE tenant_id = '{DEFAULT_TENANT}' "
        "AND lower(email) = 'admin@mirage.local'"
    )


def downgrade() -> None:
    op.execute("DROP TABLE plan_limits")
    op.execute("ALTER TABLE tenants DROP COLUMN suspended_reason")
    op.execute("ALTER TABLE tenants DROP COLUMN suspended_at")
    op.execute("ALTER TABLE users DROP COLUMN is_platform_operator")
