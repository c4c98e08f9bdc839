"""Look-ups that row-level security lets PostgreSQL answer from an index; two redundant indexes dropped.

Under RLS, PostgreSQL evaluates the policy (`tenant_id = current tenant`) before any condition that uses a function
not marked LEAKPROOF, and jsonb's `->>` and `?` are not. So `meta->>'send_key' = $1` could not be an index condition
of the `(tenant_id, (meta->>'send_key'))` index: every turn scanned ALL of its tenant's send keys, and every look-up
of an outreach exchange all of the tenant's outreach messages (checked with EXPLAIN as the application role). Both
keys become stored generated columns, compared with `=` on text / uuid, which are leakproof:

- `messages.send_key` (text) = `meta->>'send_key'`, unique per tenant;
- `messages.outreach_target_id` (uuid) = `meta->>'outreach_target_id'`, indexed with `created_at`.

`ix_messages_tenant_id` and `ix_webhook_events_tenant_id` go: `ix_messages_tenant_created`,
`uq_messages_tenant_wa_msg_id` and `uq_webhook_events_dedupe` all start with `tenant_id`, and every extra index is
written on each insert and on each non-HOT update (the send pipeline updates every outbound message twice).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE messages "
        "ADD COLUMN send_key text GENERATED ALWAYS AS (meta->>'send_key') STORED, "
        "ADD COLUMN outreach_target_id uuid GENERATED ALWAYS AS (CAST(meta->>'outreach_target_id' AS uuid)) STORED"
    )
    op.execute("DROP INDEX uq_messages_send_key")
    op.execute("CREATE UNIQUE INDEX uq_messages_send_key ON messages (tenant_id, send_key) WHERE send_key IS NOT NULL")
    op.execute("DROP INDEX ix_messages_outreach_target")
    op.execute(
        "CREATE INDEX ix_messages_outreach_target ON messages (outreach_target_id, created_at) "
        "WHERE outreach_target_id IS NOT NULL"
    )
    op.execute("DROP INDEX ix_messages_tenant_id")
    op.execute("DROP INDEX ix_webhook_events_tenant_id")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_webhook_events_tenant_id ON webhook_events (tenant_id)")
    op.execute("CREATE INDEX ix_messages_tenant_id ON messages (tenant_id)")
    op.execute("DROP INDEX ix_messages_outreach_target")
    op.execute(
        "CREATE INDEX ix_messages_outreach_target ON messages ((meta->>'outreach_target_id'), created_at) "
        "WHERE meta ? 'outreach_target_id'"
    )
    op.execute("DROP INDEX uq_messages_send_key")
    op.execute(
        "CREATE UNIQUE INDEX uq_messages_send_key ON messages (tenant_id, (meta->>'send_key')) WHERE meta ? 'send_key'"
    )
    op.execute("ALTER TABLE messages DROP COLUMN outreach_target_id, DROP COLUMN send_key")
