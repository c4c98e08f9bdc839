"""Archived outreach policies: a policy that already wrote to contacts is archived instead of deleted, so its
targets and their history stay readable; an archived policy is inactive and no longer listed.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE outreach_policies ADD COLUMN archived_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE outreach_policies DROP COLUMN archived_at")
