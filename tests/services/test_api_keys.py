"""Tenant API keys: shown once, stored hashed, last use recorded; revoked/unknown/malformed keys get 401."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from mirage_app.base.errors import AuthFailed, NotFound, ValidationFailed
from mirage_app.base.permissions import Action, can
from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_token
from mirage_app.models import ApiKey, AuditLog, UserRole
from mirage_app.services import api_keys


@pytest.fixture
def admin(tenant_a, make_user):
    return make_user(tenant_a, UserRole.admin, mfa_on=True).actor()


def _row(tenant_id, key_id) -> ApiKey:
    with tenant_session(tenant_id) as s:
        return s.get(ApiKey, key_id)


def test_create_authenticate_and_record_last_use(tenant_a, admin, clock):
    view, raw = api_keys.create_key(admin, "  CI pipeline ", clock=clock)
    assert view.name == "CI pipeline" and raw.startswith(f"mrg_{view.prefix}_") and len(view.prefix) == 8
    assert view.display == f"mrg_{view.prefix}_…"
    row = _row(tenant_a, view.id)
    assert row.key_hash == hash_token(raw) and raw not in row.key_hash
    assert row.last_used_at is None and row.created_by == admin.user_id

    actor = api_keys.authenticate(raw, "192.0.2.30", clock=clock)
    assert (actor.tenant_id, actor.api_key_id, actor.role, actor.user_id) == (
        tenant_a,
        view.id,
        UserRole.operator,
        None,
    )
    assert actor.label == f"api_key:CI pipeline#{view.prefix}" and actor.ip == "192.0.2.30"
    assert can(actor, Action.outreach_manage) and not can(actor, Action.api_keys_manage)
    assert _row(tenant_a, view.id).last_used_at == clock.now()

    first_use = clock.now()
    clock.advance(timedelta(seconds=30))
    api_keys.authenticate(raw, clock=clock)
    assert _row(tenant_a, view.id).last_used_at == first_use  # written at most once a minute
    clock.advance(timedelta(seconds=31))
    api_keys.authenticate(raw, clock=clock)
    assert _row(tenant_a, view.id).last_used_at == clock.now()

    listed = api_keys.list_keys(admin)
    assert [k.id for k in listed] == [view.id] and listed[0].last_used_at == clock.now()
    with tenant_session(tenant_a) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "api_keys.created")).one()
    assert entry.after == {"name": "CI pipeline", "prefix": view.prefix} and entry.actor == admin.label


def test_revoked_key_is_refused(tenant_a, admin, clock):
    view, raw = api_keys.create_key(admin, "temp", clock=clock)
    revoked = api_keys.revoke_key(admin, view.id, clock=clock)
    assert revoked.revoked_at == clock.now()
    assert api_keys.revoke_key(admin, view.id, clock=clock).revoked_at == clock.now()  # idempotent
    with pytest.raises(AuthFailed) as info:
        api_keys.authenticate(raw, clock=clock)
    assert info.value.code == "api_keys.invalid" and info.value.status == 401
    assert [k.id for k in api_keys.list_keys(admin, include_revoked=False)] == []


def test_expired_key_is_refused(tenant_a, admin, clock):
    view, raw = api_keys.create_key(admin, "expiring", clock=clock)
    with tenant_session(tenant_a) as s:
        s.get(ApiKey, view.id).expires_at = clock.now() + timedelta(hours=1)
        s.commit()
    assert api_keys.authenticate(raw, clock=clock)
    clock.advance(timedelta(hours=1))
    with pytest.raises(AuthFailed):
        api_keys.authenticate(raw, clock=clock)


@pytest.mark.parametrize(
    "raw",
    [None, "", "garbage", "Bearer mrg_abc", "mrg_abcdefgh_" + "A" * 43, "mrg_ABCDEFGH_" + "A" * 43, "x" * 5000],
)
def test_unknown_or_malformed_keys_are_refused(services, raw):
    with pytest.raises(AuthFailed) as info:
        api_keys.authenticate(raw)
    assert info.value.code == "api_keys.invalid"


def test_a_tampered_key_is_refused(admin, clock):
    _view, raw = api_keys.create_key(admin, "tamper", clock=clock)
    with pytest.raises(AuthFailed):
        api_keys.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B"), clock=clock)


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_key_name_is_validated(tenant_a, admin, name):
    with pytest.raises(ValidationFailed) as info:
        api_keys.create_key(admin, name)
    assert info.value.field == "name"
    assert api_keys.list_keys(admin) == []


def test_cross_tenant_revoke_is_not_found(tenant_a, tenant_b, admin, make_user, clock):
    other_admin = make_user(tenant_b, UserRole.admin, mfa_on=True).actor()
    view, raw = api_keys.create_key(other_admin, "b's key", clock=clock)
    for key_id in (view.id, uuid.uuid4(), "nope"):
        with pytest.raises(NotFound):
            api_keys.revoke_key(admin, key_id, clock=clock)
    assert _row(tenant_b, view.id).revoked_at is None
    assert api_keys.authenticate(raw, clock=clock).tenant_id == tenant_b
    assert api_keys.list_keys(admin) == []


# -- over HTTP --------------------------------------------------------------------------------------------------------


@pytest.fixture
def client(services):
    from mirage_app.api.app import api

    with TestClient(api) as c:
        yield c


def test_api_me_with_a_valid_key(tenant_a, admin, client):
    view, raw = api_keys.create_key(admin, "script")
    response = client.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    body = response.json()
    assert body["tenant_id"] == str(tenant_a) and body["api_key_id"] == str(view.id) and body["role"] == "operator"
    assert "outreach.manage" in body["permissions"] and "users.manage" not in body["permissions"]
    assert _row(tenant_a, view.id).last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer mrg_nope"}],
    ids=["no-header", "empty-bearer", "basic", "unknown"],
)
def test_api_me_without_a_valid_key_is_401(client, headers):
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "api_keys.invalid", "detail": "The API key is missing, unknown or revoked."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_api_me_with_a_revoked_key_is_401(admin, client):
    view, raw = api_keys.create_key(admin, "soon revoked")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    api_keys.revoke_key(admin, view.id)
    response = client.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401 and response.json()["error"] == "api_keys.invalid"
