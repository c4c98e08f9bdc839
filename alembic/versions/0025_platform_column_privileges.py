"""What only the platform operator decides is out of the application role's reach (issue 18).

Row-level security keeps a tenant inside its own rows, but inside them the application role could still write a
tenant's own plan, lift its own suspension, raise its own limits or make one of its users a platform operator.
Those writes now go through the owner's connection (services.platform) and the database refuses them from
`mirage_app`, even through a query that forgets where it is:

- `tenants`: UPDATE is granted column by column, without `plan`, `suspended_at` and `suspended_reason` (nor `id`
  and `created_at`, which nothing changes);
- `users`: UPDATE column by column without `is_platform_operator`; an INSERT by the application role that names
  a platform operator is refused by a trigger (column INSERT grants cannot be used: the ORM sends every column);
- `plan_limits`: SELECT only.

A later migration that adds a column the application writes must grant it (tests/core/test_row_level_security.py
checks the privileged columns stay out).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
PLATFORM_ONLY = {
    "tenants": ("id", "created_at", "plan", "suspended_at", "suspended_reason"),
    "users": ("id", "tenant_id", "is_platform_operator"),
}


def _columns(table: str) -> list[str]:
    rows = op.get_bind().execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t "
            "ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    return [name for name in rows.scalars() if name not in PLATFORM_ONLY[table]]


def upgrade() -> None:
    for table in PLATFORM_ONLY:
        op.execute(f"REVOKE UPDATE ON {table} FROM {APP_ROLE}")
        op.execute(f"GRANT UPDATE ({', '.join(_columns(table))}) ON {table} TO {APP_ROLE}")
    op.execute(
        f"""
        CREATE FUNCTION mirage_users_no_operator_by_app() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'only the platform may make a platform operator' USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER users_no_operator_by_app BEFORE INSERT ON users FOR EACH ROW "
        f"WHEN (NEW.is_platform_operator AND current_user = '{APP_ROLE}') "
        "EXECUTE FUNCTION mirage_users_no_operator_by_app()"
    )
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON plan_limits FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON plan_limits TO {APP_ROLE}")
    op.execute("DROP TRIGGER users_no_operator_by_app ON users")
    op.execute("DROP FUNCTION mirage_users_no_operator_by_app()")
    for table in PLATFORM_ONLY:
        op.execute(f"REVOKE UPDATE ON {table} FROM {APP_ROLE}")
        op.execute(f"GRANT UPDATE ON {table} TO {APP_ROLE}")
