"""The harness's fixture: its error, the bare baseline app and its launcher, the embedded PostgreSQL and Redis
migrated and seeded with a tenant and its numbers, the servers' environment, and the server processes."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_PATH = "/api/webhooks/evolution"
SECRET_HEADER = "x-mirage-webhook-secret"
HOST = "127.0.0.1"


class HarnessError(RuntimeError):
    """Something in the benchmark itself failed (not a performance or correctness miss of the app)."""


# --------------------------------------------------------------------------------------------------------------
# The baseline: what an empty endpoint costs when served the way Reflex serves its prod backend.


def create_baseline_app():
    """Granian factory target: a bare FastAPI app with the same route path as Mirage's receiver."""
    from fastapi import FastAPI, Request

    globals()["Request"] = Request  # FastAPI resolves the (postponed) annotation below in this module's globals
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post(WEBHOOK_PATH)
    async def receive(request: Request) -> dict:
        await request.body()
        return {"ok": True}

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    return app


def serve_baseline(port: int) -> None:
    """Serve the baseline with Reflex's own prod launcher (Granian, fork start method, GRANIAN_WORKERS)."""
    from reflex.utils import exec as rx_exec
    from reflex_base.constants.base import LogLevel

    # `reflex run --env prod` passes config.loglevel.subprocess_level(), i.e. WARNING by default.
    rx_exec.run_granian_backend_prod(
        HOST, port, LogLevel.WARNING, app_target="bench.webhooks.fixture:create_baseline_app"
    )


# --------------------------------------------------------------------------------------------------------------
# Services, schema and seed data.


@dataclass
class Instance:
    name: str
    secret: str
    number_id: str


@dataclass
class Fixture:
    base: Path
    env: dict[str, str]
    admin_dsn: str
    pg_pid: int = 0
    redis_pid: int = 0
    tenant_id: str = ""
    instances: list[Instance] = field(default_factory=list)
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        for stop in reversed(self.stoppers):
            with contextlib.suppress(Exception):
                stop()
        self.stoppers.clear()


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _reset_mirage_caches() -> None:
    from mirage_app.core.config import reset_settings_cache
    from mirage_app.core.db import reset_engines

    reset_settings_cache()
    reset_engines()


def start_services(base: Path, n_numbers: int) -> Fixture:
    from mirage_app.core.embedded import EmbeddedPostgres, EmbeddedRedis

    pg = EmbeddedPostgres(base / "postgres").start()
    fixture = Fixture(base=base, env={}, admin_dsn=_libpq(pg.admin_url()), pg_pid=pg.proc.pid)
    fixture.stoppers.append(pg.stop)
    redis = EmbeddedRedis(base / "redis").start()
    fixture.stoppers.append(redis.stop)
    fixture.redis_pid = redis.proc.pid
    fixture.env = {
        "DATABASE_URL": pg.admin_url(),
        "REDIS_URL": redis.url,
        "MIRAGE_SECRET_KEY": f"bench-{uuid.uuid4().hex}",  # the server and this process must agree on it
        "EVOLUTION_URL": "http://127.0.0.1:9",  # never called by the webhook route
        "EVOLUTION_API_KEY": "x",
        "MIRAGE_DATA_DIR": str(base / "data"),
    }
    saved = {k: os.environ.get(k) for k in (*fixture.env, "MIRAGE_APP_DATABASE_URL")}
    os.environ.pop("MIRAGE_APP_DATABASE_URL", None)
    os.environ.update(fixture.env)
    _reset_mirage_caches()
    try:
        _migrate_and_seed(fixture, n_numbers)
    finally:
        _reset_mirage_caches()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return fixture


def _migrate_and_seed(fixture: Fixture, n_numbers: int) -> None:
    from mirage_app.core import migrate
    from mirage_app.core.db import tenant_session
    from mirage_app.core.security import hash_token
    from mirage_app.engine.ingest import SECRET_HEADER as APP_SECRET_HEADER
    from mirage_app.models import EvolutionSession, Number, NumberStatus
    from mirage_app.services.seed import create_tenant

    if APP_SECRET_HEADER != SECRET_HEADER:
        raise HarnessError(f"the app expects the secret in {APP_SECRET_HEADER!r}")
    migrate.upgrade()
    tenant = create_tenant("Bench Tenant")
    fixture.tenant_id = str(tenant)
    with tenant_session(tenant) as s:
        for i in range(n_numbers):
            name, secret = f"mrg-bench-{i}-{uuid.uuid4().hex[:6]}", f"secret-{uuid.uuid4().hex}"
            number = Number(
                tenant_id=tenant,
                session_id=name,
                label=f"Bench {i}",
                status=NumberStatus.connected,
                wa_number=f"+55119888800{i:02d}",
            )
            s.add(number)
            s.flush()
            s.add(
                EvolutionSession(
                    tenant_id=tenant,
                    number_id=number.id,
                    webhook_secret_hash=hash_token(secret),
                )
            )
            fixture.instances.append(Instance(name, secret, str(number.id)))
        s.commit()


def child_env(fixture: Fixture, workers: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MIRAGE_EMBEDDED_OWNER", "MIRAGE_APP_DATABASE_URL")}
    env.pop("GRANIAN_WORKERS", None)
    env.update(fixture.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    if workers:
        env["GRANIAN_WORKERS"] = str(workers)
    return env


# --------------------------------------------------------------------------------------------------------------
# Server processes.


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A server in its own process group, stopped with SIGINT then SIGKILL of the whole group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name, self.args, self.env, self.port, self.log_path = name, args, env, port, log_path
        self.proc: subprocess.Popen | None = None
        self._descendants: list = []

    def start(self) -> Server:
        from mirage_app.core.processes import die_with_parent

        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        return self

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise HarnessError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            time.sleep(0.25)
        raise HarnessError(f"{self.name} did not answer /ping within {timeout:.0f} s:\n{self.log_tail()}")

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise HarnessError(f"{self.name} exited (status {self.proc and self.proc.returncode}):\n{self.log_tail()}")

    def worker_pids(self, settle_s: float = 10.0) -> list[int]:
        """The server processes that accept connections: Granian forks its workers from the launching process."""
        import psutil

        assert self.proc is not None
        parent = psutil.Process(self.proc.pid)
        deadline, previous = time.monotonic() + settle_s, None
        while True:  # wait until the count is stable (workers start one after another)
            children = [c for c in parent.children(recursive=False) if c.is_running()]
            pids = sorted(c.pid for c in children)
            if pids == previous or time.monotonic() > deadline:
                break
            previous = pids
            time.sleep(1.0)
        self._descendants = parent.children(recursive=True)
        return pids

    def stop(self) -> None:
        import psutil

        if self.proc is None:
            return
        with contextlib.suppress(psutil.Error):
            self._descendants = psutil.Process(self.proc.pid).children(recursive=True) or self._descendants
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for child in self._descendants:  # anything that left the group
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.proc = None
