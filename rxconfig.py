"""Reflex configuration. With no DATABASE_URL / REDIS_URL / EVOLUTION_URL set, `reflex run` starts the embedded
PostgreSQL, Redis, Evolution simulator, workers and scheduler first (see mirage_app/core/supervisor.py)."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from mirage_app.core.bootstrap import bun_path, prepare

prepare()

import mirage_app.models  # noqa: E402,F401  (Reflex's start-up schema check compares against these tables)
from mirage_app.core import web_security  # noqa: E402
from mirage_app.core.config import get_settings  # noqa: E402  (after prepare() filled the environment)
from mirage_app.core.dev_server import DevServerSecurity  # noqa: E402

settings = get_settings()
# `reflex run --env prod` forks min(2 x cores + 1, 8) Granian workers; Mirage's backend is asynchronous and waits on
# PostgreSQL, so cores + 1 serve as much with a third of the tail latency (bench/webhooks/ on 2 cores: 5 workers
# p99 164 ms at 1,000 deliveries/s, 3 workers 28 ms). GRANIAN_WORKERS still overrides.
os.environ.setdefault("GRANIAN_WORKERS", str(min((os.cpu_count() or 1) + 1, 8)))
# A Redis the operator provides also holds Reflex's UI state, so several backend processes can share it.
embedded = bool(os.environ.get("MIRAGE_EMBEDDED_OWNER"))
reflex_redis = os.environ.get("MIRAGE_REFLEX_REDIS", "0" if embedded else "1") == "1"
# The embedded default answers this machine only (backend and dev server); MIRAGE_BIND_HOST opens it.
bind_host = settings.bind_host or ("127.0.0.1" if embedded else None)


def own_origins() -> list[str]:
    """Origins allowed on the websocket and for credentialed CORS (read when asked: `reflex run` sets the ports
    after this file is loaded)."""
    return web_security.allowed_origins(
        settings.public_url, config.deploy_url, config.api_url, extra=settings.allowed_origins
    )


def dev_server_headers() -> dict[str, str]:
    return web_security.security_headers(own_origins(), dev=True, https=web_security.is_https(settings.public_url))


config = rx.Config(
    app_name="mirage_app",
    db_url=settings.resolved_app_database_url(),
    redis_url=settings.redis_url if reflex_redis else None,
    telemetry_enabled=False,
    bun_path=bun_path() or "bun",
    show_built_with_reflex=False,
    backend_host=bind_host or "0.0.0.0",
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="dark", accent_color="cyan", gray_color="slate", radius="medium")
        ),
        DevServerSecurity(dev_server_headers, host=bind_host),
    ],
)
config.cors_allowed_origins = tuple(own_origins())
