"""Issue 14, findings 2 and 3: security headers on every response (API here; the pages in
tests/browser/test_session_cookie.py) and the origins allowed to use credentials."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from mirage_app.core.dev_server import with_security
from mirage_app.core.web_security import allowed_origins, backend_origin, origin_of, security_headers

EXPECTED = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def test_api_answers_carry_the_headers_errors_and_webhooks_included(api_server):
    with httpx.Client(base_url=api_server.url, timeout=10) as http:
        answers = [
            http.get("/api/health"),
            http.get("/api/me"),  # 401
            http.get("/api/nowhere"),  # 404
            http.post("/api/webhooks/evolution/unknown", json={}),  # the fast path
        ]
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-eval'" not in csp
        assert {k: answer.headers[k] for k in EXPECTED} == EXPECTED
        assert "camera=()" in answer.headers["permissions-policy"]


def test_hsts_only_over_https():
    assert "Strict-Transport-Security" in security_headers([], dev=False, https=True)
    assert "Strict-Transport-Security" not in security_headers([], dev=False, https=False)


def test_the_policy_lets_pages_reach_only_mirages_backend():
    csp = security_headers(["http://localhost:8000"], dev=True, https=False)["Content-Security-Policy"]
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src"))
    assert "http://localhost:8000" in connect and "ws://localhost:8000" in connect and "*" not in connect
    # the media library's files (pictures, stickers, voice notes) load from the backend, and from nowhere else
    for name in ("img-src", "media-src"):
        sources = next(d for d in csp.split("; ") if d.startswith(name)).split()[1:]
        assert "http://localhost:8000" in sources and "*" not in sources and "https:" not in sources


def test_own_origins_only_with_loopback_twins():
    found = allowed_origins(
        "https://Mirage.example.com/", "http://localhost:3000", None, extra=" https://ops.example ,"
    )
    assert found == [
        "https://mirage.example.com",
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "https://ops.example",
    ]
    assert allowed_origins("ftp://x", "not a url", extra="") == []


@given(st.text())
def test_origin_of_never_invents_a_wildcard(text):
    origin = origin_of(text)
    assert origin == "" or (origin.startswith(("http://", "https://")) and "*" not in origin.split("//", 1)[0])


def test_the_dev_server_config_gains_the_headers_and_the_address_once():
    config = "export default defineConfig({\n  plugins: [\n    reactRouter(),\n  ],\n});"
    headers = {"Content-Security-Policy": "default-src 'self'"}
    once = with_security(config, headers, "127.0.0.1")
    assert '"Content-Security-Policy": "default-src \'self\'"' in once and "res.setHeader(k, v)" in once
    assert 'host: "127.0.0.1"' in once and "host" not in with_security(config, headers, None).split("configure")[0]
    assert once.index("mirage-dev-server-security") < once.index("reactRouter()")
    assert with_security(once, headers, "127.0.0.1") == once


def test_the_backend_is_reached_under_the_pages_own_name_for_this_machine():
    assert backend_origin("http://localhost:8000", "http://127.0.0.1:3000/login") == "http://127.0.0.1:8000"
    assert backend_origin("http://0.0.0.0:8000", "http://localhost:3000/") == "http://localhost:8000"
    assert backend_origin("https://api.mirage.example", "https://mirage.example/") == "https://api.mirage.example"
