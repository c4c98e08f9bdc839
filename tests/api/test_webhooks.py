"""Webhook ingestion: authentication, bad input, idempotency under duplicate and shuffled deliveries."""

from __future__ import annotations

import json
import random
import uuid

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from mirage_app.api.app import api, asgi
from mirage_app.core.db import tenant_session
from mirage_app.core.security import hash_token
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.models import EvolutionSession, Number, NumberStatus

URL = "/api/webhooks/evolution"


@pytest.fixture
def instance(tenant_a):
    """A connected number with a known webhook secret, as create_instance would leave it."""
    name, secret = f"mrg-test-{uuid.uuid4().hex[:8]}", f"secret-{uuid.uuid4().hex}"
    with tenant_session(tenant_a) as s:
        number = Number(
            tenant_id=tenant_a, session_id=name, label="A", status=NumberStatus.connected, wa_number="+5511988880001"
        )
        s.add(number)
        s.flush()
        s.add(EvolutionSession(tenant_id=tenant_a, number_id=number.id, webhook_secret_hash=hash_token(secret)))
        s.commit()
    return {"tenant": tenant_a, "name": name, "secret": secret, "number_id": number.id}


@pytest.fixture(params=["fast_path", "fastapi_route"])
def client(request):
    """Both ways a delivery is served: the ASGI fast path Mirage runs (`asgi`) and the FastAPI route behind it."""
    return TestClient(asgi if request.param == "fast_path" else api, raise_server_exceptions=False)


def _post(client, instance, body, *, secret=None, path=URL):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if secret is not False:
        headers[SECRET_HEADER] = secret or instance["secret"]
    return client.post(path, content=raw, headers=headers)


def _count(tenant, table, where="true", **params):
    with tenant_session(tenant) as s:
        return s.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar()


def _send_message(name, key_id, text_="oi"):
    return {
        "event": "send.message",
        "instance": name,
        "data": {
            "key": {"remoteJid": "5511977776666@s.whatsapp.net", "fromMe": True, "id": key_id},
            "pushName": "Você",
            "status": "PENDING",
            "message": {"conversation": text_},
            "messageType": "conversation",
            "messageTimestamp": 1772167051,
            "source": "web",
        },
        "date_time": "2026-11-25T14:06:03.002Z",
        "server_url": "http://sim",
        "apikey": None,
    }


def _update(name, key_id, status):
    return {
        "event": "messages.update",
        "instance": name,
        "data": {
            "keyId": key_id,
            "remoteJid": "5511977776666@s.whatsapp.net",
            "fromMe": True,
            "status": status,
            "instanceId": "x",
        },
        "date_time": "2026-11-25T14:06:04.410Z",
    }


def _upsert(name, key_id, text_="Oi, tudo bem?", lid=False):
    key = {"remoteJid": "5511966665555@s.whatsapp.net", "fromMe": False, "id": key_id}
    if lid:
        key = {
            "remoteJid": "232366454870257@lid",
            "remoteJidAlt": "5511966665555@s.whatsapp.net",
            "addressingMode": "lid",
            "fromMe": False,
            "id": key_id,
        }
    return {
        "event": "messages.upsert",
        "instance": name,
        "data": {
            "key": key,
            "pushName": "Maria",
            "status": "DELIVERY_ACK",
            "message": {"conversation": text_},
            "messageType": "conversation",
            "messageTimestamp": 1761055561,
            "source": "android",
        },
    }


def test_wrong_or_missing_secret_is_401_and_stores_nothing(client, instance):
    body = _upsert(instance["name"], "3A0000000000000000A1")
    assert _post(client, instance, body, secret="wrong").status_code == 401
    response = _post(client, instance, body, secret=False)
    assert response.status_code == 401 and set(response.json()) == {"error", "detail"}
    assert _count(instance["tenant"], "webhook_events") == 0
    assert _count(instance["tenant"], "messages") == 0


def test_bad_input_statuses(client, instance):
    assert _post(client, instance, b"{not json").status_code == 400
    assert _post(client, instance, b"[1, 2]").status_code == 400
    unknown = _post(client, instance, {"event": "messages.upsert", "instance": "nope", "data": {}})
    assert unknown.status_code == 401 and unknown.json()["error"] == "unauthorized"  # as a wrong secret: no probing
    big = {"event": "messages.upsert", "instance": instance["name"], "data": {"x": "a" * 400_000}}
    assert _post(client, instance, big).status_code == 413
    broken = {"event": "messages.upsert", "instance": instance["name"], "data": {"key": "not a dict"}}
    assert _post(client, instance, broken).status_code == 400
    mismatch = _post(client, instance, _upsert(instance["name"], "3A01"), path=URL + "/send-message")
    assert mismatch.status_code == 400
    assert _count(instance["tenant"], "webhook_events") == 0


def test_unknown_event_is_stored_and_ignored(client, instance):
    body = {"event": "chats.upsert", "instance": instance["name"], "data": [{"remoteJid": "x"}]}
    assert _post(client, instance, body).status_code == 200
    assert _count(instance["tenant"], "webhook_events", "event_type = 'CHATS_UPSERT'") == 1
    assert _count(instance["tenant"], "messages") == 0


def test_by_events_suffix_path(client, instance):
    response = _post(client, instance, _upsert(instance["name"], "3A02"), path=URL + "/messages-upsert")
    assert response.status_code == 200


@pytest.mark.parametrize("seed", range(5))
def test_each_delivery_three_times_shuffled_gives_one_row_and_final_status(client, instance, seed):
    key_id = f"3EB0{uuid.uuid4().hex[:18].upper()}"
    deliveries = [
        _send_message(instance["name"], key_id, "Bom dia!"),
        _update(instance["name"], key_id, "SERVER_ACK"),
        _update(instance["name"], key_id, "DELIVERY_ACK"),
        _update(instance["name"], key_id, "READ"),
    ] * 3
    random.Random(seed).shuffle(deliveries)
    for body in deliveries:
        assert _post(client, instance, body).status_code == 200
    with tenant_session(instance["tenant"]) as s:
        rows = s.execute(
            text("SELECT status::text, body, from_number_id FROM messages WHERE wa_msg_id = :k"), {"k": key_id}
        ).all()
    assert len(rows) == 1
    assert rows[0].status == "read" and rows[0].body == "Bom dia!" and rows[0].from_number_id == instance["number_id"]
    assert _count(instance["tenant"], "webhook_events") == 4  # byte-identical redeliveries add no row


def test_inbound_from_lid_contact_uses_phone(client, instance):
    assert _post(client, instance, _upsert(instance["name"], "3A03", lid=True)).status_code == 200
    with tenant_session(instance["tenant"]) as s:
        row = s.execute(text("SELECT direction::text, to_number_id, meta FROM messages")).one()
    assert row.direction == "in" and row.to_number_id == instance["number_id"]
    assert row.meta["peer"] == "+5511966665555"


def test_connection_events_update_the_number(client, instance):
    name = instance["name"]
    close = {
        "event": "connection.update",
        "instance": name,
        "data": {"instance": name, "state": "close", "statusReason": 403},
    }
    assert _post(client, instance, close).status_code == 200
    with tenant_session(instance["tenant"]) as s:
        number = s.get(Number, instance["number_id"])
    assert number.status == NumberStatus.error and "banned" in number.disconnect_reason
    opened = {
        "event": "connection.update",
        "instance": name,
        "data": {"instance": name, "wuid": "5511988880001@s.whatsapp.net", "state": "open", "statusReason": 200},
    }
    assert _post(client, instance, opened).status_code == 200
    with tenant_session(instance["tenant"]) as s:
        number = s.get(Number, instance["number_id"])
    assert number.status == NumberStatus.connected and number.disconnect_reason is None


def test_a_late_qr_does_not_revive_an_attempt_the_operator_ended(client, instance):
    """The QR webhooks Evolution posted before the logout can land after it (a closed dialog, an expiry)."""
    name = instance["name"]
    with tenant_session(instance["tenant"]) as s:
        s.execute(
            text("UPDATE numbers SET status = 'disconnected', disconnect_reason = 'qr_cancelled' WHERE id = :n"),
            {"n": instance["number_id"]},
        )
        s.commit()
    late = [
        {"event": "qrcode.updated", "instance": name, "data": {"qrcode": {"instance": name, "code": "2@late"}}},
        {"event": "connection.update", "instance": name, "data": {"instance": name, "state": "connecting"}},
    ]
    for body in late:
        assert _post(client, instance, body).status_code == 200
    with tenant_session(instance["tenant"]) as s:
        number = s.get(Number, instance["number_id"])
        last_qr = s.execute(text("SELECT last_qr FROM sessions WHERE number_id = :n"), {"n": number.id}).scalar()
    assert (number.status, number.disconnect_reason, last_qr) == (NumberStatus.disconnected, "qr_cancelled", None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=st.sampled_from(
        [
            "messages.upsert",
            "send.message",
            "messages.update",
            "qrcode.updated",
            "connection.update",
            "contacts.upsert",
            "x",
        ]
    ),
    data=json_values,
    key=st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["remoteJid", "fromMe", "id", "remoteJidAlt"]), json_values, max_size=4),
    ),
)
def test_fuzzed_payloads_never_500_or_partial(client, instance, event, data, key):
    if key is not None and isinstance(data, dict):
        data["key"] = key
    before = (_count(instance["tenant"], "webhook_events"), _count(instance["tenant"], "messages"))
    response = _post(client, instance, {"event": event, "instance": instance["name"], "data": data})
    assert response.status_code in (200, 400), response.text
    after = (_count(instance["tenant"], "webhook_events"), _count(instance["tenant"], "messages"))
    if response.status_code == 400:
        assert after == before  # rejected deliveries leave nothing behind
    else:
        assert after[0] - before[0] in (0, 1) and after[1] - before[1] in (0, 1)


def test_a_streamed_body_over_the_limit_is_413_without_a_declared_length(client, instance):
    """Chunked uploads declare no length: the limit holds while the body streams in."""
    chunks = [b'{"event": "messages.upsert", "instance": "' + instance["name"].encode() + b'", "data": "']
    chunks += [b"a" * 65_536] * 5 + [b'"}']
    response = client.post(URL, content=iter(chunks), headers={SECRET_HEADER: instance["secret"]})
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
    assert _count(instance["tenant"], "webhook_events") == 0


def test_other_methods_and_deeper_paths_get_the_api_answers():
    client = TestClient(asgi, raise_server_exceptions=False)
    got = client.get(URL)  # only POST is a delivery; anything else is an unknown API route
    assert got.status_code == 404 and got.json()["error"] == "not_found"
    deeper = client.post(URL + "/messages-upsert/extra", content=b"{}")
    assert deeper.status_code == 404 and deeper.json()["error"] == "not_found"


def test_an_unexpected_error_is_a_json_500_without_internals(instance, monkeypatch):
    from mirage_app.engine import ingest

    async def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ingest, "ingest_async", broken)
    response = TestClient(asgi, raise_server_exceptions=False).post(
        URL, content=json.dumps(_upsert(instance["name"], "3A0F")).encode(), headers={SECRET_HEADER: instance["secret"]}
    )
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "unexpected error; it has been logged"}
