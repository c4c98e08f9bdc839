"""Tenants as a product: the platform operator creates a tenant (its first admin by invitation), suspends it (no
sign-in, API keys 403, webhooks still stored) and resumes it; tenant admins never reach platform actions."""

from __future__ import annotations

import json
import threading
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mirage_app.api.app import api, asgi
from mirage_app.base.errors import Conflict, NotFound, PermissionDenied, TenantSuspended, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.security import hash_token
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.models import EvolutionSession, Number, NumberStatus, UserRole
from mirage_app.services import api_keys, auth, platform, users
from mirage_app.services.seed import DEFAULT_TENANT_ID, ensure_default_tenant
from tests.services.conftest import PASSWORD, unique_email


@pytest.fixture
def operator(services) -> Actor:
    """The platform operator as a signed-in session with MFA resolves it (the default tenant's first admin)."""
    ensure_default_tenant()
    return Actor(
        tenant_id=DEFAULT_TENANT_ID,
        role=UserRole.admin,
        label="admin@mirage.local",
        user_id=uuid.uuid4(),
        mfa_enabled=True,
        platform_operator=True,
    )


def _token(created: platform.CreatedTenant) -> str:
    return created.invitation.accept_path.rsplit("/", 1)[1]


def _webhook(name: str, secret: str, key_id: str):
    body = {
        "event": "messages.upsert",
        "instance": name,
        "data": {
            "key": {"remoteJid": "5511966665555@s.whatsapp.net", "fromMe": False, "id": key_id},
            "pushName": "Maria",
            "message": {"conversation": "Oi"},
            "messageType": "conversation",
            "messageTimestamp": 1772167051,
        },
        "date_time": "2026-11-25T14:06:03.002Z",
    }
    return TestClient(asgi).post(
        "/api/webhooks/evolution",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", SECRET_HEADER: secret},
    )


def _connected_number(tenant) -> tuple[str, str]:
    name, secret = f"mrg-plat-{uuid.uuid4().hex[:8]}", f"secret-{uuid.uuid4().hex}"
    with tenant_session(tenant) as s:
        number = Number(tenant_id=tenant, session_id=name, label="A", status=NumberStatus.connected,
                        wa_number="+5511988880001")  # fmt: skip
        s.add(number)
        s.flush()
        s.add(EvolutionSession(tenant_id=tenant, number_id=number.id, webhook_secret_hash=hash_token(secret)))
        s.commit()
    return name, secret


def _count(tenant, sql: str) -> int:
    with tenant_session(tenant) as s:
        return s.execute(text(sql)).scalar()


def test_tenant_lifecycle_create_invite_sign_in_suspend_resume(operator):
    email = unique_email("first-admin")
    created = platform.create_tenant(operator, "Acme Vendas", email, plan="pro")
    assert created.invitation.invitation.role == "admin" and created.invitation.invitation.email == email
    preview = users.describe_invitation(_token(created))
    assert preview.tenant_name == "Acme Vendas"
    accepted = users.accept_invitation(_token(created), PASSWORD, "en", "Ana")
    tenant = created.tenant_id
    assert accepted.actor.tenant_id == tenant and accepted.actor.role == UserRole.admin
    assert not accepted.actor.platform_operator
    signed_in = auth.login(email, PASSWORD)
    assert auth.resolve_session(signed_in.session_token) is not None
    _, key = api_keys.create_key(Actor(tenant_id=tenant, role=UserRole.admin, label=email, mfa_enabled=True), "k")
    keyed = TestClient(api, headers={"Authorization": f"Bearer {key}"})
    assert keyed.get("/api/me").status_code == 200
    name, secret = _connected_number(tenant)

    row = next(t for t in platform.list_tenants(operator) if t.id == tenant)
    assert (row.name, row.plan, row.status) == ("Acme Vendas", "pro", "active")
    assert {u.kind: (u.used, u.limit) for u in row.uses}["users"] == (1, 20)

    platform.suspend(operator, tenant, "invoice overdue")
    with pytest.raises(TenantSuspended) as refused:
        auth.login(email, PASSWORD)
    assert refused.value.status == 403 and "invoice overdue" in refused.value.message
    assert auth.resolve_session(signed_in.session_token) is None  # the open session stops working at once
    answer = keyed.get("/api/me")
    assert answer.status_code == 403
    assert answer.json()["error"] == "tenant.suspended" and "invoice overdue" in answer.json()["detail"]
    assert _webhook(name, secret, "SUSP-1").status_code == 200  # webhooks are still stored: nothing is lost
    assert _count(tenant, "SELECT count(*) FROM webhook_events") >= 1
    assert platform.get_tenant(operator, tenant).status == "suspended"
    with pytest.raises(Conflict):
        platform.suspend(operator, tenant, "again")

    platform.resume(operator, tenant)
    assert auth.resolve_session(signed_in.session_token) is not None
    assert auth.login(email, PASSWORD).session_token
    assert keyed.get("/api/me").status_code == 200
    with tenant_session(tenant) as s:
        sql = "SELECT action, actor FROM audit_log WHERE action LIKE 'platform.%' ORDER BY at"
        actions = s.execute(text(sql)).all()
    assert [a.action for a in actions] == [
        "platform.tenant_created",
        "platform.tenant_suspended",
        "platform.tenant_resumed",
    ]
    assert all(a.actor == "platform:admin@mirage.local" for a in actions)


def test_a_suspended_tenants_invitation_cannot_be_accepted(operator):
    created = platform.create_tenant(operator, "Beta", unique_email("beta"))
    platform.suspend(operator, created.tenant_id, "trial over")
    with pytest.raises(TenantSuspended):
        users.accept_invitation(_token(created), PASSWORD, "pt-BR")
    platform.resume(operator, created.tenant_id)
    assert users.accept_invitation(_token(created), PASSWORD, "pt-BR").actor.tenant_id == created.tenant_id


def test_a_tenant_admin_never_reaches_platform_actions(operator, admin_actor, tenant_b):
    person = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.admin, label="boss@a", user_id=uuid.uuid4(),
                   mfa_enabled=True)  # fmt: skip
    calls = [
        lambda a: platform.list_tenants(a),
        lambda a: platform.create_tenant(a, "Evil", unique_email("evil")),
        lambda a: platform.suspend(a, tenant_b, "x"),
        lambda a: platform.resume(a, tenant_b),
        lambda a: platform.change_plan(a, tenant_b, "enterprise"),
        lambda a: platform.set_overrides(a, tenant_b, {"numbers": 999}),
        lambda a: platform.plan_defaults(a),
        lambda a: platform.set_plan_defaults(a, "free", {"numbers": 999}),
    ]
    for call in calls:
        for who in (admin_actor, person):
            with pytest.raises(PermissionDenied) as denied:
                call(who)
            assert denied.value.reason == "platform"
    without_mfa = Actor(**{**operator.__dict__, "mfa_enabled": False})
    with pytest.raises(PermissionDenied) as denied:
        platform.list_tenants(without_mfa)
    assert denied.value.reason == "mfa_required"


def test_the_operators_own_tenant_cannot_be_suspended(operator):
    with tenant_session(DEFAULT_TENANT_ID, engine=admin_engine()) as s:  # only the owner may make an operator
        s.execute(text("UPDATE users SET is_platform_operator = true WHERE email = 'admin@mirage.local'"))
        s.commit()
    assert platform.get_tenant(operator, DEFAULT_TENANT_ID).holds_operator  # the page offers no Suspend there
    with pytest.raises(Conflict) as info:
        platform.suspend(operator, DEFAULT_TENANT_ID, "oops")
    assert info.value.code == "platform.operator_tenant"


def test_create_refuses_a_taken_email_and_a_bad_plan(operator):
    email = unique_email("taken")
    users.accept_invitation(_token(platform.create_tenant(operator, "One", email)), PASSWORD, "en")
    with pytest.raises(Conflict) as taken:
        platform.create_tenant(operator, "Two", email)
    assert taken.value.field == "admin_email"
    with pytest.raises(ValidationFailed):
        platform.create_tenant(operator, "Three", unique_email("x"), plan="gold")
    with pytest.raises(ValidationFailed):
        platform.suspend(operator, platform.create_tenant(operator, "Four", unique_email("y")).tenant_id, " ")


def test_the_seeded_admin_is_the_platform_operator(services):
    ensure_default_tenant()
    with tenant_session(DEFAULT_TENANT_ID) as s:
        sql = (
            "SELECT u.is_platform_operator, t.plan::text AS plan FROM users u JOIN tenants t ON t.id = u.tenant_id "
            "WHERE u.email = 'admin@mirage.local'"
        )
        row = s.execute(text(sql)).one()
    assert row.is_platform_operator and row.plan == "enterprise"


def test_platform_writes_reach_only_the_tenant_named(operator, tenant_a, tenant_b):
    """The platform writes on the owner's connection, which row-level security may not filter: each statement
    names its tenant, so acting on one tenant leaves every other as it was."""

    def state(tenant):
        with tenant_session(tenant) as s:
            row = s.execute(text("SELECT plan::text AS plan, suspended_at FROM tenants")).one()
            limits = s.execute(text("SELECT numbers FROM plan_limits WHERE tenant_id IS NOT NULL")).scalar()
        return row.plan, row.suspended_at, limits

    platform.set_overrides(operator, tenant_b, {"numbers": 9})
    untouched = state(tenant_b)
    platform.change_plan(operator, tenant_a, "pro")
    platform.set_overrides(operator, tenant_a, {"numbers": 4})
    platform.suspend(operator, tenant_a, "teste")
    assert state(tenant_a)[0::2] == ("pro", 4) and state(tenant_a)[1] is not None
    assert state(tenant_b) == untouched
    assert platform.get_tenant(operator, tenant_a).overrides["numbers"] == 4
    platform.resume(operator, tenant_a)
    assert state(tenant_a)[1] is None and state(tenant_b) == untouched


def test_a_tenant_is_created_whole_or_not_at_all(operator, services):
    """Its first admin's invitation failing (a database refusal, made here by a trigger) leaves no tenant behind."""
    email = unique_email("half")
    owner = services.admin_url.replace("+psycopg", "")
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION test_refuse_invitation() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'refused for the test'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER test_refuse_invitation BEFORE INSERT ON invitations FOR EACH ROW "
            f"WHEN (NEW.email = '{email}') EXECUTE FUNCTION test_refuse_invitation()"
        )
    name = f"Half {uuid.uuid4().hex[:6]}"
    try:
        with pytest.raises(DBAPIError, match="refused for the test"):
            platform.create_tenant(operator, name, email)
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute("DROP TRIGGER test_refuse_invitation ON invitations")
            conn.execute("DROP FUNCTION test_refuse_invitation()")
    assert [t for t in platform.list_tenants(operator) if t.name == name] == []


def test_create_refuses_an_unknown_timezone(operator):
    name = f"Mars {uuid.uuid4().hex[:6]}"
    with pytest.raises(ValidationFailed) as bad:
        platform.create_tenant(operator, name, unique_email("tz"), timezone="Mars/Olympus_Mons")
    assert (bad.value.code, bad.value.field) == ("settings.timezone_invalid", "timezone")
    assert [t for t in platform.list_tenants(operator) if t.name == name] == []


GONE_TENANT_CHANGES = {
    "suspend": lambda op, tenant: platform.suspend(op, tenant, "unpaid"),
    "resume": lambda op, tenant: platform.resume(op, tenant),
    "change_plan": lambda op, tenant: platform.change_plan(op, tenant, "pro"),
    "set_overrides": lambda op, tenant: platform.set_overrides(op, tenant, {"numbers": 3}),
}


@pytest.mark.parametrize("change", sorted(GONE_TENANT_CHANGES))
def test_a_tenant_gone_while_it_is_changed_is_not_found(operator, services, change):
    """The tenant is deleted by another transaction while the change waits for its row: NotFound, not a crash."""
    tenant = uuid.uuid4()
    owner = services.admin_url.replace("+psycopg", "")
    with psycopg.connect(owner) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
        conn.execute(
            "INSERT INTO tenants (id, name, timezone, locale, suspended_at) VALUES (%s, 'Gone', 'UTC', 'en', "
            + ("now()" if change == "resume" else "NULL")
            + ")",
            (tenant,),
        )
        conn.commit()
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
        conn.execute("DELETE FROM tenants WHERE id = %s", (tenant,))  # not committed yet: the row stays locked
        outcome: list[BaseException | None] = []

        def act() -> None:
            try:
                GONE_TENANT_CHANGES[change](operator, tenant)
                outcome.append(None)
            except BaseException as exc:  # whatever it raised is the verdict
                outcome.append(exc)

        worker = threading.Thread(target=act)
        worker.start()
        worker.join(timeout=1.0)  # it waits for the deleting transaction
        conn.commit()
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFound), outcome


def _held_send(tenant) -> uuid.UUID:
    """A queued send the tenant's gate held (as the send pipeline leaves it)."""
    with tenant_session(tenant) as s:
        held = s.execute(
            text(
                "INSERT INTO messages (tenant_id, direction, body, status, meta, created_at, send_after, wait_reason) "
                "VALUES (:t, 'out', 'Oi', 'queued', '{}', now(), now() + interval '5 minutes', 'emergency_stop') "
                "RETURNING id"
            ),
            {"t": tenant},
        ).scalar()
        s.commit()
    return held


def _wait_reason(tenant, message_id) -> str | None:
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT wait_reason FROM messages WHERE id = :m"), {"m": message_id}).scalar()


def test_resuming_a_tenant_releases_only_its_own_held_sends(operator, tenant_a, tenant_b, monkeypatch):
    """The release runs on the owner's connection, which row-level security does not filter. Tenant B's gate is
    open here, so only the release naming its tenant keeps B's held send where it is."""
    scheduled = []
    monkeypatch.setattr(platform.safety_stop, "schedule_released", lambda tenant, ids: scheduled.append((tenant, ids)))
    held_a, held_b = _held_send(tenant_a), _held_send(tenant_b)
    platform.suspend(operator, tenant_a, "unpaid")
    assert platform.resume(operator, tenant_a) == 1
    assert scheduled == [(tenant_a, [held_a])]
    assert _wait_reason(tenant_a, held_a) is None and _wait_reason(tenant_b, held_b) == "emergency_stop"
