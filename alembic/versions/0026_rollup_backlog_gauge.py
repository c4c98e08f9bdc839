"""The metric rollups' backlog, for the Prometheus exposition (issue 17).

`mirage_metric_rollup_backlog()` counts the message fact changes the rollup step has not folded in yet, across
every tenant, and returns only that number (scrapes run with no tenant, and `message_fact_changes` is under forced
row-level security). A backlog that keeps growing means the `metric-rollups` job is not keeping up.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
SIGNATURE = "mirage_metric_rollup_backlog()"


def upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {SIGNATURE} RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER "
        "SET search_path = public, pg_temp AS $$ SELECT count(*) FROM message_fact_changes $$"
    )
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
