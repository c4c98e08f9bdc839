"""`messages` partitioned by month (issue 17): its old months are dropped whole once every tenant's body retention
has passed them; the figures live on in the rollups.

- `messages` becomes a table partitioned by RANGE (created_at), one partition per UTC month in `mirage_partitions`
  (reached only through the parent, whose forced row-level security applies; each partition carries the same
  policy), plus a DEFAULT partition so that no insert ever fails. Existing rows get one partition per month they
  span. Each partition's primary key is `id`; the parent has none (a partitioned table's would have to hold
  created_at, and the planner takes `id = ...` to match one row only when a unique index on `id` alone says so:
  without it, every look-up of a message by id was planned as a scan of many).
- A partitioned table's unique indexes must hold the partition key, so the three uniqueness rules move to tables
  that no partition boundary splits, each under the name of the index it replaces (errors keep naming it):
  `message_wa_ids` (`uq_messages_tenant_wa_msg_id`: one row per WhatsApp message and tenant),
  `message_send_keys` (`uq_messages_send_key`: one row per round turn / outreach reply / opt-out confirmation),
  `message_media_partners` (`uq_messages_media_partner`: a number never sends the same file twice to a partner).
  `mirage_message_keys()` keeps them in step with every insert, update and delete of a message and raises
  unique_violation as the indexes did; writers that must not fail (ON CONFLICT before) claim the key first.
- `mirage_messages_horizon(p_now)`: the first day still kept (today minus the longest body retention of any
  tenant); `mirage_message_partitions_ensure(p_from, p_months)` / `mirage_message_partitions_drop(p_now)` create
  the coming months (and the month of any row the DEFAULT partition took, moving it there) and drop the months
  before the horizon, as 0020's functions do for `webhook_events`.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from sqlalchemy import text

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
PARTS = "mirage_partitions"
BODY_DAYS_DEFAULT = 365  # logic.retention.BODY_DAYS_DEFAULT
BODY_DAYS_MAX = 3650  # logic.retention.BODY_DAYS_MAX: the horizon when no tenant exists
MONTHS_AHEAD = 3

UNIQUES = ("uq_messages_tenant_wa_msg_id", "uq_messages_send_key", "uq_messages_media_partner")
# What replaces the unique indexes for look-ups (the models declare the same).
LOOKUP_INDEXES = (
    # Unique with the partition key: an upsert that has the row's created_at from message_wa_ids finds the row
    # through ON CONFLICT (tenant_id, wa_msg_id, created_at), which also sees a row committed after its snapshot.
    "CREATE UNIQUE INDEX uq_messages_tenant_wa_msg_id_created ON messages (tenant_id, wa_msg_id, created_at)",
    "CREATE INDEX ix_messages_send_key ON messages (tenant_id, send_key) WHERE send_key IS NOT NULL",
    "CREATE INDEX ix_messages_media_partner ON messages (from_number_id, COALESCE(group_id, to_number_id), media_id) "
    "WHERE media_id IS NOT NULL AND direction = 'out' AND kind <> 'status'",
)
MEDIA_RULE = "media_id IS NOT NULL AND direction = 'out' AND kind <> 'status'"

KEY_TABLES = {
    "message_wa_ids": f"""
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        wa_msg_id varchar(128) NOT NULL,
        message_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT {UNIQUES[0]} PRIMARY KEY (tenant_id, wa_msg_id)""",
    "message_send_keys": f"""
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        send_key text NOT NULL,
        message_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT {UNIQUES[1]} PRIMARY KEY (tenant_id, send_key)""",
    "message_media_partners": f"""
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        from_number_id uuid NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
        partner_id uuid NOT NULL,
        media_id uuid NOT NULL REFERENCES media_assets(id) ON DELETE CASCADE,
        message_id uuid NOT NULL,
        CONSTRAINT {UNIQUES[2]} PRIMARY KEY (from_number_id, partner_id, media_id)""",
}
# The retention job prunes the keys of dropped months by created_at. BRIN: keys arrive in time order, and a BRIN
# index costs the ingest next to nothing, where a B-tree would be one more index insert per delivery.
KEY_INDEXES = (
    "CREATE INDEX ix_message_wa_ids_created ON message_wa_ids USING brin (created_at)",
    "CREATE INDEX ix_message_send_keys_created ON message_send_keys USING brin (created_at)",
    "CREATE INDEX ix_message_media_partners_tenant ON message_media_partners (tenant_id)",
)

# One claim per rule: already held by this very message (a writer that claimed it first: the common case, one
# probe), or inserted, or a unique_violation naming the index the rule replaces (held by another message, or by a
# concurrent writer that then committed: ON CONFLICT waits for it, as the unique index did).
_CLAIM = """
    PERFORM 1 FROM {table} WHERE {match} AND message_id = NEW.id;
    IF NOT FOUND THEN
      INSERT INTO {table} ({columns}, message_id{extra_cols}) VALUES ({values}, NEW.id{extra_vals})
      ON CONFLICT DO NOTHING;
      IF NOT FOUND THEN
        RAISE unique_violation USING MESSAGE = 'duplicate key value violates unique constraint "{constraint}"',
          CONSTRAINT = '{constraint}', TABLE = 'messages', DETAIL = 'Key ({columns}) already exists.';
      END IF;
    END IF;"""
WA = {"table": "message_wa_ids", "columns": "tenant_id, wa_msg_id", "constraint": UNIQUES[0]}
SEND = {"table": "message_send_keys", "columns": "tenant_id, send_key", "constraint": UNIQUES[1]}
MEDIA = {"table": "message_media_partners", "columns": "from_number_id, partner_id, media_id", "constraint": UNIQUES[2]}


def _claim(rule: dict, values: str, match: str, dated: bool) -> str:
    extra = (", created_at", ", NEW.created_at") if dated else (", tenant_id", ", NEW.tenant_id")
    return _CLAIM.format(**rule, values=values, match=match, extra_cols=extra[0], extra_vals=extra[1])


def _media_on(row: str) -> str:
    return MEDIA_RULE.replace("media_id", f"{row}.media_id").replace("direction", f"{row}.direction").replace(
        "kind", f"{row}.kind"
    )


KEYS_FUNCTION = f"""
CREATE FUNCTION mirage_message_keys() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  old_media boolean := TG_OP <> 'INSERT' AND {_media_on("OLD")} AND OLD.from_number_id IS NOT NULL
                       AND COALESCE(OLD.group_id, OLD.to_number_id) IS NOT NULL;
  new_media boolean := TG_OP <> 'DELETE' AND {_media_on("NEW")} AND NEW.from_number_id IS NOT NULL
                       AND COALESCE(NEW.group_id, NEW.to_number_id) IS NOT NULL;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.wa_msg_id IS NOT NULL AND (TG_OP = 'DELETE' OR NEW.wa_msg_id IS DISTINCT FROM OLD.wa_msg_id) THEN
      DELETE FROM message_wa_ids WHERE tenant_id = OLD.tenant_id AND wa_msg_id = OLD.wa_msg_id AND message_id = OLD.id;
    END IF;
    IF OLD.send_key IS NOT NULL AND (TG_OP = 'DELETE' OR NEW.send_key IS DISTINCT FROM OLD.send_key) THEN
      DELETE FROM message_send_keys WHERE tenant_id = OLD.tenant_id AND send_key = OLD.send_key AND message_id = OLD.id;
    END IF;
    IF old_media AND (TG_OP = 'DELETE' OR NOT new_media OR NEW.from_number_id <> OLD.from_number_id
                      OR COALESCE(NEW.group_id, NEW.to_number_id) <> COALESCE(OLD.group_id, OLD.to_number_id)
                      OR NEW.media_id <> OLD.media_id) THEN
      DELETE FROM message_media_partners WHERE from_number_id = OLD.from_number_id
        AND partner_id = COALESCE(OLD.group_id, OLD.to_number_id) AND media_id = OLD.media_id AND message_id = OLD.id;
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN NULL;
    END IF;
  END IF;
  IF NEW.wa_msg_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.wa_msg_id IS DISTINCT FROM OLD.wa_msg_id) THEN
    {_claim(WA, "NEW.tenant_id, NEW.wa_msg_id", "tenant_id = NEW.tenant_id AND wa_msg_id = NEW.wa_msg_id", True)}
  ELSIF NEW.wa_msg_id IS NOT NULL AND NEW.created_at <> OLD.created_at THEN
    UPDATE message_wa_ids SET created_at = NEW.created_at
    WHERE tenant_id = NEW.tenant_id AND wa_msg_id = NEW.wa_msg_id AND message_id = NEW.id;
  END IF;
  IF NEW.send_key IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.send_key IS DISTINCT FROM OLD.send_key) THEN
    {_claim(SEND, "NEW.tenant_id, NEW.send_key", "tenant_id = NEW.tenant_id AND send_key = NEW.send_key", True)}
  ELSIF NEW.send_key IS NOT NULL AND NEW.created_at <> OLD.created_at THEN
    UPDATE message_send_keys SET created_at = NEW.created_at
    WHERE tenant_id = NEW.tenant_id AND send_key = NEW.send_key AND message_id = NEW.id;
  END IF;
  IF new_media AND (TG_OP = 'INSERT' OR NOT old_media OR NEW.from_number_id <> OLD.from_number_id
                    OR COALESCE(NEW.group_id, NEW.to_number_id) <> COALESCE(OLD.group_id, OLD.to_number_id)
                    OR NEW.media_id <> OLD.media_id) THEN
    {_claim(MEDIA, "NEW.from_number_id, COALESCE(NEW.group_id, NEW.to_number_id), NEW.media_id",
            "from_number_id = NEW.from_number_id AND partner_id = COALESCE(NEW.group_id, NEW.to_number_id) "
            "AND media_id = NEW.media_id", False)}
  END IF;
  RETURN NULL;
END $$
"""

# The key triggers run only when a message carries or changes a key (most updates change none).
_KEYED = "NEW.wa_msg_id IS NOT NULL OR NEW.send_key IS NOT NULL OR NEW.media_id IS NOT NULL"
_OLD_KEYED = _KEYED.replace("NEW.", "OLD.")
KEY_TRIGGERS = {
    "messages_keys_insert": f"AFTER INSERT ON messages FOR EACH ROW WHEN ({_KEYED})",
    "messages_keys_update": (
        "AFTER UPDATE ON messages FOR EACH ROW WHEN (OLD.wa_msg_id IS DISTINCT FROM NEW.wa_msg_id "
        "OR OLD.send_key IS DISTINCT FROM NEW.send_key OR OLD.media_id IS DISTINCT FROM NEW.media_id "
        "OR ((OLD.media_id IS NOT NULL OR NEW.media_id IS NOT NULL) AND (OLD.from_number_id IS DISTINCT FROM "
        "NEW.from_number_id OR OLD.to_number_id IS DISTINCT FROM NEW.to_number_id OR OLD.group_id IS DISTINCT FROM "
        "NEW.group_id OR OLD.direction IS DISTINCT FROM NEW.direction OR OLD.kind IS DISTINCT FROM NEW.kind)) "
        f"OR (OLD.created_at IS DISTINCT FROM NEW.created_at AND ({_KEYED})))"
    ),
    "messages_keys_delete": f"AFTER DELETE ON messages FOR EACH ROW WHEN ({_OLD_KEYED})",
}

QUOTED_TENANT = CURRENT_TENANT.replace("'", "''")
HORIZON = f"""
    SELECT (LEAST(p_now, now()) AT TIME ZONE 'UTC')::date
           - COALESCE(max(COALESCE(s.body_retention_days, {BODY_DAYS_DEFAULT})), {BODY_DAYS_MAX})
    FROM tenants t LEFT JOIN settings_tenant s ON s.tenant_id = t.id
"""
FUNCTIONS = {
    "mirage_messages_horizon(p_now timestamptz)": ("date", "sql STABLE", HORIZON),
    "mirage_message_partitions_ensure(p_from date, p_months integer)": (
        "integer",
        "plpgsql VOLATILE",
        f"""
        DECLARE
          m date; part text; lo timestamptz; hi timestamptz; cols text; made integer := 0;
        BEGIN
          -- The months asked for, and those of rows the DEFAULT partition took (an old message a history sync
          -- delivered, a demo's past): they get their month too, so that retention drops them with it.
          FOR m IN SELECT (date_trunc('month', p_from) + make_interval(months => i))::date
                   FROM generate_series(0, LEAST(p_months, 240) - 1) i
                   UNION
                   SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date
                   FROM {PARTS}.messages_default
                   ORDER BY 1
          LOOP
            part := 'messages_p' || to_char(m, 'YYYYMM');
            CONTINUE WHEN to_regclass('{PARTS}.' || part) IS NOT NULL;
            lo := m::timestamp AT TIME ZONE 'UTC';
            hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
            BEGIN
              -- CREATE + ATTACH rather than CREATE ... PARTITION OF: ATTACH does not lock out readers and writers.
              EXECUTE format('CREATE TABLE {PARTS}.%I (LIKE public.messages INCLUDING DEFAULTS INCLUDING GENERATED '
                             'INCLUDING CONSTRAINTS, PRIMARY KEY (id))', part);
              -- Rows the DEFAULT partition took for this month leave it and come back through the parent, so that
              -- their keys and facts triggers see a delete and an insert of the same row (net: nothing changes).
              EXECUTE format('CREATE TEMP TABLE mirage_moving ON COMMIT DROP AS WITH moved AS (DELETE FROM '
                             '{PARTS}.messages_default WHERE created_at >= %L AND created_at < %L RETURNING *) '
                             'SELECT * FROM moved', lo, hi);
              EXECUTE format('ALTER TABLE public.messages ATTACH PARTITION {PARTS}.%I '
                             'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
              SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
              WHERE attrelid = 'public.messages'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
              EXECUTE format('INSERT INTO public.messages (%s) SELECT %s FROM mirage_moving', cols, cols);
              DROP TABLE mirage_moving;
              EXECUTE format('ALTER TABLE {PARTS}.%I ENABLE ROW LEVEL SECURITY', part);
              EXECUTE format('ALTER TABLE {PARTS}.%I FORCE ROW LEVEL SECURITY', part);
              EXECUTE format('CREATE POLICY tenant_isolation ON {PARTS}.%I USING (tenant_id = {QUOTED_TENANT}) '
                             'WITH CHECK (tenant_id = {QUOTED_TENANT})', part);
              made := made + 1;
            EXCEPTION
              WHEN lock_not_available THEN
                NULL;  -- busy: the next run makes it (the job runs months ahead)
            END;
          END LOOP;
          RETURN made;
        END
        """,
    ),
    "mirage_message_partitions_drop(p_now timestamptz)": (
        "SETOF text",
        "plpgsql VOLATILE",
        f"""
        DECLARE
          horizon date := mirage_messages_horizon(p_now); r record;
        BEGIN
          FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'public.messages'::regclass AND c.relname ~ '^messages_p[0-9]{{6}}$'
          LOOP
            IF (to_date(substring(r.relname from '([0-9]{{6}})$'), 'YYYYMM') + interval '1 month')::date
               <= horizon THEN
              BEGIN
                EXECUTE format('DROP TABLE {PARTS}.%I', r.relname);
                RETURN NEXT r.relname;
              EXCEPTION WHEN lock_not_available THEN
                NULL;  -- a long reader holds the table: dropped by the next run rather than queueing writers
              END;
            END IF;
          END LOOP;
        END
        """,
    ),
}


def _protect(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )


def _definitions(conn, table: str) -> tuple[list[str], list[str], list[str]]:
    """The table's non-unique index, foreign-key and trigger definitions, as SQL that recreates them."""
    regclass = f"'{table}'::regclass"
    indexes = conn.execute(
        text(
            f"SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = {regclass} AND NOT indisunique "
            "AND NOT indisprimary"
        )
    ).scalars()
    fkeys = conn.execute(
        text(
            f"SELECT format('ALTER TABLE messages ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) "
            f"FROM pg_constraint WHERE conrelid = {regclass} AND contype = 'f'"
        )
    ).scalars()
    triggers = conn.execute(
        text(f"SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = {regclass} AND NOT tgisinternal")
    ).scalars()
    return list(indexes), list(fkeys), list(triggers)


def _columns(conn) -> str:
    """The columns a copy writes (not the generated ones)."""
    names = conn.execute(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
        )
    ).scalars()
    return ", ".join(names)


def upgrade() -> None:
    conn = op.get_bind()
    indexes, fkeys, triggers = _definitions(conn, "messages")
    columns = _columns(conn)

    # The three rules change hands: their names go to the key tables' primary keys.
    op.execute(f"ALTER TABLE messages DROP CONSTRAINT {UNIQUES[0]}")
    op.execute(f"DROP INDEX {UNIQUES[1]}")
    op.execute(f"DROP INDEX {UNIQUES[2]}")
    for table, body in KEY_TABLES.items():
        op.execute(f"CREATE TABLE {table} ({body})")
        _protect(table)
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    for statement in KEY_INDEXES:
        op.execute(statement)
    op.execute(
        "INSERT INTO message_wa_ids SELECT tenant_id, wa_msg_id, id, created_at FROM messages WHERE wa_msg_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO message_send_keys SELECT tenant_id, send_key, id, created_at FROM messages "
        "WHERE send_key IS NOT NULL"
    )
    op.execute(
        "INSERT INTO message_media_partners SELECT m.tenant_id, m.from_number_id, COALESCE(m.group_id, m.to_number_id), "
        f"m.media_id, m.id FROM messages m WHERE {MEDIA_RULE.replace('media_id', 'm.media_id')} "
        "AND m.from_number_id IS NOT NULL AND COALESCE(m.group_id, m.to_number_id) IS NOT NULL"
    )

    op.execute("ALTER TABLE messages RENAME TO messages_unpartitioned")
    op.execute(
        "CREATE TABLE messages (LIKE messages_unpartitioned INCLUDING DEFAULTS INCLUDING GENERATED "
        "INCLUDING CONSTRAINTS) PARTITION BY RANGE (created_at)"
    )
    op.execute(f"CREATE TABLE {PARTS}.messages_default PARTITION OF messages (PRIMARY KEY (id)) DEFAULT")
    for signature, (returns, language, body) in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE {language} SECURITY DEFINER "
            f"SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$ {body} $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    # Every month the existing rows span, up to the months ahead the retention job keeps making.
    op.execute(
        f"""
        SELECT mirage_message_partitions_ensure(first_month,
               ((extract(year FROM age(ahead, first_month)) * 12 + extract(month FROM age(ahead, first_month)))::int
                + 1))
        FROM (SELECT COALESCE(date_trunc('month', min(created_at) AT TIME ZONE 'UTC'),
                              date_trunc('month', now() AT TIME ZONE 'UTC'))::date AS first_month,
                     (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '{MONTHS_AHEAD - 1} months')::date
                         AS ahead
              FROM messages_unpartitioned) bounds
        """
    )
    op.execute(f"INSERT INTO messages ({columns}) SELECT {columns} FROM messages_unpartitioned")
    op.execute("DROP TABLE messages_unpartitioned")

    for statement in (*indexes, *LOOKUP_INDEXES, *fkeys):
        op.execute(statement)
    _protect("messages")
    op.execute(f"ALTER TABLE {PARTS}.messages_default ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {PARTS}.messages_default FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {PARTS}.messages_default "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON messages TO {APP_ROLE}")
    op.execute(KEYS_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION mirage_message_keys() FROM PUBLIC")
    for statement in triggers:
        op.execute(statement)
    for name, when in KEY_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION mirage_message_keys()")


def downgrade() -> None:
    conn = op.get_bind()
    indexes, fkeys, triggers = _definitions(conn, "messages")
    columns = _columns(conn)
    keyed = tuple(f"CREATE TRIGGER {name} " for name in KEY_TRIGGERS)
    lookups = ("ix_messages_send_key", "ix_messages_media_partner")
    op.execute("ALTER TABLE messages RENAME TO messages_partitioned")
    op.execute(
        "CREATE TABLE messages (LIKE messages_partitioned INCLUDING DEFAULTS INCLUDING GENERATED "
        "INCLUDING CONSTRAINTS)"
    )
    op.execute(f"INSERT INTO messages ({columns}) SELECT {columns} FROM messages_partitioned")
    op.execute("DROP TABLE messages_partitioned")
    op.execute("DROP FUNCTION mirage_message_keys()")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
    for table in reversed(KEY_TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute("ALTER TABLE messages ADD CONSTRAINT messages_pkey PRIMARY KEY (id)")
    op.execute(f"ALTER TABLE messages ADD CONSTRAINT {UNIQUES[0]} UNIQUE (tenant_id, wa_msg_id)")
    op.execute(f"CREATE UNIQUE INDEX {UNIQUES[1]} ON messages (tenant_id, send_key) WHERE send_key IS NOT NULL")
    op.execute(
        f"CREATE UNIQUE INDEX {UNIQUES[2]} ON messages (from_number_id, COALESCE(group_id, to_number_id), media_id) "
        f"WHERE {MEDIA_RULE}"
    )
    for statement in (*indexes, *fkeys):
        if not any(f" {name} " in statement for name in lookups):
            op.execute(statement)
    _protect("messages")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON messages TO {APP_ROLE}")
    for statement in triggers:
        if not statement.startswith(keyed):
            op.execute(statement)
