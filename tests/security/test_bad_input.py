"""Input that used to reach a 500 (issue 14, finding 6): NUL characters, unpaired surrogates, offsets beyond
bigint and deeply nested JSON each get a 4xx `{error, detail}`, over the real API and the webhook fast path, and
nothing is written."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mirage_app.api.app import api, asgi
from mirage_app.core.db import tenant_session
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.logic.untrusted_input import MAX_OFFSET, bad_text_paths, nesting_exceeds
from tests.api.conftest import api_client

WEBHOOK = "/api/webhooks/evolution"
LISTS = ["/api/contacts", "/api/outreach/targets"]


@pytest.fixture
def keyed(tenant_a) -> TestClient:
    client = api_client(tenant_a)
    return TestClient(api, headers=client.headers, raise_server_exceptions=False)


def _is_error(response, status: int | None = None) -> bool:
    body = response.json()
    in_range = response.status_code == status if status else 400 <= response.status_code < 500
    return in_range and set(body) == {"error", "detail"}


def _contacts(tenant) -> int:
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT count(*) FROM contacts")).scalar()


@pytest.mark.parametrize("url", LISTS)
def test_a_nul_in_a_query_is_refused(keyed, url):
    response = keyed.get(url, params={"search": "a\x00b"})
    assert _is_error(response, 422) and response.json()["error"] == "invalid_input"
    assert response.json()["detail"][0]["field"] == "search"


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("offset", [10**20, 2**63])
def test_an_offset_beyond_bigint_is_refused(keyed, url, offset):
    response = keyed.get(url, params={"offset": str(offset)})
    assert _is_error(response, 422) and response.json()["error"] == "validation_error"


@pytest.mark.parametrize("url", LISTS)
def test_the_largest_allowed_offset_is_an_empty_page(keyed, url):
    response = keyed.get(url, params={"offset": MAX_OFFSET})
    assert response.status_code == 200 and response.json()["total"] == 0


@pytest.mark.parametrize("raw", ['"Ana\\u0000"', '"Ana\\ud800"', '"\\udc00Ana"'])
def test_nul_and_lone_surrogates_in_a_json_field_are_refused(keyed, tenant_a, raw):
    body = '{"wa_number": "11 98765-1111", "display_name": ' + raw + ', "tags": ["vip"]}'
    response = keyed.post("/api/contacts", content=body, headers={"content-type": "application/json"})
    assert _is_error(response, 422) and response.json()["error"] == "invalid_input"
    assert response.json()["detail"] == [
        {"field": "display_name", "message": "NUL characters and unpaired surrogates are not allowed"}
    ]
    assert _contacts(tenant_a) == 0


def test_a_bad_string_deep_in_a_list_is_named(keyed, tenant_a):
    body = '{"wa_number": "11 98765-1111", "tags": ["vip", "a\\u0000"]}'
    response = keyed.post("/api/contacts", content=body, headers={"content-type": "application/json"})
    assert _is_error(response, 422) and response.json()["detail"][0]["field"] == "tags.1"


def test_a_paired_surrogate_is_an_ordinary_emoji(keyed, tenant_a):
    body = '{"wa_number": "11 98765-1111", "display_name": "Ana \\ud83d\\ude00"}'
    response = keyed.post("/api/contacts", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 201 and response.json()["display_name"] == "Ana \U0001f600"


def test_deep_json_on_a_keyed_route_is_refused(keyed):
    deep = '{"a":' * 30_000 + "1" + "}" * 30_000
    response = keyed.post("/api/contacts", content=deep, headers={"content-type": "application/json"})
    assert _is_error(response, 400)


# -- the webhook route: its own parse, before authentication ---------------------------------------------------


@pytest.fixture(params=["fast_path", "fastapi_route"])
def hook(request):
    return TestClient(asgi if request.param == "fast_path" else api, raise_server_exceptions=False)


def _upsert(name: str, text_: str) -> str:
    event = {
        "event": "messages.upsert",
        "instance": name,
        "data": {
            "key": {"remoteJid": "5511966665555@s.whatsapp.net", "fromMe": False, "id": uuid.uuid4().hex[:12]},
            "message": {"conversation": "PLACEHOLDER"},
            "messageType": "conversation",
            "messageTimestamp": 1761055561,
        },
    }
    return json.dumps(event).replace('"PLACEHOLDER"', text_)


def _messages(tenant) -> int:
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT count(*) FROM messages")).scalar()


def test_deep_nesting_is_refused_before_authentication(hook):
    deep = '{"a":' * 30_000 + "1" + "}" * 30_000
    response = hook.post(WEBHOOK, content=deep, headers={"content-type": "application/json"})
    assert _is_error(response, 400) and response.json()["error"] == "malformed_json"
    arrays = "[" * 30_000 + "]" * 30_000
    assert _is_error(hook.post(WEBHOOK, content=arrays), 400)


def test_a_lone_surrogate_with_a_valid_secret_is_refused(hook, webhook_instance):
    body = _upsert(webhook_instance["name"], '"oi \\ud800"')
    response = hook.post(WEBHOOK, content=body, headers={SECRET_HEADER: webhook_instance["secret"]})
    assert _is_error(response, 400) and response.json()["error"] == "invalid_input"
    assert _messages(webhook_instance["tenant"]) == 0


def test_an_emoji_pair_in_a_webhook_is_stored(hook, webhook_instance):
    body = _upsert(webhook_instance["name"], '"oi \\ud83d\\ude00"')
    response = hook.post(WEBHOOK, content=body, headers={SECRET_HEADER: webhook_instance["secret"]})
    assert response.status_code == 200 and _messages(webhook_instance["tenant"]) == 1


# -- the pure checks ---------------------------------------------------------------------------------------------


def test_nesting_counts_brackets_outside_strings_only():
    assert not nesting_exceeds(b'{"a": "' + b"[" * 500 + b'"}', limit=64)
    assert not nesting_exceeds(b"[" * 64 + b"]" * 64, limit=64)
    assert nesting_exceeds(b"[" * 65 + b"]" * 65, limit=64)
    assert nesting_exceeds(b'{"a\\"[": ' + b"[" * 65 + b"]" * 65 + b"}", limit=64)


def test_bad_text_paths_name_keys_and_items():
    assert list(bad_text_paths({"a": ["ok", "x\x00"], "b\ud800": 1, "c": {"d": "\udfff"}})) == ["a.1", "body", "c.d"]
    assert list(bad_text_paths({"a": "🙂", "b": [1, None, True]})) == []


# -- the UI: an unexpected exception in an event handler never reaches a toast ---------------------------------------


def test_an_unexpected_exception_shows_only_a_generic_message(caplog):
    from mirage_app.states.ui import UiState, unexpected_error

    try:
        raise AttributeError("'AuthState' object has no attribute 'secret_thing'")
    except AttributeError as exc:
        spec = unexpected_error(exc)
    assert spec.handler.fn.__name__ == "show_unexpected_error" and spec.args == ()
    assert "secret_thing" in caplog.text  # the detail is logged, with its traceback
    root = UiState.get_root_state()(_reflex_internal_init=True)
    state = root.get_substate(UiState.get_full_name().split(".")[1:])
    toast = str(UiState.event_handlers["show_unexpected_error"].fn(state).args)
    assert "Algo deu errado." in toast and "secret_thing" not in toast and "AttributeError" not in toast
