"""`/api/outreach/*` and `/api/contacts`: the seed's example body, 422s naming the field, cross-tenant 404s."""

from __future__ import annotations

from mirage_app.base.permissions import Actor
from mirage_app.models import UserRole
from mirage_app.services import outreach
from tests.api.conftest import api_client
from tests.conftest import make_number


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [d["field"] for d in response.json()["detail"]]


def test_seed_example_body_creates_an_inactive_policy(http, tenant_a):
    number_id = make_number(tenant_a, "API")
    body = {"number_id": str(number_id), "daily_limit": 50, "hourly_limit": 5, "dayparts": ["morning", "afternoon"]}
    created = http.post("/api/outreach/policies", json=body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["number_id"] == str(number_id) and policy["active"] is False
    assert (policy["daily_limit"], policy["hourly_limit"], policy["dayparts"]) == (50, 5, ["morning", "afternoon"])
    assert policy["optout_keywords"][:2] == ["SAIR", "PARAR"] and policy["allow_days"] == []
    assert http.get("/api/outreach/policies").json()["policies"][0]["id"] == policy["id"]
    assert http.get(f"/api/outreach/policies/{policy['id']}").json()["number_label"] == "API"
    patched = http.patch(f"/api/outreach/policies/{policy['id']}", json={"allow_days": ["mon", "tue"], "active": True})
    assert patched.status_code == 200 and patched.json()["allow_days"] == ["mon", "tue"] and patched.json()["active"]
    assert http.post(f"/api/outreach/policies/{policy['id']}/deactivate").json()["active"] is False
    impact = http.get(f"/api/outreach/policies/{policy['id']}/impact")
    assert impact.status_code == 200 and impact.json() == {
        "name": "API", "archive": False, "blocked": False, "dependents": []
    }  # fmt: skip
    deleted = http.delete(f"/api/outreach/policies/{policy['id']}")
    assert deleted.status_code == 200 and deleted.json() == impact.json()  # what was done: what it said it would do
    assert http.get(f"/api/outreach/policies/{policy['id']}").status_code == 404
    assert http.get(f"/api/outreach/policies/{policy['id']}/impact").status_code == 404


def test_invalid_values_answer_422_naming_the_field(http, tenant_a):
    number_id = str(make_number(tenant_a))
    base = {"number_id": number_id, "daily_limit": 50, "hourly_limit": 5, "dayparts": ["morning"]}
    cases = [
        ({"daily_limit": -1}, "daily_limit"),
        ({"hourly_limit": -1}, "hourly_limit"),
        ({"daily_limit": 4}, "hourly_limit"),  # hourly 5 > daily 4
        ({"dayparts": ["morning", "midnight"]}, "dayparts"),
        ({"allow_days": ["monday"]}, "allow_days"),
        ({"optout_keywords": []}, "optout_keywords"),
        ({"optout_keywords": ["", "  "]}, "optout_keywords"),
        ({"max_rounds_per_contact": 0}, "max_rounds_per_contact"),
        ({"min_gap_minutes": -10}, "min_gap_minutes"),
        ({"daily_limit": "lots"}, "daily_limit"),
        ({"number_id": "uuid-123"}, "number_id"),
        ({"colour": "blue"}, "colour"),
    ]
    for change, field in cases:
        assert _fields(http.post("/api/outreach/policies", json=base | change)) == [field], change
    missing = {k: v for k, v in base.items() if k != "hourly_limit"}
    assert _fields(http.post("/api/outreach/policies", json=missing)) == ["hourly_limit"]
    assert http.get("/api/outreach/policies").json() == {"policies": []}  # nothing was written
    ok = http.post("/api/outreach/policies", json=base).json()
    assert _fields(http.patch(f"/api/outreach/policies/{ok['id']}", json={"daily_limit": 2})) == ["hourly_limit"]
    # An API key acts as an operator: no raising limits above the safe ones (admin + MFA only).
    above = http.patch(f"/api/outreach/policies/{ok['id']}", json={"daily_limit": 200})
    assert above.status_code == 403 and above.json()["error"].startswith("permission.")
    assert http.get(f"/api/outreach/policies/{ok['id']}").json()["daily_limit"] == 50


def test_other_tenants_ids_are_404_and_nothing_changes(http, tenant_a, tenant_b):
    mine = make_number(tenant_a)
    theirs = make_number(tenant_b)
    other = api_client(tenant_b)
    body = {"number_id": str(theirs), "daily_limit": 10, "hourly_limit": 2, "dayparts": ["evening"]}
    refused = http.post("/api/outreach/policies", json=body)
    assert refused.status_code == 404 and refused.json()["detail"][0]["field"] == "number_id"
    policy = http.post("/api/outreach/policies", json=body | {"number_id": str(mine)}).json()
    nina = {"wa_number": "11 98888-7777", "display_name": "Nina", "consent_status": "granted", "consent_source": "site"}
    contact = http.post("/api/contacts", json=nina).json()
    added = http.post("/api/outreach/targets", json={"policy_id": policy["id"], "contact_ids": [contact["id"]]})
    assert added.status_code == 201 and added.json()["added"] == 1
    target_id = added.json()["target_ids"][0]
    pid, tid = policy["id"], target_id
    for method, url, payload in [
        ("GET", f"/api/outreach/policies/{pid}", None),
        ("PATCH", f"/api/outreach/policies/{pid}", {"daily_limit": 1, "hourly_limit": 1}),
        ("POST", f"/api/outreach/policies/{pid}/activate", None),
        ("DELETE", f"/api/outreach/policies/{pid}", None),
        ("GET", f"/api/outreach/targets/{tid}", None),
        ("PATCH", f"/api/outreach/targets/{tid}", {"priority": 99}),
        ("DELETE", f"/api/outreach/targets/{tid}", None),
        ("POST", "/api/outreach/targets", {"policy_id": pid, "contact_ids": [contact["id"]]}),
        ("GET", f"/api/contacts/{contact['id']}", None),
        ("PATCH", f"/api/contacts/{contact['id']}", {"display_name": "x"}),
        ("DELETE", f"/api/contacts/{contact['id']}", None),
    ]:
        response = other.request(method, url, json=payload)
        assert response.status_code == 404, (method, url, response.text)
    bulk = other.post("/api/outreach/targets/bulk", json={"action": "remove", "ids": [tid]})
    assert bulk.json() == {"changed": 0, "skipped": [{"id": tid, "reason": "not_found"}]}
    assert other.get("/api/outreach/targets").json()["total"] == 0
    # Untouched on our side.
    assert http.get(f"/api/outreach/policies/{pid}").json()["daily_limit"] == 10
    target = http.get(f"/api/outreach/targets/{tid}").json()
    assert (target["priority"], target["status"], target["display_name"]) == (0, "pending", "Nina")


def test_targets_queue_filters_and_bulk_over_http(http, tenant_a):
    pid = http.post(
        "/api/outreach/policies",
        json={"number_id": str(make_number(tenant_a)), "daily_limit": 10, "hourly_limit": 2, "dayparts": ["morning"]},
    ).json()["id"]
    ids = []
    for i in range(4):
        c = http.post("/api/contacts", json={"wa_number": f"+55119777700{i:02d}", "display_name": f"Pessoa {i}",
                                             "consent_status": "granted", "consent_source": "evento"})  # fmt: skip
        assert c.status_code == 201, c.text
        ids.append(c.json()["id"])
    nope = http.post("/api/contacts", json={"wa_number": "+5511977779999", "display_name": "Sem consentimento"})
    body = {"policy_id": pid, "contact_ids": [*ids, nope.json()["id"]], "priority": 3}
    report = http.post("/api/outreach/targets", json=body).json()
    assert report["added"] == 4 and report["skipped"][0]["reason"] == "no_consent"
    queue = http.get("/api/outreach/targets", params={"policy_id": pid}).json()
    assert queue["total"] == 4 and queue["counts"]["pending"] == 4
    target_ids = [t["id"] for t in queue["targets"]]
    paused = http.post("/api/outreach/targets/bulk", json={"action": "pause", "ids": target_ids[:2]}).json()
    assert paused == {"changed": 2, "skipped": []}
    assert http.get("/api/outreach/targets", params={"status": "paused"}).json()["total"] == 2
    assert http.get("/api/outreach/targets", params={"status": "bogus"}).status_code == 422
    assert http.get("/api/outreach/targets", params={"search": "Pessoa 3"}).json()["targets"][0]["display_name"] == (
        "Pessoa 3"
    )
    top = http.post(
        "/api/outreach/targets/bulk", json={"action": "set_priority", "ids": target_ids[3:], "priority": 50}
    )
    assert top.json()["changed"] == 1
    assert http.get("/api/outreach/targets").json()["targets"][0]["priority"] == 50
    assert http.patch(f"/api/outreach/targets/{target_ids[0]}", json={"status": "optout"}).status_code == 422
    assert (
        http.patch(f"/api/outreach/targets/{target_ids[0]}", json={"status": "pending"}).json()["status"] == "pending"
    )
    assert http.post("/api/outreach/targets/bulk", json={"action": "nuke", "ids": target_ids}).status_code == 422
    assert http.delete(f"/api/outreach/targets/{target_ids[0]}").status_code == 204
    assert http.get("/api/outreach/targets").json()["total"] == 3
    assert outreach.list_targets(Actor(tenant_id=tenant_a, role=UserRole.viewer, label="v")).total == 3


def test_contacts_api_and_csv_import(http):
    csv_body = "telefone;nome;consentimento\n11 98765-1111;Ana;sim\n11 8765-1111;Ana de novo;sim\nxx;Bad;sim\n"
    report = http.post("/api/contacts/import", content=csv_body.encode(), headers={"Content-Type": "text/csv"})
    assert report.status_code == 200, report.text
    data = report.json()
    assert (data["imported"], data["duplicates"], data["failed"]) == (1, 1, 1)
    assert data["errors"][0]["line"] == 4 and data["errors"][0]["reason"] == "invalid_phone"
    listed = http.get("/api/contacts", params={"consent": "granted"}).json()
    assert listed["total"] == 1 and listed["contacts"][0]["wa_number"] == "+5511987651111"
    cid = listed["contacts"][0]["id"]
    assert http.delete(f"/api/contacts/{cid}/consent").json()["consent_status"] == "revoked"
    consent = http.put(f"/api/contacts/{cid}/consent", json={"basis": "contract", "source": "loja"}).json()
    assert consent["consent_status"] == "granted" and consent["consent_basis"] == "contract"
    dup = http.post("/api/contacts", json={"wa_number": "+55 11 98765-1111"})
    assert dup.status_code == 409 and dup.json()["detail"][0]["field"] == "wa_number"
    bad = http.post("/api/contacts", json={"wa_number": "123"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "wa_number"
    assert http.patch(f"/api/contacts/{cid}", json={"tags": ["vip"]}).json()["tags"] == ["vip"]
    impact = http.get(f"/api/contacts/{cid}/impact")
    assert impact.status_code == 200 and impact.json()["dependents"] == [] and not impact.json()["blocked"]
    deleted = http.delete(f"/api/contacts/{cid}")
    assert deleted.status_code == 200 and deleted.json() == impact.json()
    assert http.get(f"/api/contacts/{cid}/impact").status_code == 404
