"""The sign-in cookie, set and cleared over HTTP so that page JavaScript never sees the token.

A sign-in on the UI's websocket ends with a one-time hand-off code (services.auth_sessions.hand_off); the page then
navigates to `GET /api/session/claim?code=…`, which sets the HttpOnly, SameSite=Strict cookie and sends the browser
on to the page it was going to. The next websocket handshake carries the cookie, and the UI resolves the actor from
it on the server (states/auth.py). `GET /api/session/end` clears the cookie after sign-out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from mirage_app.core.config import get_settings
from mirage_app.core.web_security import (
    SESSION_COOKIE,
    cleared_cookie_header,
    cookie_value,
    is_https,
    session_cookie_header,
)
from mirage_app.services import auth, auth_sessions

router = APIRouter(include_in_schema=False)
# Sec-Fetch-Site of a navigation started by one of Mirage's own pages (the UI and the backend share a site).
OWN_NAVIGATION = {"same-origin", "same-site"}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or is_https(get_settings().public_url)


def _back_to(request: Request, target: str | None) -> str:
    """`target` when it is on this host (the UI and the backend differ only by port in development), else this
    host's sign-in page: never a redirect to another site."""
    parts = urlsplit(target or "")
    if parts.hostname and parts.hostname == request.url.hostname and parts.scheme in ("http", "https"):
        return target or "/login"
    return "/login"


def _redirect(location: str, cookie: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    response.headers["Set-Cookie"] = cookie
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/api/session/claim")
def claim(request: Request, code: str = "", to: str = "") -> RedirectResponse:
    """Exchange a hand-off code for the session cookie, then go on to the page the sign-in was for (`to`, the
    sign-in page, when the code is spent, late or made up). Only a navigation from Mirage's own pages may claim
    one, so a link sent by someone else cannot sign a visitor into the sender's account."""
    own = request.headers.get("sec-fetch-site", "same-origin") in OWN_NAVIGATION
    handed = auth_sessions.claim(code) if own else None
    if handed is None:
        return RedirectResponse(_back_to(request, to), status_code=303)
    token, destination = handed
    max_age = int(auth_sessions.SESSION_ABSOLUTE.total_seconds())
    secure = _secure(request)
    return _redirect(_back_to(request, destination), session_cookie_header(token, max_age_s=max_age, secure=secure))


@router.get("/api/session/end")
def end(request: Request, to: str = "") -> RedirectResponse:
    """Sign-out's last step: the session is revoked (the UI already did; this covers a direct visit) and the cookie
    cleared."""
    token = cookie_value(request.headers.get("cookie"), SESSION_COOKIE)
    if token and request.headers.get("sec-fetch-site", "same-origin") in OWN_NAVIGATION:
        auth.logout(token, ip=request.client.host if request.client else None)
    return _redirect(_back_to(request, to), cleared_cookie_header(secure=_secure(request)))
