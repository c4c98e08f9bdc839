"""Migrations upgrade an empty database and downgrade back to nothing."""

from __future__ import annotations

import uuid

import psycopg

from mirage_app.core import migrate


def _objects(url: str) -> set[str]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind IN ('r', 'p', 'v', 'm') UNION ALL "
            "SELECT t.typname FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'e' "
            "UNION ALL SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
        ).fetchall()
    return {r[0] for r in rows}


def test_upgrade_downgrade_upgrade_on_empty_database(services):
    name = f"mirage_updown_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    try:
        assert _objects(url) == set()
        migrate.upgrade(admin_url=url)
        created = _objects(url)
        assert {"messages", "message_rollups", "message_fact_changes", "message_status"} <= created
        assert not {"mv_stats_messages", "mv_message_facts", "message_facts"} & created
        assert "auth_user_by_email" in created
        migrate.downgrade("base", admin_url=url)
        assert _objects(url) <= {"alembic_version"}
        migrate.upgrade(admin_url=url)
        assert _objects(url) == created
    finally:
        services.drop_database(name)


def test_concurrent_upgrades_serialise(services):
    """Two processes starting at once: the advisory lock makes the second find nothing left to do."""
    from concurrent.futures import ThreadPoolExecutor

    name = f"mirage_race_{uuid.uuid4().hex[:8]}"
    url = services.create_database(name)
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda _: migrate.upgrade(admin_url=url), range(3)))
        assert "messages" in _objects(url)
    finally:
        services.drop_database(name)


def test_models_declare_what_the_migrations_create(services):
    """Alembic's own comparison finds nothing between the models and the migrated schema (Reflex runs the same
    check at start-up and warns about any difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, pool
    from sqlmodel import SQLModel

    import mirage_app.models  # noqa: F401  (registers every table)

    engine = create_engine(services.admin_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []
