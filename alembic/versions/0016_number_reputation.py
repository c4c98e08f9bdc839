"""Number safety (issue 16): each number's reputation and its history, and the tenant-wide emergency stop.

- `numbers.reputation_*`: the current score (0..100), band, cooldown end, the signals that moved it most and when it
  was last computed (logic.reputation decides; engine.reputation recomputes).
- `reputation_history`: one row per recompute that changed the score or the band, for the number's chart.
- `tenants.emergency_stop_*`: while `emergency_stop_at` is set nothing of the tenant is sent (engine.sending holds it).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
BANDS = "('cold', 'warming', 'healthy', 'cooling_down')"


def upgrade() -> None:
    op.execute("ALTER TABLE numbers ADD COLUMN reputation_score double precision")
    op.execute(f"ALTER TABLE numbers ADD COLUMN reputation_band varchar(20) CHECK (reputation_band IN {BANDS})")
    op.execute("ALTER TABLE numbers ADD COLUMN reputation_cooldown_until timestamptz")
    op.execute("ALTER TABLE numbers ADD COLUMN reputation_signals jsonb NOT NULL DEFAULT '{}'::jsonb")
    op.execute("ALTER TABLE numbers ADD COLUMN reputation_at timestamptz")
    op.execute(
        f"""
        CREATE TABLE reputation_history (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          number_id uuid NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
          at timestamptz NOT NULL,
          score double precision NOT NULL,
          band varchar(20) NOT NULL CHECK (band IN {BANDS}),
          top_signals jsonb NOT NULL DEFAULT '[]'::jsonb
        )
        """
    )
    op.execute("CREATE INDEX ix_reputation_history_tenant_id ON reputation_history (tenant_id)")
    op.execute("CREATE INDEX ix_reputation_history_number_at ON reputation_history (number_id, at)")
    op.execute("ALTER TABLE reputation_history ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE reputation_history FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON reputation_history "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON reputation_history TO {APP_ROLE}")
    op.execute("ALTER TABLE tenants ADD COLUMN emergency_stop_at timestamptz")
    op.execute("ALTER TABLE tenants ADD COLUMN emergency_stop_reason varchar(300)")
    op.execute("ALTER TABLE tenants ADD COLUMN emergency_stop_by uuid")


def downgrade() -> None:
    for column in ("emergency_stop_at", "emergency_stop_reason", "emergency_stop_by"):
        op.execute(f"ALTER TABLE tenants DROP COLUMN {column}")
    op.execute("DROP TABLE reputation_history")
    for column in ("score", "band", "cooldown_until", "signals", "at"):
        op.execute(f"ALTER TABLE numbers DROP COLUMN reputation_{column}")
