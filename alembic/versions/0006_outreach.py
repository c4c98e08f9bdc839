"""Outreach: cross-tenant due look-ups, opt-out bookkeeping indexes, policy value checks.

- `mirage_active_outreach_policies`: active policies whose number is connected, for the outreach tick (SECURITY
  DEFINER: the tick sees every tenant's policy ids and nothing else, then works inside each tenant's RLS session).
- `mirage_outreach_tenants`: tenants with outreach exchanges in progress (the tick's failure / no-reply sweep).
- `mirage_outreach_unhandled_inbound`: inbound contact messages whose follow-up (opt-out check, next outreach
  round) never ran, e.g. because Redis lost the `on_message` job; a partial index keeps that look-up tiny.
- indexes: outreach messages per sending number (cap counts), per target (exchange state), targets in progress,
  contact tags (GIN, for the tag filter).
- CHECKs: at least one round per contact, a non-negative minimum gap, dayparts and allowed days from the known
  codes (the service validates first and names the field; these keep hand-written SQL honest).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"

FUNCTIONS = {
    "mirage_active_outreach_policies(p_limit integer)": (
        "TABLE(tenant_id uuid, policy_id uuid)",
        "SELECT p.tenant_id, p.id FROM outreach_policies p JOIN numbers n ON n.id = p.number_id "
        "WHERE p.active AND n.status = 'connected' ORDER BY p.created_at LIMIT p_limit",
    ),
    "mirage_outreach_tenants()": (
        "TABLE(tenant_id uuid)",
        "SELECT DISTINCT t.tenant_id FROM outreach_targets t WHERE t.status = 'in_progress'",
    ),
    "mirage_outreach_unhandled_inbound(p_since timestamptz, p_before timestamptz, p_limit integer)": (
        "TABLE(tenant_id uuid, message_id uuid)",
        "SELECT m.tenant_id, m.id FROM messages m WHERE m.direction = 'in' AND NOT (m.meta ? 'outreach_handled') "
        "AND m.created_at >= p_since AND m.created_at <= p_before ORDER BY m.created_at LIMIT p_limit",
    ),
}

INDEXES = {
    "ix_messages_inbound_unhandled": "ON messages (created_at) "
    "WHERE direction = 'in' AND NOT (meta ? 'outreach_handled')",
    "ix_messages_outreach_number": "ON messages (from_number_id, created_at) WHERE (meta->>'app_origin') = 'outreach'",
    "ix_messages_outreach_target": "ON messages ((meta->>'outreach_target_id'), created_at) "
    "WHERE meta ? 'outreach_target_id'",
    "ix_targets_in_progress": "ON outreach_targets (tenant_id, contact_id) WHERE status = 'in_progress'",
    "ix_contacts_tags": "ON contacts USING gin (tags)",
}

CHECKS = {
    "ck_outreach_policies_rounds_gap": "max_rounds_per_contact >= 1 AND min_gap_minutes >= 0",
    "ck_outreach_policies_codes": "dayparts <@ ARRAY['morning', 'afternoon', 'evening']::text[] "
    "AND allow_days <@ ARRAY['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']::text[]",
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} {definition}")
    for name, condition in CHECKS.items():
        op.execute(f"ALTER TABLE outreach_policies ADD CONSTRAINT {name} CHECK ({condition})")
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
    for name in CHECKS:
        op.execute(f"ALTER TABLE outreach_policies DROP CONSTRAINT IF EXISTS {name}")
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
