"""Many Evolution servers: a table of servers with capacity, state and health; every number placed on one.

- `evolution_servers`: platform servers (`tenant_id` NULL, offered to every tenant) and a tenant's own. Row-level
  security lets a tenant read platform servers and its own, and write only its own.
- `evolution_server_keys`: each server's global API key (Fernet), apart, so that no tenant reads a platform key;
  the engine reads keys through `mirage_evolution_credentials` (platform servers and the caller's own only).
- `numbers.server_id`: where the number's session lives (sticky). Existing sessions become platform servers by
  their `base_url` (the key is filled in at start from EVOLUTION_API_KEY), and `sessions.base_url` goes: the
  server row is the one place that says where a session is.
- `mirage_evolution_place`: picks the least loaded eligible server with free capacity under a transaction
  advisory lock, so concurrent creations never overfill a server (the caller inserts the number in the same
  transaction). Counting needs every tenant's numbers, hence SECURITY DEFINER; it returns an id only.
- `mirage_evolution_loads`, `mirage_evolution_probe_targets`, `mirage_evolution_record_probe`: numbers per server
  across tenants, and the periodic health probe's reads and writes.
- `mirage_evolution_server_stats`: every server's state, health and load for the Prometheus exposition (the
  installation's operator's view; names and counts, no tenant data).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APP_ROLE = "mirage_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
PLACEMENT_LOCK = 7_300_420
HELD = "('unreachable', 'license_required', 'unauthorized')"

VISIBLE = f"(s.tenant_id IS NULL OR s.tenant_id = {CURRENT_TENANT})"

SQL_FUNCTIONS = {
    "mirage_evolution_credentials(p_server uuid)": (
        "TABLE(base_url text, api_key_enc text)",
        "SELECT s.base_url, k.api_key_enc FROM evolution_servers s JOIN evolution_server_keys k "
        f"ON k.server_id = s.id WHERE s.id = p_server AND {VISIBLE}",
    ),
    "mirage_evolution_loads()": (
        "TABLE(server_id uuid, placed bigint)",
        "SELECT s.id, (SELECT count(*) FROM numbers n WHERE n.server_id = s.id) FROM evolution_servers s "
        f"WHERE {VISIBLE}",
    ),
    "mirage_evolution_server_stats()": (
        "TABLE(server_id uuid, name text, owner text, state text, health text, capacity integer, placed bigint, "
        "latency_ms integer)",
        "SELECT s.id, s.name, CASE WHEN s.tenant_id IS NULL THEN 'platform' ELSE 'tenant' END, s.state, s.health, "
        "s.capacity, (SELECT count(*) FROM numbers n WHERE n.server_id = s.id), s.latency_ms "
        "FROM evolution_servers s ORDER BY s.created_at",
    ),
    "mirage_evolution_probe_targets()": (
        "TABLE(server_id uuid, base_url text, api_key_enc text, health text)",
        "SELECT s.id, s.base_url, k.api_key_enc, s.health FROM evolution_servers s "
        "LEFT JOIN evolution_server_keys k ON k.server_id = s.id WHERE s.state <> 'disabled' ORDER BY s.created_at",
    ),
}

PLACE = f"""
CREATE FUNCTION mirage_evolution_place(p_only uuid, p_exclude uuid) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE chosen uuid;
BEGIN
  PERFORM pg_advisory_xact_lock({PLACEMENT_LOCK});
  SELECT s.id INTO chosen
  FROM evolution_servers s
  JOIN evolution_server_keys k ON k.server_id = s.id
  CROSS JOIN LATERAL (SELECT count(*) AS placed FROM numbers n WHERE n.server_id = s.id) l
  WHERE {VISIBLE} AND s.state = 'active' AND s.health NOT IN {HELD}
    AND l.placed < s.capacity
    AND (p_only IS NULL OR s.id = p_only)
    AND (p_exclude IS NULL OR s.id <> p_exclude)
  ORDER BY (s.tenant_id IS NULL), l.placed::float / s.capacity, l.placed, s.created_at
  LIMIT 1;
  RETURN chosen;
END $$
"""

RECORD_PROBE = f"""
CREATE FUNCTION mirage_evolution_record_probe(
  p_server uuid, p_health text, p_latency_ms integer, p_version text, p_error text, p_at timestamptz
) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE previous text;
BEGIN
  SELECT health INTO previous FROM evolution_servers WHERE id = p_server FOR UPDATE;
  UPDATE evolution_servers SET
    health = p_health,
    health_since = CASE WHEN health IS DISTINCT FROM p_health OR health_since IS NULL THEN p_at ELSE health_since END,
    last_probe_at = p_at, latency_ms = p_latency_ms, version = COALESCE(p_version, version), last_error = p_error
  WHERE id = p_server;
  RETURN previous;
END $$
"""

FUNCTION_SIGNATURES = [
    *SQL_FUNCTIONS,
    "mirage_evolution_place(p_only uuid, p_exclude uuid)",
    "mirage_evolution_record_probe(p_server uuid, p_health text, p_latency_ms integer, p_version text, "
    "p_error text, p_at timestamptz)",
]


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE evolution_servers (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
          name varchar(120) NOT NULL,
          base_url varchar(500) NOT NULL,
          capacity integer NOT NULL DEFAULT 70,
          state varchar(20) NOT NULL DEFAULT 'active',
          is_default boolean NOT NULL DEFAULT false,
          health varchar(20) NOT NULL DEFAULT 'unknown',
          health_since timestamptz,
          last_probe_at timestamptz,
          latency_ms integer,
          version varchar(40),
          last_error varchar(500),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz,
          CONSTRAINT evolution_servers_base_url_key UNIQUE (base_url),
          CONSTRAINT ck_evolution_servers_capacity CHECK (capacity >= 1 AND capacity <= 100000),
          CONSTRAINT ck_evolution_servers_state CHECK (state IN ('active', 'draining', 'disabled')),
          CONSTRAINT ck_evolution_servers_health CHECK (health IN ('unknown', 'ok', 'unreachable',
            'license_required', 'unauthorized', 'not_evolution')),
          CONSTRAINT ck_evolution_servers_default CHECK (NOT is_default OR tenant_id IS NULL)
        )
        """
    )
    op.execute("CREATE INDEX ix_evolution_servers_tenant_id ON evolution_servers (tenant_id)")
    op.execute("CREATE UNIQUE INDEX uq_evolution_servers_default ON evolution_servers (is_default) WHERE is_default")
    op.execute(
        """
        CREATE TABLE evolution_server_keys (
          server_id uuid PRIMARY KEY REFERENCES evolution_servers(id) ON DELETE CASCADE,
          tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
          api_key_enc varchar NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("ALTER TABLE numbers ADD COLUMN server_id uuid REFERENCES evolution_servers(id) ON DELETE RESTRICT")
    op.execute("CREATE INDEX ix_numbers_server_id ON numbers (server_id)")

    # Sessions made before this revision: one platform server per base URL they used.
    op.execute(
        """
        INSERT INTO evolution_servers (name, base_url, capacity)
        SELECT 'Evolution ' || row_number() OVER (ORDER BY min(se.created_at)), se.base_url, GREATEST(70, count(*))
        FROM sessions se WHERE se.base_url <> '' GROUP BY se.base_url
        """
    )
    op.execute(
        "UPDATE numbers n SET server_id = es.id FROM sessions se JOIN evolution_servers es "
        "ON es.base_url = se.base_url WHERE se.number_id = n.id"
    )
    op.execute("ALTER TABLE sessions DROP COLUMN base_url")

    for table in ("evolution_servers", "evolution_server_keys"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
        own = f"tenant_id = {CURRENT_TENANT}"
        op.execute(f"CREATE POLICY tenant_write ON {table} FOR INSERT WITH CHECK ({own})")
        op.execute(f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING ({own}) WITH CHECK ({own})")
        op.execute(f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING ({own})")
    op.execute(
        f"CREATE POLICY tenant_read ON evolution_servers FOR SELECT USING (tenant_id IS NULL OR tenant_id = "
        f"{CURRENT_TENANT})"
    )
    op.execute(f"CREATE POLICY tenant_read ON evolution_server_keys FOR SELECT USING (tenant_id = {CURRENT_TENANT})")

    for signature, (returns, body) in SQL_FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE SECURITY DEFINER "
            f"SET search_path = public, pg_temp AS $$ {body} $$"
        )
    op.execute(PLACE)
    op.execute(RECORD_PROBE)
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("ALTER TABLE sessions ADD COLUMN base_url varchar(500) NOT NULL DEFAULT ''")
    op.execute(
        "UPDATE sessions se SET base_url = es.base_url FROM numbers n JOIN evolution_servers es "
        "ON es.id = n.server_id WHERE n.id = se.number_id"
    )
    op.execute("ALTER TABLE sessions ALTER COLUMN base_url DROP DEFAULT")
    op.execute("ALTER TABLE numbers DROP COLUMN server_id")
    op.execute("DROP TABLE evolution_server_keys")
    op.execute("DROP TABLE evolution_servers")
