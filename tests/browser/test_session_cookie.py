"""Issue 14 in a real browser: the session lives in an HttpOnly, SameSite=Strict cookie that page JavaScript never
sees; the pages and the API carry the security headers; a foreign origin cannot open the websocket or make
credentialed API calls. (The HTTP-level checks of the same rules are in tests/security/.)"""

from __future__ import annotations

import base64
import os
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from mirage_app.core.web_security import SESSION_COOKIE
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVIL = "http://evil.example"


def _session_cookies(page: Page) -> list[dict]:
    return [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]


def test_the_session_cookie_is_out_of_javascripts_reach(running_app, admin_settled, page: Page):
    sign_in(page, running_app, admin_settled.email, admin_settled.password, admin_settled.second_factor)
    [cookie] = _session_cookies(page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]  # served over http here
    assert SESSION_COOKIE not in page.evaluate("document.cookie")
    # Nor is the token anywhere in what the page holds: not in its storage, not in the state Reflex sent it.
    stored = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert cookie["value"] not in stored and cookie["value"] not in page.content()

    page.reload()  # the websocket's handshake carries the cookie: still signed in
    expect(page.locator("#sidebar")).to_be_visible(timeout=30_000)

    page.locator("#logout").first.click()
    expect(page).to_have_url(re.compile(r"/login"), timeout=30_000)
    assert _session_cookies(page) == []
    page.goto(running_app.url + "/instances")  # the token is revoked too, not only forgotten
    expect(page).to_have_url(re.compile(r"/login\?next=/instances"), timeout=30_000)


def test_pages_and_api_carry_the_security_headers(running_app, page: Page):
    page_response = page.goto(running_app.url + "/login")
    api_response = httpx.get(running_app.api_url + "/api/health", timeout=10)
    for headers in (page_response.headers, api_response.headers):
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # only when MIRAGE_PUBLIC_URL is https
    expect(page.locator("#login-email")).to_be_visible(timeout=30_000)  # the page works under its own policy


def _websocket_handshake(api_url: str, origin: str) -> int:
    """The HTTP status the backend answers a websocket upgrade to Reflex's event socket from `origin`."""
    parts = urlsplit(api_url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(request.encode())
        return int(conn.recv(4096).split(b" ", 2)[1])


def test_a_foreign_origin_gets_neither_the_websocket_nor_credentialed_cors(running_app):
    assert _websocket_handshake(running_app.api_url, running_app.url) == 101
    assert _websocket_handshake(running_app.api_url, EVIL) != 101

    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "GET"}
    answer = httpx.options(running_app.api_url + "/api/me", headers=preflight, timeout=10)
    assert answer.headers.get("access-control-allow-origin") not in (EVIL, "*")
    own_preflight = httpx.options(
        running_app.api_url + "/api/me", headers={**preflight, "Origin": running_app.url}, timeout=10
    )
    assert own_preflight.headers.get("access-control-allow-origin") == running_app.url


def _this_machines_other_address() -> str | None:
    """An address of this machine other than loopback (None on a machine that has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the kernel only picks a route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_embedded_default_answers_this_machine_only(running_app):
    address = _this_machines_other_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    for url in (running_app.url, running_app.api_url):
        port = urlsplit(url).port
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=5).close()
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
