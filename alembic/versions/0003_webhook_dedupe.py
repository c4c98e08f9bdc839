"""Webhook events: de-duplicate byte-identical redeliveries.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_events", sa.Column("dedupe_key", sa.String(length=64), nullable=True))
    op.create_unique_constraint("uq_webhook_events_dedupe", "webhook_events", ["tenant_id", "dedupe_key"])


def downgrade() -> None:
    op.drop_constraint("uq_webhook_events_dedupe", "webhook_events", type_="unique")
    op.drop_column("webhook_events", "dedupe_key")
