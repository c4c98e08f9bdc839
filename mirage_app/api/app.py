"""The `/api/*` application mounted in front of Reflex through `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI

from mirage_app.api import health
from mirage_app.api.errors import install_error_handlers


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
    return api


api = create_api()
