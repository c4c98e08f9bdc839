"""`POST /api/contacts/{id}/export` and `/erase` over HTTP: an admin's MFA-verified session only (an API key acts as
an operator, a viewer or an admin without MFA get 403), another tenant's contact is 404, JSON or a zip of CSVs."""

from __future__ import annotations

import io
import secrets
import uuid
import zipfile

from fastapi.testclient import TestClient

from mirage_app.api.app import api
from mirage_app.base.permissions import Actor
from mirage_app.core.web_security import SESSION_COOKIE
from mirage_app.models import UserRole
from mirage_app.services import api_keys, auth, contacts
from tests.services.conftest import next_totp


def _session_client(user, clock) -> TestClient:
    signed = auth.login(user.email, user.password, ip=f"10.9.{secrets.randbelow(250)}.1", clock=clock)
    token = signed.session_token
    if token is None:  # MFA on: the second step
        token = auth.complete_mfa(signed.pending_token, next_totp(user, clock), clock=clock).session_token
    return TestClient(api, headers={"cookie": f"{SESSION_COOKIE}={token}"})


def _key_client(tenant) -> TestClient:
    admin = Actor(tenant_id=tenant, role=UserRole.admin, label="admin@test", mfa_enabled=True)
    _, key = api_keys.create_key(admin, f"script-{uuid.uuid4().hex[:6]}")
    return TestClient(api, headers={"Authorization": f"Bearer {key}"})


def _contact(tenant) -> contacts.ContactView:
    operator = Actor(tenant_id=tenant, role=UserRole.operator, label="operator@test")
    phone = f"+55119{secrets.randbelow(10**8):08d}"
    return contacts.create_contact(operator, phone, "Fulana", consent_status="granted", consent_source="site")


def test_only_an_admin_with_mfa_may_export_or_erase(tenant_a, tenant_b, make_user, clock):
    person = _contact(tenant_a)
    refused = {
        "api key (operator)": _key_client(tenant_a),
        "viewer": _session_client(make_user(tenant_a, UserRole.viewer), clock),
        "admin without MFA": _session_client(make_user(tenant_a, UserRole.admin), clock),
    }
    for who, client in refused.items():
        for action in ("export", "erase"):
            answer = client.post(f"/api/contacts/{person.id}/{action}")
            assert answer.status_code == 403, (who, action, answer.text)
            assert answer.json()["error"].startswith("permission."), who
    assert TestClient(api).post(f"/api/contacts/{person.id}/export").status_code == 401

    admin = _session_client(make_user(tenant_a, UserRole.admin, mfa_on=True), clock)
    other_admin = _session_client(make_user(tenant_b, UserRole.admin, mfa_on=True), clock)
    for action in ("export", "erase"):  # another tenant's contact looks like a missing one
        answer = other_admin.post(f"/api/contacts/{person.id}/{action}")
        assert answer.status_code == 404 and answer.json()["error"] == "contacts.not_found"

    exported = admin.post(f"/api/contacts/{person.id}/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    body = exported.json()
    assert body["wa_number"] == person.wa_number and body["contact"][0]["display_name"] == "Fulana"
    assert [e["event"] for e in body["consent_history"]] == ["granted"]
    assert set(contacts.SECTIONS) <= body.keys()

    zipped = admin.post(f"/api/contacts/{person.id}/export?format=csv")
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    assert "attachment" in zipped.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s}.csv" for s in contacts.SECTIONS)
    assert admin.post(f"/api/contacts/{person.id}/export?format=pdf").status_code == 422

    erased = admin.post(f"/api/contacts/{person.id}/erase")
    assert erased.status_code == 200 and erased.json()["contact_id"] == str(person.id)
    assert erased.json()["consent_events"] == 1
    assert admin.post(f"/api/contacts/{person.id}/export").status_code == 404  # gone
    again = _key_client(tenant_a).post("/api/contacts", json={"wa_number": person.wa_number})
    assert again.status_code == 409 and again.json()["error"] == "contacts.erased"
