"""The `/api/*` application mounted in front of Reflex through `api_transformer`."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from mirage_app.api import (
    contacts,
    evolution_servers,
    health,
    instances,
    me,
    media,
    metrics,
    outreach,
    session,
    webhooks,
)
from mirage_app.api.deps import refuse_bad_text
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
    # Not the webhook route: it reads its body itself, within its size limit, and guards its own parse.
    for keyed in (me, session, instances, evolution_servers, metrics, contacts, outreach, media):
        api.include_router(keyed.router, dependencies=[Depends(refuse_bad_text)])

    @api.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown_route(path: str) -> None:
        # Without this, unknown /api paths would fall through to Reflex and answer HTML.
        raise ApiError(404, "not_found", f"no API route /api/{path}")

    return api


api = create_api()
# What Mirage serves: the FastAPI app behind the webhook fast path (see api/webhooks.py). Reflex mounts its own
# app inside `api` and then applies the fast path (mirage_app.py); `asgi` is the same stack without Reflex.
asgi = with_security_headers(WebhookFastPath(api), origins=allowed_origins(get_settings().public_url), dev=False)
