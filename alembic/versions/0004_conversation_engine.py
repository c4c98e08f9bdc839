"""Conversation engine: due-work indexes, send bookkeeping, idempotency keys, cross-tenant due look-ups.

- conversations.round_cursor: where plan_round continues (pairs / round-robin order);
  a partial index on next_due_at WHERE active, read through `mirage_due_conversations` (SECURITY DEFINER: the
  tick sees every tenant's due ids and nothing else, then works inside each tenant's RLS session).
- rounds.end_reason: why a round ended (done / aborted: stuck, window_closed, echo_guard, ...).
- messages.send_after / attempts / dispatched_at: the send pipeline's own state. `dispatched_at` is written just
  before the HTTP call to Evolution, so a crash after it means "maybe sent" (never resent blindly) and a crash
  before it means "certainly not sent" (safe to resend).
- a unique (tenant_id, meta->>'send_key') index: one row per round turn, whoever races to create it.
- `mirage_overdue_sends`: queued sends whose job should have run but did not (lost job, Redis restart).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"

FUNCTIONS = {
    "mirage_due_conversations(p_now timestamptz, p_limit integer)": (
        "TABLE(tenant_id uuid, conversation_id uuid)",
        "SELECT c.tenant_id, c.id FROM conversations c WHERE c.active AND c.next_due_at IS NOT NULL "
        "AND c.next_due_at <= p_now ORDER BY c.next_due_at LIMIT p_limit",
    ),
    "mirage_overdue_sends(p_before timestamptz, p_limit integer)": (
        "TABLE(tenant_id uuid, message_id uuid)",
        "SELECT m.tenant_id, m.id FROM messages m WHERE m.status = 'queued' AND m.send_after IS NOT NULL "
        "AND m.send_after <= p_before ORDER BY m.send_after LIMIT p_limit",
    ),
}


def upgrade() -> None:
    op.add_column("conversations", sa.Column("round_cursor", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "CREATE INDEX ix_conversations_due ON conversations (next_due_at) WHERE active AND next_due_at IS NOT NULL"
    )
    op.add_column("rounds", sa.Column("end_reason", sa.String(length=60), nullable=True))
    op.execute("CREATE INDEX ix_rounds_conversation_running ON rounds (conversation_id) WHERE state = 'running'")

    op.add_column("messages", sa.Column("send_after", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "CREATE UNIQUE INDEX uq_messages_send_key ON messages (tenant_id, (meta->>'send_key')) WHERE meta ? 'send_key'"
    )
    op.execute("CREATE INDEX ix_messages_queued_send_after ON messages (send_after) WHERE status = 'queued'")
    op.execute(
        "CREATE INDEX ix_messages_from_number_sent ON messages (from_number_id, sent_at) WHERE sent_at IS NOT NULL"
    )

    for signature, (returns, body) in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE SECURITY DEFINER "
            f"SET search_path = public, pg_temp AS $$ {body} $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP INDEX IF EXISTS ix_messages_from_number_sent")
    op.execute("DROP INDEX IF EXISTS ix_messages_queued_send_after")
    op.execute("DROP INDEX IF EXISTS uq_messages_send_key")
    op.drop_column("messages", "dispatched_at")
    op.drop_column("messages", "attempts")
    op.drop_column("messages", "send_after")
    op.execute("DROP INDEX IF EXISTS ix_rounds_conversation_running")
    op.drop_column("rounds", "end_reason")
    op.execute("DROP INDEX IF EXISTS ix_conversations_due")
    op.drop_column("conversations", "round_cursor")
