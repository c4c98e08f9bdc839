"""A queued message's wait ends at its `send_after` (while Evolution types: `dispatched_at` + the planned typing
time, logic.waits.message_until), so `messages.wait_until` repeated what was already stored; and nothing reads
`outreach_policies.wait_checked_at`. Both columns added by 0009 go.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE messages DROP COLUMN wait_until")
    op.execute("ALTER TABLE outreach_policies DROP COLUMN wait_checked_at")


def downgrade() -> None:
    op.execute("ALTER TABLE outreach_policies ADD COLUMN wait_checked_at timestamptz")
    op.execute("ALTER TABLE messages ADD COLUMN wait_until timestamptz")
