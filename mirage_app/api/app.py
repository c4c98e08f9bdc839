"""The `/api/*` application mounted in front of Reflex through `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI

from mirage_app.api import contacts, evolution_servers, health, instances, me, metrics, outreach, session, webhooks
from mirage_app.api.errors import ApiError, install_error_handlers
from mirage_app.api.security_headers import with_security_headers
from mirage_app.api.webhooks import WebhookFastPath
from mirage_app.core.config import get_settings
from mirage_app.core.web_security import allowed_origins


def create_api() -> FastAPI:
    api = FastAPI(
        title="Mirage API",
        version="0.1.0",
        description="Tenant API (Bearer API key) and the Evolution webhook receiver.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI would load assets from a CDN; the OpenAPI document is enough.
        redoc_url=None,
    )
    install_error_handlers(api)
    api.include_router(health.router)
    api.include_router(webhooks.router)
    api.include_router(me.router)
    api.include_router(session.router)
    api.include_router(instances.router)
    api.include_router(evolution_servers.router)
    api.include_router(metrics.router)
    api.include_router(contacts.router)
    api.include_router(outreach.router)

    @api.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown_route(path: str) -> None:
        # Without this, unknown /api paths would fall through to Reflex and answer HTML.
        raise ApiError(404, "not_found", f"no API route /api/{path}")

    return api


api = create_api()
# What Mirage serves: the FastAPI app behind the webhook fast path (see api/webhooks.py). Reflex mounts its own
# app inside `api` and then applies the fast path (mirage_app.py); `asgi` is the same stack without Reflex.
asgi = with_security_headers(WebhookFastPath(api), origins=allowed_origins(get_settings().public_url), dev=False)
