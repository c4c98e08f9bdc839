"""Archived conversations: deleting a conversation that has rounds or messages archives it instead (inactive, its
rounds and messages kept and readable, no longer in the main list).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE conversations ADD COLUMN archived_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE conversations DROP COLUMN archived_at")
