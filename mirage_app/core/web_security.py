"""What the browser is told to enforce: which origins may talk to Mirage with credentials, the session cookie's
attributes, and the security headers of every response (UI and API, dev server and production server).

One definition each, read by rxconfig.py (websocket and CORS origins, the dev server's headers), by the ASGI
middleware in front of the backend (api/security_headers.py) and by the session routes (api/session.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

SESSION_COOKIE = "mirage_session"
# This machine's two names: an origin allowed under one is allowed under the other.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
# Backend hostnames that Reflex's frontend replaces with the page's own (reflex state.js, SAME_DOMAIN_HOSTNAMES).
SAME_DOMAIN_HOSTNAMES = ("localhost", "0.0.0.0", "::")


def origin_of(url: str) -> str:
    """ "https://mirage.example.com:8443/x?y" → "https://mirage.example.com:8443" ("" when it is not a URL)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def backend_origin(api_url: str, page_url: str) -> str:
    """Where a page's websocket goes: Reflex's `api_url`, under the page's hostname when it names this machine (as
    Reflex's frontend does), so that a cookie set there travels with the socket."""
    api, page = urlsplit(api_url), urlsplit(page_url).hostname
    host = page if api.hostname in SAME_DOMAIN_HOSTNAMES and page else api.hostname
    port = f":{api.port}" if api.port else ""
    return f"{api.scheme}://{host}{port}"


def allowed_origins(*urls: str | None, extra: str | None = None) -> list[str]:
    """The origins whose pages may open the websocket and make credentialed API calls: Mirage's own URLs
    (public, frontend, backend), plus `extra` (comma-separated, MIRAGE_ALLOWED_ORIGINS). A loopback origin is
    allowed under both of its names (only this machine can be either)."""
    found: list[str] = []
    for url in [*urls, *(extra or "").split(",")]:
        origin = origin_of(url or "")
        if not origin:
            continue
        twins = [origin]
        host = urlsplit(origin).hostname
        if host in LOOPBACK_HOSTS:
            twins = [origin.replace(f"//{host}", f"//{name}", 1) for name in LOOPBACK_HOSTS]
        found += [o for o in twins if o not in found]
    return found


def is_https(url: str | None) -> bool:
    return urlsplit(url or "").scheme == "https"


def session_cookie_header(token: str, *, max_age_s: int, secure: bool) -> str:
    """The Set-Cookie value that starts a session: out of JavaScript's reach, never sent from another site."""
    attrs = [f"{SESSION_COOKIE}={token}", "Path=/", f"Max-Age={max_age_s}", "HttpOnly", "SameSite=Strict"]
    return "; ".join([*attrs, "Secure"] if secure else attrs)


def cleared_cookie_header(*, secure: bool) -> str:
    return session_cookie_header("", max_age_s=0, secure=secure)


def cookie_value(cookie_header: str | None, name: str = SESSION_COOKIE) -> str | None:
    """One cookie's value from a Cookie request header (the websocket handshake's, for the session)."""
    for part in (cookie_header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None


def content_security_policy(connect_to: list[str], *, dev: bool) -> str:
    """The page may load only Mirage's own code, talk only to Mirage's backend (HTTP and websocket), and be framed
    by nobody. Reflex's pages carry small inline bootstrap scripts (React Router's hydration context; in dev, Vite's
    refresh preamble) and Radix/Emotion inject styles at run time, hence 'unsafe-inline' for those two only. Pictures
    and voice notes of the media library come from the backend (`/api/media/{id}/file`), hence img-src and
    media-src name it too."""
    sockets = [o.replace("http", "ws", 1) for o in connect_to]
    script = "'self' 'unsafe-inline'" + (" 'unsafe-eval'" if dev else "")
    directives = {
        "default-src": "'self'",
        "script-src": script,
        "style-src": "'self' 'unsafe-inline'",
        # Media files come from the backend (/api/media/{id}/file), another origin than the dev server's pages.
        "img-src": " ".join(["'self'", "data:", "blob:", *connect_to]),
        "media-src": " ".join(["'self'", "blob:", *connect_to]),
        "font-src": "'self' data:",
        "connect-src": " ".join(["'self'", *connect_to, *sockets] + (["ws:"] if dev else [])),
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(connect_to: list[str], *, dev: bool, https: bool) -> dict[str, str]:
    """Headers for every response Mirage serves (HSTS only when Mirage is served over HTTPS)."""
    headers = {
        "Content-Security-Policy": content_security_policy(connect_to, dev=dev),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers
