"""Archived numbers: a number deleted after it took part in conversations keeps its message history, leaves the
lists, never sends and frees its Evolution server slot (`server_id` is cleared, so placement stops counting it).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE numbers ADD COLUMN archived_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE numbers DROP COLUMN archived_at")
