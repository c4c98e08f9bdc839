"""`/api/instances/{id}/impact` and `DELETE /api/instances/{id}`: the API says what a delete does, then does it."""

from __future__ import annotations

import uuid

from mirage_app.core.db import tenant_session
from mirage_app.models import Message, MessageDirection, MessageStatus
from tests.api.conftest import api_client
from tests.conftest import make_number


def test_a_number_without_history_is_erased_and_one_with_history_archived(tenant_a):
    http = api_client(tenant_a)
    fresh, used = make_number(tenant_a), make_number(tenant_a)
    with tenant_session(tenant_a) as s:
        s.add(Message(tenant_id=tenant_a, from_number_id=used, direction=MessageDirection.outbound,
                      status=MessageStatus.delivered, body="oi", wa_msg_id=f"api-{uuid.uuid4().hex}"))  # fmt: skip
        s.commit()

    impact = http.get(f"/api/instances/{fresh}/impact")
    assert impact.status_code == 200, impact.text
    assert impact.json()["archive"] is False and impact.json()["blocked"] is False
    erased = http.delete(f"/api/instances/{fresh}")
    assert erased.status_code == 200 and erased.json()["archive"] is False
    assert http.get(f"/api/instances/{fresh}/impact").status_code == 404

    assert http.get(f"/api/instances/{used}/impact").json()["archive"] is True
    archived = http.delete(f"/api/instances/{used}")
    assert archived.status_code == 200 and archived.json()["archive"] is True
    assert archived.json()["dependents"][0]["effect"] == "kept"
    again = http.delete(f"/api/instances/{used}")
    assert again.status_code == 409 and set(again.json()) == {"error", "detail"}
    assert str(used) not in {i["id"] for i in http.get("/api/instances").json()["instances"]}


def test_another_tenants_number_is_not_found(tenant_a, tenant_b):
    theirs = make_number(tenant_b)
    http = api_client(tenant_a)
    assert http.get(f"/api/instances/{theirs}/impact").status_code == 404
    gone = http.delete(f"/api/instances/{theirs}")
    assert gone.status_code == 404 and gone.json()["error"] == "instances.not_found"
