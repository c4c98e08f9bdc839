"""Plan limits, enforced in the services so the UI, the API and the engine meet the same ones: numbers, active
conversations, contacts (one by one and by CSV), API keys and users; the error names the limit and the use."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.models import UserRole
from mirage_app.services import api_keys, contacts, conversations, instances, platform, users
from mirage_app.services.plan_limits import PlanLimitReached, plan_use_of
from mirage_app.states.auth import error_text
from tests.api.conftest import api_client
from tests.conftest import make_number

OP = platform.CLI_OPERATOR


def _limit(tenant, **limits) -> None:
    platform.set_overrides(OP, tenant, limits)


def _reached(call, kind: str, limit: int, used: int) -> PlanLimitReached:
    with pytest.raises(PlanLimitReached) as info:
        call()
    error = info.value
    assert (error.code, error.params["limit"], error.params["used"]) == (f"plan.limit.{kind}", limit, used)
    assert info.value.status == 409
    return info.value


def test_numbers(admin_actor):
    make_number(admin_actor.tenant_id, "N1")
    _limit(admin_actor.tenant_id, numbers=1)
    error = _reached(lambda: instances.create_instance(admin_actor, "Segundo"), "numbers", 1, 1)
    assert error.message == "Your plan's limit of numbers: 1. In use: 1."
    assert error_text(error, "pt-BR") == "Limite de números do seu plano: 1. Em uso: 1."  # what the UI shows


def test_contacts_one_by_one_and_by_csv(admin_actor):
    tenant = admin_actor.tenant_id
    contacts.create_contact(admin_actor, "+5511911110001", "Ana")
    _limit(tenant, contacts=2)
    contacts.create_contact(admin_actor, "+5511911110002", "Bia")
    _reached(lambda: contacts.create_contact(admin_actor, "+5511911110003", "Caio"), "contacts", 2, 2)
    _limit(tenant, contacts=3)
    csv = "phone,name\n+5511911110002,Bia B\n+5511911110004,Duda\n+5511911110005,Eva\n"
    report = contacts.import_csv(admin_actor, csv)
    assert (report.imported, report.updated) == (1, 1)  # an update never counts against the limit
    assert [(e.reason, e.params["limit"]) for e in report.errors] == [("plan_limit", 3)]


def test_active_conversations(admin_actor):
    tenant = admin_actor.tenant_id
    first = conversations.create_conversation(admin_actor, "Ativa")
    second = conversations.create_conversation(admin_actor, "Nova")
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE conversations SET active = true WHERE id = :c"), {"c": first.id})
        s.commit()
    _limit(tenant, active_conversations=1)
    _reached(lambda: conversations.activate(admin_actor, second.id), "active_conversations", 1, 1)


def test_api_keys(admin_actor):
    api_keys.create_key(admin_actor, "one")
    _limit(admin_actor.tenant_id, api_keys=1)
    _reached(lambda: api_keys.create_key(admin_actor, "two"), "api_keys", 1, 1)
    [key] = api_keys.list_keys(admin_actor)
    api_keys.revoke_key(admin_actor, key.id)
    api_keys.create_key(admin_actor, "two")  # a revoked key frees its place


def test_users_count_pending_invitations(admin_actor):
    admin = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.admin, label="boss@x", user_id=None, mfa_enabled=True)
    _limit(admin_actor.tenant_id, users=1)
    users.invite(admin, f"u-{uuid.uuid4().hex[:6]}@example.com", "operator")
    _reached(lambda: users.invite(admin, f"v-{uuid.uuid4().hex[:6]}@example.com", "operator"), "users", 1, 1)


def test_the_api_answers_409_with_the_limit_and_the_use(tenant_a):
    http = api_client(tenant_a)
    _limit(tenant_a, contacts=1, numbers=0)
    assert http.post("/api/contacts", json={"wa_number": "+5511922220001", "display_name": "A"}).status_code == 201
    refused = http.post("/api/contacts", json={"wa_number": "+5511922220002", "display_name": "B"})
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "plan.limit.contacts",
        "detail": "Your plan's limit of contacts: 1. Stored: 1.",
    }
    numbers = http.post("/api/instances", json={"label": "Extra"})
    assert (numbers.status_code, numbers.json()["error"]) == (409, "plan.limit.numbers")


def test_plan_defaults_apply_and_overrides_win(admin_actor):
    tenant = admin_actor.tenant_id
    platform.change_plan(OP, tenant, "free")
    use = {u.kind: u for u in plan_use_of(admin_actor).uses}
    assert plan_use_of(admin_actor).plan == "free"
    assert use["numbers"].limit == platform.plan_defaults(OP)["free"]["numbers"]
    _limit(tenant, numbers=7)
    assert {u.kind: u.limit for u in plan_use_of(admin_actor).uses}["numbers"] == 7
    _limit(tenant, numbers="")
    defaults = platform.plan_defaults(OP)["free"]
    try:
        platform.set_plan_defaults(OP, "free", {**defaults, "numbers": 3})
        assert {u.kind: u.limit for u in plan_use_of(admin_actor).uses}["numbers"] == 3
    finally:
        platform.set_plan_defaults(OP, "free", defaults)
    platform.change_plan(OP, tenant, "enterprise")
    assert all(u.limit is None for u in plan_use_of(admin_actor).uses)


def test_an_api_csv_import_stores_what_fits_and_names_the_limit_on_the_rest(tenant_a):
    http = api_client(tenant_a)
    _limit(tenant_a, contacts=1)
    csv = "phone,name\n+5511922230001,Ana\n+5511922230002,Bia\n"
    report = http.post("/api/contacts/import", content=csv, headers={"Content-Type": "text/csv"})
    assert report.status_code == 200
    body = report.json()
    assert (body["imported"], body["failed"]) == (1, 1)
    [refused] = body["errors"]
    assert (refused["line"], refused["reason"]) == (3, "plan_limit")
    assert refused["message"] == "Not imported: your plan's limit of contacts (1) is reached."
