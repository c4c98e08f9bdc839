"""Security headers on every response the backend serves: the API, Reflex's own routes and, in production, the
compiled pages (see core/web_security.security_headers for what they say)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mirage_app.core.config import get_settings
from mirage_app.core.web_security import is_https, security_headers


class SecurityHeaders:
    """ASGI middleware: adds `headers` to each HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(app: ASGIApp, *, origins: list[str], dev: bool) -> SecurityHeaders:
    """`app` behind the headers for Mirage served to `origins` (HSTS when MIRAGE_PUBLIC_URL is HTTPS)."""
    return SecurityHeaders(app, security_headers(origins, dev=dev, https=is_https(get_settings().public_url)))
