"""Test services: a real PostgreSQL and Redis.

By default both are embedded (started from their Python wheels in a temporary folder). With DATABASE_URL set,
a fresh database is created on that server for the run (and dropped after); with REDIS_URL set, that Redis
database is used and flushed. Example against this machine's system services:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/15 pytest
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

TEST_SECRET = "mirage-test-secret-key-not-for-production"


@dataclass
class TestServices:
    admin_url: str  # owner connection to the test database
    server_admin_url: str  # owner connection to the server's maintenance database
    redis_url: str

    def create_database(self, name: str) -> str:
        with psycopg.connect(_libpq(self.server_admin_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return make_url(self.server_admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(_libpq(self.server_admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _reset_caches() -> None:
    from mirage_app.core.config import reset_settings_cache
    from mirage_app.core.db import reset_engines
    from mirage_app.core.redis import reset_redis

    reset_settings_cache()
    reset_engines()
    reset_redis()


@pytest.fixture(scope="session")
def services(tmp_path_factory) -> Iterator[TestServices]:
    from mirage_app.core.config import _with_psycopg
    from mirage_app.core.embedded import EmbeddedPostgres, EmbeddedRedis

    base = tmp_path_factory.mktemp("services")
    started = []
    given_db = os.environ.get("DATABASE_URL")
    given_redis = os.environ.get("REDIS_URL")
    if given_db:
        server_admin = _with_psycopg(given_db)
    else:
        pg = EmbeddedPostgres(base / "postgres").start()
        started.append(pg)
        server_admin = pg.admin_url("postgres")
    if given_redis:
        redis_url = given_redis
    else:
        redis = EmbeddedRedis(base / "redis").start()
        started.append(redis)
        redis_url = redis.url

    db_name = f"mirage_test_{uuid.uuid4().hex[:10]}"
    svc = TestServices(admin_url="", server_admin_url=server_admin, redis_url=redis_url)
    svc.admin_url = svc.create_database(db_name)

    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "REDIS_URL", "MIRAGE_SECRET_KEY", "MIRAGE_DATA_DIR")}
    os.environ.update(
        DATABASE_URL=svc.admin_url,
        REDIS_URL=redis_url,
        MIRAGE_SECRET_KEY=TEST_SECRET,
        MIRAGE_DATA_DIR=str(base / "data"),
    )
    _reset_caches()
    import redis as redis_lib

    redis_lib.Redis.from_url(redis_url).flushdb()
    from mirage_app.core import migrate

    migrate.upgrade()
    try:
        yield svc
    finally:
        _reset_caches()
        svc.drop_database(db_name)
        for server in reversed(started):
            server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def make_tenant(services):
    from mirage_app.services.seed import create_tenant

    def _make(name: str | None = None, **kwargs) -> uuid.UUID:
        return create_tenant(name or f"Tenant {uuid.uuid4().hex[:6]}", **kwargs)

    return _make


@pytest.fixture
def tenant_a(make_tenant) -> uuid.UUID:
    return make_tenant("Tenant A")


@pytest.fixture
def tenant_b(make_tenant) -> uuid.UUID:
    return make_tenant("Tenant B")


@pytest.fixture
def webhook_instance(tenant_a) -> dict:
    """A number of tenant A with an Evolution session whose webhook secret is known: name, secret, tenant."""
    name, secret = f"mrg-ret-{uuid.uuid4().hex[:8]}", f"secret-{uuid.uuid4().hex}"
    from mirage_app.core.db import tenant_session
    from mirage_app.core.security import hash_token
    from mirage_app.models import EvolutionSession, Number, NumberStatus

    with tenant_session(tenant_a) as s:
        number = Number(tenant_id=tenant_a, session_id=name, label="A", status=NumberStatus.connected)
        s.add(number)
        s.flush()
        s.add(EvolutionSession(tenant_id=tenant_a, number_id=number.id, webhook_secret_hash=hash_token(secret)))
        s.commit()
    return {"tenant": tenant_a, "name": name, "secret": secret}


@pytest.fixture(scope="session")
def api_server(services):
    """Mirage's /api app served over real HTTP (uvicorn in a thread), so the simulator can post webhooks to it."""
    from mirage_app.api.app import asgi
    from mirage_app.evolution.simulator.server import BackgroundServer

    server = BackgroundServer(asgi)
    server.start()
    os.environ["MIRAGE_PUBLIC_URL"] = server.url
    _reset_caches()
    yield server
    server.stop()


def free_server_urls(urls, *, tenants_only: bool = False) -> None:
    """A simulator just started on these URLs, so any stored server with one of them is an earlier test's, whose
    port the system gave out again: its URL is renamed out of the way (`base_url` is unique). `tenants_only` keeps
    platform rows, which re-registering the same URL simply updates."""
    from sqlalchemy import text

    from mirage_app.core.db import admin_engine
    from mirage_app.services.evolution_servers import clean_url

    with admin_engine().begin() as conn:
        conn.execute(
            text(
                "UPDATE evolution_servers SET base_url = base_url || '#gone-' || id::text "
                "WHERE base_url = ANY(:urls) AND (tenant_id IS NOT NULL OR NOT :tenants_only)"
            ),
            {"urls": [clean_url(u) for u in urls], "tenants_only": tenants_only},
        )


def use_as_default_server(url: str, api_key: str):
    """Make a simulator Mirage's default Evolution server, as EVOLUTION_URL does at start (room for every test)."""
    from sqlalchemy import text

    from mirage_app.core.db import admin_engine
    from mirage_app.engine.evolution_gateway import reset_evolution_client
    from mirage_app.services.evolution_servers import ensure_default_server

    free_server_urls([url], tenants_only=True)
    os.environ.update(EVOLUTION_URL=url, EVOLUTION_API_KEY=api_key, EVOLUTION_CAPACITY="100000", MIRAGE_DEMO="1")
    _reset_caches()
    reset_evolution_client()
    server_id = ensure_default_server()
    with admin_engine().begin() as conn:  # the only platform server new numbers go to
        conn.execute(
            text(
                "UPDATE evolution_servers SET state = CASE WHEN id = :id THEN 'active' ELSE 'draining' END "
                "WHERE tenant_id IS NULL"
            ),
            {"id": server_id},
        )
    return server_id


def retire_server(server_id) -> None:
    """A test's simulator is gone for good: its server is disabled (those on it keep their history)."""
    from sqlalchemy import text

    from mirage_app.core.db import admin_engine

    with admin_engine().begin() as conn:
        conn.execute(
            text("UPDATE evolution_servers SET state = 'disabled', is_default = false WHERE id = :id"),
            {"id": server_id},
        )
    for key in ("EVOLUTION_URL", "EVOLUTION_API_KEY", "EVOLUTION_CAPACITY", "MIRAGE_DEMO"):
        os.environ.pop(key, None)


@pytest.fixture(scope="session")
def simulator(api_server):
    """The Evolution simulator over real HTTP, configured as Mirage's Evolution server."""
    from mirage_app.engine.evolution_gateway import reset_evolution_client
    from mirage_app.evolution.simulator.config import SimConfig
    from mirage_app.evolution.simulator.server import SimulatorServer

    sim = SimulatorServer(config=SimConfig(webhook_backoff_s=0.05, webhook_backoff_cap_s=0.2, seed=7))
    sim.start()
    server_id = use_as_default_server(sim.url, sim.api_key)
    yield sim
    sim.stop()
    retire_server(server_id)
    _reset_caches()
    reset_evolution_client()


@pytest.fixture
def admin_actor(tenant_a):
    from mirage_app.base.permissions import Actor
    from mirage_app.models import UserRole

    return Actor(tenant_id=tenant_a, role=UserRole.admin, label="admin@test", mfa_enabled=True)


def wait_for(predicate, timeout: float = 10.0) -> bool:
    """Whether `predicate()` came true within `timeout` seconds (for what another thread or process does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def make_number(tenant, label: str = "Vendas", status=None, wa: str | None = None, **fields) -> uuid.UUID:
    """A number written straight to the database (no Evolution server): connected unless told, paired a month ago;
    `fields` are more of its columns (`persona_id=`…)."""
    from mirage_app.core.db import tenant_session
    from mirage_app.models import Number, NumberStatus

    with tenant_session(tenant) as s:
        number = Number(
            tenant_id=tenant,
            session_id=f"test-{uuid.uuid4().hex[:12]}",
            label=label,
            status=status or NumberStatus.connected,
            wa_number=wa or f"+55119{uuid.uuid4().int % 10**8:08d}",
            paired_at=datetime.now(UTC) - timedelta(days=30),
            **fields,
        )
        s.add(number)
        s.commit()
        return number.id


def make_numbers(tenant, n: int, prefix: str = "N") -> list[uuid.UUID]:
    """`n` connected numbers labelled `<prefix>0`, `<prefix>1`…"""
    return [make_number(tenant, f"{prefix}{i}") for i in range(n)]
