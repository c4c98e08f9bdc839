"""The application role's connections keep their prepared statements across rollbacks (core.db.AppConnection).

Most transactions end in a rollback (reads, and SQLAlchemy's reset of every pooled connection); with psycopg's
stock behaviour each one discarded the prepared statements, so no query was ever prepared and PostgreSQL planned
every call again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mirage_app.core.db import AppConnection, app_engine, tenant_connection, tenant_session
from mirage_app.models import Persona

QUERY = "SELECT count(*) FROM numbers WHERE label = :label"


def _prepared(conn) -> list[str]:
    return list(conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars())


def test_statements_stay_prepared_across_rollbacks(tenant_a):
    with app_engine().connect() as conn:
        assert isinstance(conn.connection.dbapi_connection, AppConnection)
        for _ in range(8):  # psycopg prepares a statement on its 6th execution (prepare_threshold = 5)
            conn.execute(text(QUERY), {"label": "x"}).scalar()
            conn.rollback()
        statements = _prepared(conn)
    assert any("FROM numbers WHERE label" in s for s in statements), statements


def test_tenant_sessions_reuse_prepared_plans(tenant_a):
    """The pattern of every read: a tenant session that ends without commit (a rollback) on a pooled connection."""
    for _ in range(12):
        with tenant_session(tenant_a) as s:
            s.execute(text(QUERY), {"label": "x"}).scalar()
    with app_engine().connect() as conn:
        statements = _prepared(conn)
    assert any("FROM numbers WHERE label" in s for s in statements), statements


def test_a_tenant_transaction_opens_pinned(tenant_a):
    """BEGIN and the tenant pin go as one round trip (core.db.begin_pinned), in a session and on the engine's path."""
    with tenant_session(tenant_a) as s:
        assert s.execute(text("SELECT current_setting('app.tenant_id')")).scalar() == str(tenant_a)
        s.commit()
        assert s.execute(text("SELECT current_setting('app.tenant_id')")).scalar() == str(tenant_a)
    with app_engine().connect() as conn, tenant_connection(conn, tenant_a) as pinned:
        assert pinned.execute("SELECT current_setting('app.tenant_id')").scalar() == str(tenant_a)
        pinned.rollback()  # the next transaction is pinned anew
        assert pinned.execute("SELECT current_setting('app.tenant_id')").scalar() == str(tenant_a)


def test_rollback_of_a_failed_transaction_leaves_the_connection_usable(tenant_a):
    with app_engine().connect() as conn:
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT 1 / 0"))
        conn.rollback()
        assert conn.execute(text("SELECT 41 + 1")).scalar() == 42
        conn.rollback()


def test_rollback_undoes_writes_and_the_tenant_pin(tenant_a):
    with tenant_session(tenant_a) as s:
        s.add(Persona(tenant_id=tenant_a, name="Rolled back"))
        s.flush()
        s.rollback()
        assert s.execute(text("SELECT count(*) FROM personas WHERE name = 'Rolled back'")).scalar() == 0
    with app_engine().connect() as conn:
        assert conn.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() in (None, "")
        conn.rollback()
