"""The Reflex application: pages, theme, and the `/api` FastAPI app in front of Reflex's own routes."""

import asyncio
import functools
import logging

import reflex as rx
from reflex.utils.exec import is_prod_mode

import mirage_app.pages  # noqa: F401  (registers every route)
from mirage_app.api.app import api
from mirage_app.api.security_headers import with_security_headers
from mirage_app.api.webhooks import WebhookFastPath
from mirage_app.core.processes import freeze_startup_heap
from mirage_app.states.ui import unexpected_error

secured = functools.partial(
    with_security_headers, origins=list(rx.config.get_config().cors_allowed_origins), dev=not is_prod_mode()
)
app = rx.App(
    stylesheets=["/styles.css"],
    # `api` first (Reflex mounts its own routes inside it), then Evolution's deliveries skip both (api/webhooks.py),
    # and every response, the fast path's included, carries the security headers.
    api_transformer=[api, WebhookFastPath, secured],
    head_components=[rx.el.meta(name="color-scheme", content="dark")],
    backend_exception_handler=unexpected_error,
)


async def _freeze_startup_heap() -> None:
    freeze_startup_heap()  # each backend worker, once its app is built (see core/processes.py)


app.register_lifespan_task(_freeze_startup_heap)


async def _register_evolution_servers() -> None:
    """EVOLUTION_URL becomes (or updates) the platform's default server, so numbers can be placed at once."""
    from mirage_app.services.evolution_servers import ensure_platform_servers

    try:
        await asyncio.to_thread(ensure_platform_servers)
    except Exception:
        logging.getLogger("mirage").exception("could not register the platform's Evolution server")


app.register_lifespan_task(_register_evolution_servers)
