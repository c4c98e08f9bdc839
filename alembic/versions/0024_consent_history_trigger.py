"""The consent history is written by the database (issue 18 review): one trigger on `contacts` instead of every
path that grants or revokes consent writing its own row.

- `contacts_consent_history` (AFTER INSERT OR UPDATE of the consent columns): a contact stored with, or changed to,
  a grant or a revocation appends one `consent_events` row with its basis, source, time (`consent_at`) and actor.
  A write that leaves status, basis, source and time as they were appends nothing (the same grant said again).
- The actor is the writer's: `mirage_consent_actor()` reads the transaction-local `mirage.actor`, which the
  application sets once per transaction (engine.consent_history.act_as); unset, it is "system".
- The append-only trigger of 0021 now also pins `basis` and `actor`: an erasure may blank the number and the
  free-text source, nothing else.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

ACTOR = "mirage.actor"
ERASING = "mirage.consent_erasure"  # set (transaction-local) only by mirage_consent_erase (0021)
CONSENT_COLUMNS = "consent_status, consent_basis, consent_source, consent_at"


def _append_only(pinned: str) -> str:
    """The append-only trigger function of consent_events, with `pinned` the columns an erasure may not change."""
    return f"""
        CREATE OR REPLACE FUNCTION mirage_consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND current_setting('{ERASING}', true) = 'on'
             AND {pinned} AND NEW.wa_number IS NULL AND NEW.source IS NULL THEN
            RETURN NEW;  -- an erasure blanks the number and the source, nothing else
          END IF;
          RAISE EXCEPTION 'consent_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$
        """


PINNED_0021 = (
    "NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.contact_id = OLD.contact_id "
    "AND NEW.event = OLD.event AND NEW.at = OLD.at AND NEW.recorded_at = OLD.recorded_at"
)
PINNED = f"{PINNED_0021} AND NEW.basis IS NOT DISTINCT FROM OLD.basis AND NEW.actor = OLD.actor"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION mirage_consent_actor() RETURNS varchar LANGUAGE sql STABLE AS $$
          SELECT left(COALESCE(NULLIF(current_setting('{ACTOR}', true), ''), 'system'), 254)
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION mirage_contacts_consent_history() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.consent_status::text NOT IN ('granted', 'revoked') THEN
            RETURN NULL;
          END IF;
          IF TG_OP = 'UPDATE' AND NEW.consent_status = OLD.consent_status
             AND NEW.consent_basis IS NOT DISTINCT FROM OLD.consent_basis
             AND NEW.consent_source IS NOT DISTINCT FROM OLD.consent_source
             AND NEW.consent_at IS NOT DISTINCT FROM OLD.consent_at THEN
            RETURN NULL;  -- the same grant or revocation again: nothing new to prove
          END IF;
          INSERT INTO consent_events (tenant_id, contact_id, wa_number, event, basis, source, at, actor)
          VALUES (NEW.tenant_id, NEW.id, NEW.wa_number, NEW.consent_status::text, NEW.consent_basis,
                  NEW.consent_source, COALESCE(NEW.consent_at, now()), mirage_consent_actor());
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER contacts_consent_history AFTER INSERT OR UPDATE OF {CONSENT_COLUMNS} ON contacts "
        "FOR EACH ROW EXECUTE FUNCTION mirage_contacts_consent_history()"
    )
    op.execute(_append_only(PINNED))


def downgrade() -> None:
    op.execute(_append_only(PINNED_0021))
    op.execute("DROP TRIGGER contacts_consent_history ON contacts")
    op.execute("DROP FUNCTION mirage_contacts_consent_history()")
    op.execute("DROP FUNCTION mirage_consent_actor()")
