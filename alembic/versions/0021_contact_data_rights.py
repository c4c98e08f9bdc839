"""A contact's data rights under LGPD (issue 18): the append-only consent history and erasure.

- `consent_events`: one row per grant, revocation or erasure of a contact's consent, with basis, source, time and
  actor. Append-only in the database itself: the application role may only SELECT and INSERT, and a trigger refuses
  UPDATE and DELETE for everyone, except inside `mirage_consent_erase(contact)` (SECURITY DEFINER), the one way
  to blank a person's number and free-text source when they are erased. Existing consent becomes a first row each.
- `suppression.number_hash`: an erased person's number is kept only as a keyed hash (core.security.number_hash),
  `wa_number` then NULL, so they are never contacted again without their number being stored.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
ERASING = "mirage.consent_erasure"  # set (transaction-local) only by mirage_consent_erase
ERASE = "mirage_consent_erase(p_contact uuid)"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE consent_events (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          contact_id uuid NOT NULL,
          wa_number varchar(20),
          event varchar(20) NOT NULL,
          basis varchar(40),
          source varchar(200),
          at timestamptz NOT NULL,
          actor varchar(254) NOT NULL,
          recorded_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_consent_events_contact ON consent_events (tenant_id, contact_id, recorded_at)")
    op.execute("ALTER TABLE consent_events ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE consent_events FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON consent_events "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(f"GRANT SELECT, INSERT ON consent_events TO {APP_ROLE}")
    op.execute(
        f"""
        CREATE FUNCTION mirage_consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND current_setting('{ERASING}', true) = 'on'
             AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.contact_id = OLD.contact_id
             AND NEW.event = OLD.event AND NEW.at = OLD.at AND NEW.recorded_at = OLD.recorded_at
             AND NEW.wa_number IS NULL AND NEW.source IS NULL THEN
            RETURN NEW;  -- an erasure blanks the number and the source, nothing else
          END IF;
          RAISE EXCEPTION 'consent_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events "
        "FOR EACH ROW EXECUTE FUNCTION mirage_consent_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION mirage_consent_events_append_only()"
    )
    op.execute(
        f"""
        CREATE FUNCTION {ERASE} RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp AS $$
        DECLARE changed integer;
        BEGIN
          PERFORM set_config('{ERASING}', 'on', true);
          UPDATE consent_events SET wa_number = NULL, source = NULL
          WHERE contact_id = p_contact AND tenant_id = {CURRENT_TENANT};
          GET DIAGNOSTICS changed = ROW_COUNT;
          PERFORM set_config('{ERASING}', '', true);
          RETURN changed;
        END $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {ERASE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {ERASE} TO {APP_ROLE}")
    op.execute(
        "INSERT INTO consent_events (tenant_id, contact_id, wa_number, event, basis, source, at, actor, recorded_at) "
        "SELECT tenant_id, id, wa_number, consent_status::text, consent_basis, consent_source, "
        "COALESCE(consent_at, created_at), 'migration', now() FROM contacts WHERE consent_status <> 'unknown'"
    )

    op.execute("ALTER TABLE suppression ALTER COLUMN wa_number DROP NOT NULL")
    op.execute("ALTER TABLE suppression ADD COLUMN number_hash varchar(64)")
    op.execute("ALTER TABLE suppression ADD CONSTRAINT uq_suppression_tenant_hash UNIQUE (tenant_id, number_hash)")
    op.execute(
        "ALTER TABLE suppression ADD CONSTRAINT number_or_hash CHECK (wa_number IS NOT NULL OR number_hash IS NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM suppression WHERE wa_number IS NULL")
    op.execute("ALTER TABLE suppression DROP CONSTRAINT number_or_hash")
    op.execute("ALTER TABLE suppression DROP CONSTRAINT uq_suppression_tenant_hash")
    op.execute("ALTER TABLE suppression DROP COLUMN number_hash")
    op.execute("ALTER TABLE suppression ALTER COLUMN wa_number SET NOT NULL")
    op.execute(f"DROP FUNCTION IF EXISTS {ERASE}")
    op.execute("DROP TABLE consent_events")
    op.execute("DROP FUNCTION IF EXISTS mirage_consent_events_append_only()")
