"""Warming that looks like people (issue 15): message kinds, the media library and warming groups.

- `messages.kind` (text, reaction, voice, image, sticker, location, contact, edit, status), `media_id`,
  `group_id`, `ref_wa_msg_id` (the quoted / reacted / edited message) and `cap_weight` (what it counts for against
  the caps). `uq_messages_media_partner` holds the rule that a number never sends the same file twice to the same
  partner.
- `media_assets`: the tenant's pictures, voice notes and stickers, bytes in PostgreSQL.
- `warming_groups` / `warming_group_members`: WhatsApp groups among a tenant's numbers, for `group` conversations.
- `personas.habits`, `settings_tenant.actions`, `settings_conversation.actions`: who does what, from which day.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
NEW_TABLES = ("media_assets", "warming_groups", "warming_group_members")


def upgrade() -> None:
    op.execute("ALTER TYPE conversation_mode ADD VALUE IF NOT EXISTS 'group'")
    op.execute(
        "CREATE TYPE message_kind AS ENUM "
        "('text', 'reaction', 'voice', 'image', 'sticker', 'location', 'contact', 'edit', 'status')"
    )
    op.execute("CREATE TYPE media_kind AS ENUM ('image', 'voice', 'sticker')")
    op.execute("CREATE TYPE group_state AS ENUM ('pending', 'active', 'failed', 'closed')")
    op.execute(
        """
        CREATE TABLE media_assets (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          kind media_kind NOT NULL DEFAULT 'image',
          name varchar(200) NOT NULL,
          mime varchar(80) NOT NULL,
          size_bytes integer NOT NULL,
          sha256 varchar(64) NOT NULL,
          data bytea NOT NULL,
          width integer,
          height integer,
          duration_s double precision,
          tags jsonb NOT NULL DEFAULT '{}'::jsonb,
          origin varchar(20) NOT NULL,
          content_text varchar(1000) NOT NULL,
          created_by uuid REFERENCES users(id) ON DELETE SET NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          archived_at timestamptz,
          CONSTRAINT uq_media_assets_tenant_sha256 UNIQUE (tenant_id, sha256)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_media_assets_tenant_kind ON media_assets (tenant_id, kind) WHERE archived_at IS NULL"
    )
    op.execute(
        """
        CREATE TABLE warming_groups (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          conversation_id uuid NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
          owner_number_id uuid REFERENCES numbers(id) ON DELETE SET NULL,
          group_jid varchar(80),
          subject varchar(100) NOT NULL,
          description varchar(500) NOT NULL,
          state group_state NOT NULL DEFAULT 'pending',
          error varchar(500),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_warming_groups_tenant_id ON warming_groups (tenant_id)")
    op.execute("CREATE INDEX ix_warming_groups_owner_number_id ON warming_groups (owner_number_id)")
    op.execute("CREATE INDEX ix_warming_groups_group_jid ON warming_groups (group_jid)")
    op.execute(
        """
        CREATE TABLE warming_group_members (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
          group_id uuid NOT NULL REFERENCES warming_groups(id) ON DELETE CASCADE,
          number_id uuid NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
          admin boolean NOT NULL,
          joined_at timestamptz,
          left_at timestamptz,
          CONSTRAINT uq_warming_group_members UNIQUE (group_id, number_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_warming_group_members_tenant_id ON warming_group_members (tenant_id)")
    op.execute("CREATE INDEX ix_warming_group_members_number_id ON warming_group_members (number_id)")
    for table in NEW_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")

    op.execute("ALTER TABLE messages ADD COLUMN kind message_kind NOT NULL DEFAULT 'text'")
    op.execute("ALTER TABLE messages ADD COLUMN media_id uuid REFERENCES media_assets(id) ON DELETE SET NULL")
    op.execute("ALTER TABLE messages ADD COLUMN group_id uuid REFERENCES warming_groups(id) ON DELETE SET NULL")
    op.execute("ALTER TABLE messages ADD COLUMN ref_wa_msg_id varchar(128)")
    op.execute("ALTER TABLE messages ADD COLUMN cap_weight double precision NOT NULL DEFAULT 1")
    op.execute("CREATE INDEX ix_messages_group_id ON messages (group_id)")
    op.execute(
        "CREATE UNIQUE INDEX uq_messages_media_partner ON messages "
        "(from_number_id, COALESCE(group_id, to_number_id), media_id) "
        "WHERE media_id IS NOT NULL AND direction = 'out' AND kind <> 'status'"
    )
    op.execute("ALTER TABLE personas ADD COLUMN habits jsonb NOT NULL DEFAULT '{}'::jsonb")
    op.execute("ALTER TABLE settings_tenant ADD COLUMN actions jsonb NOT NULL DEFAULT '{}'::jsonb")
    op.execute("ALTER TABLE settings_conversation ADD COLUMN actions jsonb NOT NULL DEFAULT '{}'::jsonb")


def downgrade() -> None:
    for column in ("kind", "media_id", "group_id", "ref_wa_msg_id", "cap_weight"):
        op.execute(f"ALTER TABLE messages DROP COLUMN IF EXISTS {column}")
    op.execute("ALTER TABLE personas DROP COLUMN habits")
    op.execute("ALTER TABLE settings_tenant DROP COLUMN actions")
    op.execute("ALTER TABLE settings_conversation DROP COLUMN actions")
    for table in reversed(NEW_TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TYPE group_state")
    op.execute("DROP TYPE media_kind")
    op.execute("DROP TYPE message_kind")
    # PostgreSQL cannot drop one value of an enum: rebuild conversation_mode without 'group'.
    op.execute("UPDATE conversations SET mode = 'random' WHERE mode = 'group'")
    op.execute("ALTER TYPE conversation_mode RENAME TO conversation_mode_old")
    op.execute("CREATE TYPE conversation_mode AS ENUM ('pair', 'round_robin', 'random')")
    op.execute("ALTER TABLE conversations ALTER COLUMN mode DROP DEFAULT")
    op.execute(
        "ALTER TABLE conversations ALTER COLUMN mode TYPE conversation_mode USING mode::text::conversation_mode"
    )
    op.execute("ALTER TABLE conversations ALTER COLUMN mode SET DEFAULT 'pair'")
    op.execute("DROP TYPE conversation_mode_old")
