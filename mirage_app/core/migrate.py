"""Apply migrations once, under a lock, and provision the application role."""

from __future__ import annotations

from alembic.config import Config
from psycopg import sql
from sqlalchemy import create_engine, pool, text

from alembic import command
from mirage_app.core.config import APP_DB_ROLE, PROJECT_ROOT, get_settings

# Any constant works; all Mirage processes agree on it so only one migrates at a time.
MIGRATION_LOCK_KEY = 7_300_411_001


def alembic_config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return cfg


def upgrade(revision: str = "head", *, admin_url: str | None = None) -> None:
    """Migrate under a PostgreSQL advisory lock; concurrent callers wait, then find nothing to do."""
    settings = get_settings()
    engine = create_engine(admin_url or settings.resolved_database_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        conn.commit()
        try:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
            if not settings.app_database_url:
                _provision_app_role(conn, settings.app_role_password())
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
    engine.dispose()


def downgrade(revision: str, *, admin_url: str | None = None) -> None:
    engine = create_engine(admin_url or get_settings().resolved_database_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()
    engine.dispose()


def _provision_app_role(conn, password: str) -> None:
    """Give the application role a login with a password derived from MIRAGE_SECRET_KEY."""
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_DB_ROLE}).scalar()
    if not exists:
        return
    raw = conn.connection.driver_connection
    raw.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(APP_DB_ROLE), sql.Literal(password)))
    conn.commit()
