"""Instance creation is recoverable (issue 14, finding 8).

- `numbers.creating_since`: set when Mirage asks Evolution to create the number's instance, cleared once Evolution
  confirmed it. A row still carrying it after the call failed with an unknown outcome (a timeout, a 5xx: Evolution
  may have made the instance anyway) is left to the reconciliation job, which completes it or removes it.
- `mirage_known_instances(names)`: which of these instance names have a number row in any tenant, and whether it
  is archived. The job sweeps the platform's servers for instances Mirage made that have no live number; it learns
  only that a name is taken, no tenant data.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
KNOWN = "mirage_known_instances(p_names text[])"


def upgrade() -> None:
    op.execute("ALTER TABLE numbers ADD COLUMN creating_since timestamptz")
    op.execute("CREATE INDEX ix_numbers_creating_since ON numbers (creating_since) WHERE creating_since IS NOT NULL")
    op.execute(
        f"CREATE FUNCTION {KNOWN} RETURNS TABLE(session_id text, archived boolean) LANGUAGE sql STABLE "
        "SECURITY DEFINER SET search_path = public, pg_temp AS $$ "
        "SELECT n.session_id, n.archived_at IS NOT NULL FROM numbers n WHERE n.session_id = ANY(p_names) $$"
    )
    op.execute(f"REVOKE ALL ON FUNCTION {KNOWN} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {KNOWN} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {KNOWN}")
    op.execute("ALTER TABLE numbers DROP COLUMN creating_since")
