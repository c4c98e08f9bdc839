"""Issue 14, finding 1 over HTTP: the session cookie is set and cleared only by Mirage's own routes, HttpOnly and
SameSite=Strict (Secure under HTTPS), from a one-time code that another site cannot make a visitor claim."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mirage_app.api.app import asgi
from mirage_app.core.config import get_settings
from mirage_app.core.web_security import SESSION_COOKIE, cookie_value
from mirage_app.services import auth, auth_sessions

PAGE = "http://testserver"


@pytest.fixture
def client(services) -> TestClient:
    return TestClient(asgi, follow_redirects=False)


@pytest.fixture
def signed_in(tenant_a, make_user):
    user = make_user(tenant_a)
    return auth.login(user.email, user.password).session_token


def _claim(client: TestClient, token: str, **headers: str):
    code = auth_sessions.hand_off(token, PAGE + "/instances")
    return client.get("/api/session/claim", params={"code": code, "to": PAGE + "/login"}, headers=headers), code


def test_a_claimed_code_sets_an_httponly_strict_cookie_once(client, signed_in):
    answer, code = _claim(client, signed_in, **{"Sec-Fetch-Site": "same-site"})
    assert answer.status_code == 303 and answer.headers["location"] == PAGE + "/instances"
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}={signed_in}" in cookie
    for attribute in (
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        f"Max-Age={int(auth_sessions.SESSION_ABSOLUTE.total_seconds())}",
    ):
        assert attribute in cookie
    assert "Secure" not in cookie and answer.headers["cache-control"] == "no-store"

    again = client.get("/api/session/claim", params={"code": code, "to": PAGE + "/login"})
    assert again.headers["location"] == PAGE + "/login" and "set-cookie" not in again.headers


def test_another_site_cannot_make_a_visitor_claim_a_code(client, signed_in):
    answer, _ = _claim(client, signed_in, **{"Sec-Fetch-Site": "cross-site"})
    assert "set-cookie" not in answer.headers and answer.headers["location"] == PAGE + "/login"
    made_up = client.get("/api/session/claim", params={"code": "x" * 43, "to": "https://evil.example/"})
    assert made_up.headers["location"] == "/login"  # never a redirect to another host


def test_the_cookie_is_secure_under_https(services, signed_in, monkeypatch):
    monkeypatch.setenv("MIRAGE_PUBLIC_URL", "https://mirage.example.com")
    get_settings.cache_clear()
    try:
        answer, _ = _claim(TestClient(asgi, follow_redirects=False), signed_in)
        assert "; Secure" in answer.headers["set-cookie"]
    finally:
        monkeypatch.delenv("MIRAGE_PUBLIC_URL")
        get_settings.cache_clear()


def test_ending_the_session_revokes_it_and_clears_the_cookie(client, signed_in):
    client.cookies.set(SESSION_COOKIE, signed_in)
    answer = client.get("/api/session/end", params={"to": PAGE + "/login"})
    assert answer.headers["location"] == PAGE + "/login"
    assert "Max-Age=0" in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]
    assert auth.resolve_session(signed_in) is None


def test_the_token_is_read_from_the_cookie_header_only_by_name():
    header = f"mirage_locale=en; {SESSION_COOKIE}=abc-123; other=1"
    assert cookie_value(header) == "abc-123"
    assert cookie_value("x_mirage_session=nope") is None and cookie_value(None) is None
