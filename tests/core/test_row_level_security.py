"""Tenant isolation holds in the database itself, even when a query forgets its filter."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlmodel import func, select

from mirage_app.core.config import get_settings
from mirage_app.core.db import system_session, tenant_session
from mirage_app.models import TENANT_TABLES, Persona, Tenant


def _add_persona(tenant_id: uuid.UUID, name: str) -> uuid.UUID:
    with tenant_session(tenant_id) as s:
        persona = Persona(tenant_id=tenant_id, name=name)
        s.add(persona)
        s.commit()
        return persona.id


def test_every_tenant_table_has_forced_rls(services):
    with psycopg.connect(services.admin_url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace AND relname <> 'alembic_version'"
        ).fetchall()
    flags = {name: (enabled, forced) for name, enabled, forced in rows}
    assert set(TENANT_TABLES) | {"tenants"} == set(flags)
    assert all(enabled and forced for enabled, forced in flags.values()), flags


def test_every_partition_has_forced_rls_and_is_out_of_the_app_roles_reach(services):
    """Partitions (alembic 0020, 0027) are reached through their parent, whose policy applies; each carries the policy
    too, and the application role cannot name one (no USAGE on their schema)."""
    with psycopg.connect(services.admin_url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation') "
            "FROM pg_class c WHERE c.relispartition AND c.relkind = 'r'"
        ).fetchall()
    assert {name for name, *_ in rows} >= {"webhook_events_default", "messages_default"}
    assert any(name.startswith("messages_p") for name, *_ in rows)
    assert all(enabled and forced and policy for _, enabled, forced, policy in rows), rows
    with psycopg.connect(get_settings().resolved_app_database_url().replace("+psycopg", "")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM mirage_partitions.webhook_events_default")


def test_query_without_where_sees_only_own_tenant(tenant_a, tenant_b):
    _add_persona(tenant_a, "Ana")
    _add_persona(tenant_b, "Bruno")
    with tenant_session(tenant_a) as s:
        names = s.exec(select(Persona.name)).all()  # deliberately no WHERE tenant_id = ...
        tenants = s.exec(select(Tenant.id)).all()
    assert names == ["Ana"]
    assert tenants == [tenant_a]


def test_session_without_tenant_sees_nothing(tenant_a):
    _add_persona(tenant_a, "Ana")
    with system_session() as s:
        assert s.exec(select(func.count()).select_from(Persona)).one() == 0
        assert s.exec(select(func.count()).select_from(Tenant)).one() == 0


def test_insert_for_another_tenant_is_rejected(tenant_a, tenant_b):
    with tenant_session(tenant_a) as s:
        s.add(Persona(tenant_id=tenant_b, name="Intruder"))
        with pytest.raises(ProgrammingError, match="row-level security"):
            s.commit()
    with tenant_session(tenant_b) as s:
        assert s.exec(select(Persona).where(Persona.name == "Intruder")).first() is None


def test_moving_a_row_to_another_tenant_is_rejected(tenant_a, tenant_b):
    persona_id = _add_persona(tenant_a, "Ana")
    with tenant_session(tenant_a) as s:
        with pytest.raises(ProgrammingError, match="row-level security"):
            s.execute(text("UPDATE personas SET tenant_id = :b WHERE id = :id"), {"b": tenant_b, "id": persona_id})
            s.commit()


def test_updates_and_deletes_cannot_reach_other_tenant(tenant_a, tenant_b):
    other = _add_persona(tenant_b, "Bruno")
    with tenant_session(tenant_a) as s:
        assert s.execute(text("UPDATE personas SET name = 'hacked'")).rowcount == 0
        assert s.execute(text("DELETE FROM personas")).rowcount == 0
        s.commit()
    with tenant_session(tenant_b) as s:
        assert s.get(Persona, other).name == "Bruno"


def test_tenant_setting_does_not_leak_through_the_pool(tenant_a):
    _add_persona(tenant_a, "Ana")
    for _ in range(5):
        with tenant_session(tenant_a) as s:
            assert s.exec(select(func.count()).select_from(Persona)).one() == 1
            s.commit()
        with system_session() as s:
            assert s.exec(select(func.count()).select_from(Persona)).one() == 0


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE personas DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE personas NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON personas",
        "SET ROLE postgres",
        "ALTER ROLE mirage_app BYPASSRLS",
        "TRUNCATE message_rollups",
        "INSERT INTO message_rollups VALUES (gen_random_uuid(), current_date, 0, gen_random_uuid(), "
        "gen_random_uuid(), 'out', gen_random_uuid(), 1, 0, 0, 0)",
        "DELETE FROM message_fact_changes",
        "ALTER TABLE message_rollups DISABLE ROW LEVEL SECURITY",
    ],
)
def test_application_role_cannot_escape_rls(services, statement):
    with psycopg.connect(get_settings().resolved_app_database_url().replace("+psycopg", "")) as conn:
        with pytest.raises(psycopg.Error):
            conn.execute(statement)


def test_row_security_off_fails_instead_of_bypassing(tenant_a):
    _add_persona(tenant_a, "Ana")
    with tenant_session(tenant_a) as s:
        s.execute(text("SET LOCAL row_security = off"))
        with pytest.raises(DBAPIError, match="row-level security"):
            s.execute(text("SELECT count(*) FROM personas")).scalar()


def test_application_role_has_no_bypass(services):
    with system_session() as s:
        row = s.execute(
            text("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert tuple(row) == (False, False, False)


def test_metric_rollups_are_tenant_filtered(tenant_a, tenant_b):
    """Each tenant reads only its own rollups and pending changes, before and after a rollup step."""
    from mirage_app.models import Message, MessageDirection, MessageStatus, Number
    from mirage_app.services.metric_rollups import advance_all

    for tenant in (tenant_a, tenant_b):
        with tenant_session(tenant) as s:
            number = Number(tenant_id=tenant, session_id=f"n-{uuid.uuid4().hex[:8]}", label="n")
            s.add(number)
            s.flush()
            s.add(
                Message(
                    tenant_id=tenant,
                    from_number_id=number.id,
                    direction=MessageDirection.outbound,
                    body="oi",
                    status=MessageStatus.sent,
                )
            )
            s.commit()
    with tenant_session(tenant_a) as s:
        pending = s.execute(text("SELECT DISTINCT tenant_id FROM message_fact_changes")).all()
    assert [r.tenant_id for r in pending] == [tenant_a]
    advance_all()
    with tenant_session(tenant_a) as s:
        rows = s.execute(text("SELECT DISTINCT tenant_id FROM message_rollups")).all()
    assert [r.tenant_id for r in rows] == [tenant_a]
    with system_session() as s:
        assert s.execute(text("SELECT count(*) FROM message_rollups")).scalar() == 0


# What only the platform operator decides (issue 18): a tenant's own session cannot write it, whatever the query.
PLATFORM_ONLY_WRITES = [
    "UPDATE tenants SET plan = 'enterprise'",
    "UPDATE tenants SET suspended_at = NULL, suspended_reason = NULL",
    "UPDATE users SET is_platform_operator = true",
    "INSERT INTO plan_limits (tenant_id, numbers) VALUES (CAST(current_setting('app.tenant_id') AS uuid), 999)",
    "UPDATE plan_limits SET numbers = 999",
    "DELETE FROM plan_limits",
    "INSERT INTO users (id, tenant_id, email, role, password_hash, display_name, is_active, is_platform_operator, "
    "failed_logins, mfa_enabled, created_at) VALUES (gen_random_uuid(), CAST(current_setting('app.tenant_id') AS uuid),"
    " 'sneaky@example.com', 'admin', 'x', 'x', true, true, 0, false, now())",
]


@pytest.mark.parametrize("statement", PLATFORM_ONLY_WRITES)
def test_a_tenant_cannot_write_what_the_platform_decides(tenant_a, statement):
    with tenant_session(tenant_a) as s:
        with pytest.raises(DBAPIError, match=r"permission denied|only the platform"):
            s.execute(text(statement))


def test_a_tenant_still_writes_its_own_settings(tenant_a):
    with tenant_session(tenant_a) as s:
        s.execute(text("UPDATE tenants SET timezone = 'America/Manaus', locale = 'en', updated_at = now()"))
        s.execute(text("UPDATE users SET display_name = display_name"))
        assert s.execute(text("SELECT timezone FROM tenants")).scalar() == "America/Manaus"
