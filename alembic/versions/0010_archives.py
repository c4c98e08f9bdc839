"""Archives: what was deleted after it had history is archived instead (`archived_at`), so that history stays
readable.

- numbers: an archived number keeps its message history, leaves the lists, never sends and frees its Evolution
  server slot (`server_id` is cleared, so placement stops counting it);
- outreach_policies: a policy that already wrote to contacts is archived, inactive and no longer listed; its
  targets and their history stay readable;
- conversations: one with rounds or messages is archived, inactive, its rounds and messages kept and readable,
  no longer in the main list.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ARCHIVED = ("numbers", "outreach_policies", "conversations")


def upgrade() -> None:
    for table in ARCHIVED:
        op.execute(f"ALTER TABLE {table} ADD COLUMN archived_at timestamptz")


def downgrade() -> None:
    for table in ARCHIVED:
        op.execute(f"ALTER TABLE {table} DROP COLUMN archived_at")
