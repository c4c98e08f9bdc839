"""Sustained `messages.upsert` webhook ingestion against Mirage as it runs in production, beside a bare baseline.

    .venv/bin/python -m bench.webhooks [--seconds 15] [--warmup 3] [--connections 64] [--workers N]

What it does, in one run:

1. starts an embedded PostgreSQL and Redis in a temporary folder, migrates, creates a tenant and 4 numbers whose
   webhook secrets it knows;
2. starts Mirage exactly as production does: `reflex run --env prod --backend-only` with DATABASE_URL, REDIS_URL
   and EVOLUTION_URL set (so no embedded supervisor starts, Reflex picks the Redis state manager, and Mirage's
   rxconfig its Granian worker count: cores + 1), and reads back how many Granian workers it forked;
3. starts a bare FastAPI app (one POST endpoint that reads the body and answers `{"ok": true}`) through the very
   function Reflex uses to serve its prod backend (`reflex.utils.exec.run_granian_backend_prod`), with the same
   worker count, and loads it: that is the ceiling this machine allows an ASGI app served this way;
4. loads Mirage with unique `messages.upsert` deliveries (wrk + a Lua script when wrk is installed, else a
   multi-process asyncio generator), after a warm-up, at fixed concurrency, and checks the rows it stored;
5. loads both at a fixed rate (open loop, default 1,000 deliveries/s) to see the latency of a sustained rate;
6. sends N unique deliveries 3 times each, shuffled and concurrently, and checks that only N events and N
   messages were stored.

The goal (>= 1,000 events/s with p99 < 50 ms) is judged as: the closed loop's saturation throughput reaches 1,000/s,
and at a sustained 1,000/s (open loop) every delivery is answered with p99 < 50 ms. The closed loop's own p99 is
printed but not judged: at saturation a closed loop's latency is its queue (Little's law: 64 connections /
throughput), which is why the bare baseline misses 50 ms there too.

Exit status: 0 when the run completed (whether or not the goal was met), 2 on a harness error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import weakref
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WEBHOOK_PATH = "/api/webhooks/evolution"
SECRET_HEADER = "x-mirage-webhook-secret"
GOAL_EVENTS_PER_S = 1000.0
GOAL_P99_MS = 50.0
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
    rx_exec.run_granian_backend_prod(HOST, port, LogLevel.WARNING, app_target="bench.webhooks:create_baseline_app")


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


# --------------------------------------------------------------------------------------------------------------
# Request bodies.


def _from_me() -> bool:
    """--from-me (passed through the environment, so the generator processes see it too)."""
    return os.environ.get("MIRAGE_BENCH_FROM_ME") == "1"


def upsert_body(instance: str, key_id: str, n: int) -> bytes:
    """A `messages.upsert` like Evolution 2.3 sends for an inbound text (tests/api/test_webhooks.py::_upsert)."""
    phone = f"551196{(n * 7919) % 10_000_000:07d}"
    payload = {
        "event": "messages.upsert",
        "instance": instance,
        "data": {
            "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": _from_me(), "id": key_id},
            "pushName": "Maria",
            "status": "DELIVERY_ACK",
            "message": {"conversation": f"Oi, tudo bem? #{n}"},
            "messageType": "conversation",
            "messageTimestamp": 1761055561,
            "source": "android",
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def http_request(port: int, secret: str, body: bytes) -> bytes:
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"{SECRET_HEADER}: {secret}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# wrk script: unique key ids per thread and request, instances (and their secrets) in rotation. The same body
# shape as `upsert_body` (the byte layout differs, which does not matter: each body is unique anyway).
WRK_LUA = r"""
local names = {%(names)s}
local secrets = {%(secrets)s}
local path = "%(path)s"
local prefix = "%(prefix)s"
local counter = 0
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function request()
  counter = counter + 1
  local i = counter %% #names + 1
  local key = prefix .. string.format("%%02X%%09X", tid, counter)
  local phone = string.format("551196%%07d", (counter * 7919 + tid * 104729) %% 10000000)
  local body = '{"event":"messages.upsert","instance":"' .. names[i] ..
    '","data":{"key":{"remoteJid":"' .. phone .. '@s.whatsapp.net","fromMe":%(from_me)s,"id":"' .. key ..
    '"},"pushName":"Maria","status":"DELIVERY_ACK","message":{"conversation":"Oi, tudo bem? #' .. counter ..
    '"},"messageType":"conversation","messageTimestamp":1761055561,"source":"android"}}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["%(header)s"] = secrets[i]}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


# --------------------------------------------------------------------------------------------------------------
# Load generation and results.


@dataclass
class LoadResult:
    label: str
    requests: int
    ok: int
    errors: dict[str, int]
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    workers: int = 0
    mode: str = ""
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU time per answered event, by process group

    @property
    def events_per_s(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def _lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def run_wrk(
    port: int, instances: list[Instance], prefix: str, seconds: float, connections: int, threads: int, workdir: Path
) -> LoadResult:
    script = workdir / f"wrk-{prefix}.lua"
    script.write_text(
        WRK_LUA
        % {
            "names": _lua_list([i.name for i in instances]),
            "secrets": _lua_list([i.secret for i in instances]),
            "path": WEBHOOK_PATH,
            "prefix": prefix,
            "header": SECRET_HEADER,
            "from_me": "true" if _from_me() else "false",
        }
    )
    threads = max(1, min(threads, connections))
    args = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{WEBHOOK_PATH}",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if out.returncode != 0 or line is None:
        raise HarnessError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCHJSON "))
    errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return LoadResult(
        label="",
        requests=data["requests"],
        ok=data["requests"] - data["status"],
        errors=errors,
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep_alive) of one HTTP/1.1 response; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for raw in lines[1:]:
        name, _, value = raw.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get(b"connection") != b"close"


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def drive(
    port: int, connections: int, next_request: Callable[[], bytes | None], record: Callable[[float, float, int], None]
) -> None:
    """Keep-alive connections that each send the next request as soon as the previous answer arrived."""

    async def one_connection() -> None:
        reader, writer = await _connect(port)
        try:
            while (request := next_request()) is not None:
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status, keep_alive = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    record(started, time.perf_counter(), 0)
                    writer.close()
                    reader, writer = await _connect(port)
                    continue
                record(started, time.perf_counter(), status)
                if not keep_alive:
                    writer.close()
                    reader, writer = await _connect(port)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


def _python_load_process(spec: dict) -> dict:
    """One generator process: `connections` keep-alive connections for warm-up + measured seconds."""
    instances = [Instance(**i) for i in spec["instances"]]
    port, prefix = spec["port"], spec["prefix"]
    t0 = time.perf_counter()
    measure_from, stop_at = t0 + spec["warmup"], t0 + spec["warmup"] + spec["seconds"]
    latencies, statuses = array("d"), Counter()
    counter = 0

    def next_request() -> bytes | None:
        nonlocal counter
        if time.perf_counter() >= stop_at:
            return None
        counter += 1
        inst = instances[counter % len(instances)]
        return http_request(port, inst.secret, upsert_body(inst.name, f"{prefix}{counter:09X}", counter))

    def record(started: float, finished: float, status: int) -> None:
        if started >= measure_from and finished <= stop_at:
            latencies.append(finished - started)
            statuses[status] += 1

    asyncio.run(drive(port, spec["connections"], next_request, record))
    return {"latencies": latencies.tobytes(), "statuses": dict(statuses)}


def run_python_load(
    port: int, instances: list[Instance], prefix: str, warmup: float, seconds: float, connections: int, procs: int
) -> LoadResult:
    procs = max(1, min(procs, connections))
    specs = [
        {
            "port": port,
            "instances": [i.__dict__ for i in instances],
            "prefix": f"{prefix}{p:02X}",
            "warmup": warmup,
            "seconds": seconds,
            "connections": connections // procs + (1 if p < connections % procs else 0),
        }
        for p in range(procs)
    ]
    with ProcessPoolExecutor(max_workers=procs, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_python_load_process, specs))
    return _summarise(parts, seconds)


def _open_loop_process(spec: dict) -> dict:
    """Open loop: requests are *scheduled* at a fixed rate and each latency is counted from its scheduled time, so
    a stalled server cannot slow the generator down and hide its own stall (no coordinated omission). The rate
    reported is what was *answered* during the measured window; requests still unanswered `drain_s` after the
    window are abandoned and counted as errors ("unfinished") with the latency they had reached."""
    instances = [Instance(**i) for i in spec["instances"]]
    port, prefix, rate = spec["port"], spec["prefix"], spec["rate"]
    latencies, statuses = array("d"), Counter()
    answered_in_window = 0

    async def main() -> None:
        loop = asyncio.get_running_loop()
        idle: asyncio.Queue = asyncio.Queue()
        for _ in range(spec["connections"]):
            idle.put_nowait(await _connect(port))
        start = loop.time() + 0.1
        measure_from, stop_at = start + spec["warmup"], start + spec["warmup"] + spec["seconds"]
        tasks: set[asyncio.Task] = set()

        async def one(n: int, scheduled: float) -> None:
            nonlocal answered_in_window
            reader, writer = await idle.get()  # all connections busy: the wait counts as latency
            inst = instances[n % len(instances)]
            try:
                writer.write(http_request(port, inst.secret, upsert_body(inst.name, f"{prefix}{n:09X}", n)))
                status, keep_alive = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                status, keep_alive = 0, False
            finished = loop.time()
            if not keep_alive:
                writer.close()
                reader, writer = await _connect(port)
            idle.put_nowait((reader, writer))
            if measure_from <= finished < stop_at and 200 <= status < 400:
                answered_in_window += 1
            if measure_from <= scheduled < stop_at:
                latencies.append(finished - scheduled)
                statuses[status] += 1

        n = 0
        while True:
            scheduled = start + n / rate
            if scheduled >= stop_at:
                break
            now = loop.time()
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            task = asyncio.create_task(one(n, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            scheduled_at[task] = scheduled
            n += 1
        if tasks:
            await asyncio.wait(set(tasks), timeout=spec["drain_s"])
        now = loop.time()
        for task in list(tasks):
            task.cancel()
            if measure_from <= scheduled_at[task] < stop_at:
                latencies.append(now - scheduled_at[task])
                statuses[-1] += 1
        while not idle.empty():
            idle.get_nowait()[1].close()

    scheduled_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    asyncio.run(main())
    return {"latencies": latencies.tobytes(), "statuses": dict(statuses), "answered": answered_in_window}


def _summarise(parts: list[dict], seconds: float, *, answered: int | None = None) -> LoadResult:
    latencies, statuses = array("d"), Counter()
    for part in parts:
        chunk = array("d")
        chunk.frombytes(part["latencies"])
        latencies.extend(chunk)
        statuses.update(part["statuses"])
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else 0.0

    ok = sum(n for s, n in statuses.items() if 200 <= s < 400) if answered is None else answered
    errors = {
        "status": sum(n for s, n in statuses.items() if s >= 400),
        "socket": statuses.get(0, 0),
        "unfinished": statuses.get(-1, 0),
    }
    return LoadResult(
        label="",
        requests=len(ordered),
        ok=ok,
        errors={k: v for k, v in errors.items() if v},
        duration_s=seconds,
        p50_ms=pct(0.50),
        p90_ms=pct(0.90),
        p99_ms=pct(0.99),
        max_ms=ordered[-1] * 1000 if ordered else 0.0,
    )


def run_open_loop(
    port: int, instances: list[Instance], prefix: str, rate: float, warmup: float, seconds: float, connections: int
) -> LoadResult:
    """One generator process (at ~1,000/s it needs a few % of a core) with `connections` keep-alive sockets."""
    spec = {
        "port": port,
        "instances": [i.__dict__ for i in instances],
        "prefix": prefix,
        "rate": rate,
        "warmup": warmup,
        "seconds": seconds,
        "connections": connections,
        "drain_s": 10.0,
    }
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        part = pool.submit(_open_loop_process, spec).result()
    return _summarise([part], seconds, answered=part["answered"])


# --------------------------------------------------------------------------------------------------------------
# Correctness checks.


def post_once(port: int, instance: Instance, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", SECRET_HEADER: instance.secret}
        conn.request("POST", WEBHOOK_PATH, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, {"raw": raw[:300].decode(errors="replace")}


def preflight(port: int, instances: list[Instance], prefix: str) -> None:
    """One delivery per instance, then one redelivery: the harness is wired right before anything is timed."""
    for n, inst in enumerate(instances):
        body = upsert_body(inst.name, f"{prefix}P{n:04X}", n)
        first = post_once(port, inst, body)
        if first != (200, {"ok": True, "duplicate": False}):
            raise HarnessError(f"pre-flight delivery to {inst.name} answered {first}")
        again = post_once(port, inst, body)
        if again != (200, {"ok": True, "duplicate": True}):
            raise HarnessError(f"pre-flight redelivery to {inst.name} answered {again}")


def count_rows(fixture: Fixture, prefix: str) -> tuple[int, int]:
    """(webhook_events, messages) for key ids starting with `prefix`, read with the owner connection."""
    import psycopg

    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        "SELECT (SELECT count(*) FROM webhook_events WHERE tenant_id = %(t)s"
        " AND payload->'data'->'key'->>'id' LIKE %(like)s),"
        " (SELECT count(*) FROM messages WHERE tenant_id = %(t)s AND wa_msg_id LIKE %(like)s)"
    )
    previous = None
    with psycopg.connect(fixture.admin_dsn, autocommit=True) as conn:
        # Deliveries still in flight when the generator stopped keep committing for a moment: wait until quiet.
        for _ in range(40):
            counts = conn.execute(query, {"t": fixture.tenant_id, "like": like}).fetchone()
            if counts == previous:
                break
            previous = counts
            time.sleep(0.5)
    return counts


@dataclass
class DuplicateResult:
    unique: int
    sent: int
    statuses: dict[int, int]
    duplicates_acknowledged: int
    events: int
    messages: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.events == self.unique and self.messages == self.unique and set(self.statuses) == {200}


def duplicate_phase(
    port: int, fixture: Fixture, prefix: str, unique: int, copies: int, connections: int
) -> DuplicateResult:
    instances = fixture.instances
    requests = []
    for n in range(unique):
        inst = instances[n % len(instances)]
        raw = http_request(port, inst.secret, upsert_body(inst.name, f"{prefix}{n:09X}", n))
        requests.extend([raw] * copies)
    random.Random(20261125).shuffle(requests)
    pending: Iterator[bytes] = iter(requests)
    statuses: Counter = Counter()

    def record(_started: float, _finished: float, status: int) -> None:
        statuses[status] += 1

    t0 = time.perf_counter()
    asyncio.run(drive(port, connections, lambda: next(pending, None), record))
    elapsed = time.perf_counter() - t0
    events, messages = count_rows(fixture, prefix)
    return DuplicateResult(
        unique=unique,
        sent=len(requests),
        statuses=dict(statuses),
        duplicates_acknowledged=statuses.get(200, 0) - events,
        events=events,
        messages=messages,
        seconds=elapsed,
    )


# --------------------------------------------------------------------------------------------------------------
# The run.


class CpuMeter:
    """CPU seconds used by the server (all its processes), PostgreSQL (all backends), Redis, the load generator,
    and everything else on the machine ("other": anything not part of the run, which then competes for the cores)."""

    def __init__(self, server_pid: int, pg_pid: int, redis_pid: int) -> None:
        self.server_pid, self.pg_pid, self.redis_pid = server_pid, pg_pid, redis_pid

    @staticmethod
    def _machine_busy() -> float:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
        return busy / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _tree(pid: int) -> float:
        import psutil

        total = 0.0
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def snapshot(self) -> dict[str, float]:
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk / generator processes, once reaped
        own = resource.getrusage(resource.RUSAGE_SELF)
        snap = {
            "server": self._tree(self.server_pid),
            "postgres": self._tree(self.pg_pid),
            "redis": self._tree(self.redis_pid),
            "generator": usage.ru_utime + usage.ru_stime,
        }
        snap["other"] = self._machine_busy() - sum(snap.values()) - own.ru_utime - own.ru_stime
        return snap

    @staticmethod
    def per_event(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
        return {k: (after[k] - before[k]) * 1000 / max(events, 1) for k in before}


def measure(
    args: argparse.Namespace, label: str, server: Server, workers: int, fixture: Fixture, prefix: str
) -> list[LoadResult]:
    """The closed-loop saturation run and the open-loop fixed-rate run against one server."""
    results = []
    meter = CpuMeter(server.proc.pid, fixture.pg_pid, fixture.redis_pid)
    if args.generator == "wrk":
        if args.warmup > 0:
            run_wrk(
                server.port, fixture.instances, prefix + "W", args.warmup, args.connections, args.threads, fixture.base
            )
        before = meter.snapshot()
        closed = run_wrk(
            server.port, fixture.instances, prefix + "M", args.seconds, args.connections, args.threads, fixture.base
        )
        closed.cpu_ms = meter.per_event(before, meter.snapshot(), closed.requests)
    else:
        closed = run_python_load(
            server.port, fixture.instances, prefix + "M", args.warmup, args.seconds, args.connections, args.threads
        )
    server.check_alive()
    closed.label, closed.workers, closed.mode = label, workers, f"closed {args.connections} conn"
    results.append(closed)
    print(f"{label}: closed loop {closed.events_per_s:,.0f} events/s, p99 {closed.p99_ms:.1f} ms", flush=True)
    if args.rate > 0:
        opened = run_open_loop(
            server.port, fixture.instances, prefix + "R", args.rate, args.warmup, args.seconds, args.rate_connections
        )
        server.check_alive()
        opened.label, opened.workers, opened.mode = label, workers, f"open {args.rate:g}/s"
        results.append(opened)
        print(f"{label}: open loop at {args.rate:g}/s, p99 {opened.p99_ms:.1f} ms", flush=True)
    return results


def _fmt_row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def print_table(results: list[LoadResult]) -> None:
    header = ["server", "load", "workers", "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "cpu ms/event"]
    rows = []
    for r in results:
        cpu = " ".join(f"{k[:3]}={v:.2f}" for k, v in r.cpu_ms.items()) if r.cpu_ms else "-"
        rows.append(
            [
                r.label,
                r.mode,
                str(r.workers),
                f"{r.events_per_s:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p90_ms:.2f}",
                f"{r.p99_ms:.2f}",
                f"{r.max_ms:.1f}",
                str(r.error_count) + (f" {r.errors}" if r.errors else ""),
                cpu,
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(_fmt_row(header, widths))
    print(_fmt_row(["-" * w for w in widths], widths))
    for row in rows:
        print(_fmt_row(row, widths))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="python -m bench.webhooks")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per run (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds before each run (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="closed loop: keep-alive connections (64)")
    parser.add_argument(
        "--workers", type=int, default=None, help="GRANIAN_WORKERS for both servers (default: what Reflex picks)"
    )
    parser.add_argument(
        "--rate", type=float, default=GOAL_EVENTS_PER_S, help="open loop: events/s, 0 to skip (default 1000)"
    )
    parser.add_argument("--rate-connections", type=int, default=64, help="open loop: connection pool size (64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads / Python generator processes (2)")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto", help="closed-loop load")
    parser.add_argument("--dup-events", type=int, default=1000, help="unique bodies in the duplicate phase (1000)")
    parser.add_argument("--numbers", type=int, default=4, help="numbers (instances) receiving deliveries (4)")
    parser.add_argument(
        "--from-me",
        action="store_true",
        help="send messages.upsert with key.fromMe=true: stored and applied like any delivery, but not handed to "
        "the conversation engine (no opt-out check, no on_message job): the cost of ingestion alone",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="measure Mirage only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generator == "auto":
        args.generator = "wrk" if shutil.which("wrk") else "python"
    os.environ["MIRAGE_BENCH_FROM_ME"] = "1" if args.from_me else "0"
    if args.generator == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk), use --generator python")
    return args


def run(args: argparse.Namespace) -> int:
    base = Path(tempfile.mkdtemp(prefix="mirage-bench-webhooks-"))
    run_id = uuid.uuid4().hex[:6].upper()
    servers: list[Server] = []
    fixture: Fixture | None = None
    print(
        f"cpus={os.cpu_count()} closed loop: {args.generator}, {args.connections} connections; open loop: "
        f"{args.rate:g}/s; {args.warmup:g} s warm-up + {args.seconds:g} s each; run {run_id}; {base}",
        flush=True,
    )
    try:
        t0 = time.monotonic()
        fixture = start_services(base, args.numbers)
        print(f"embedded PostgreSQL + Redis up, migrated and seeded in {time.monotonic() - t0:.1f} s", flush=True)

        # Mirage, exactly as production starts it.
        mirage_port = free_port()
        mirage = Server(
            "mirage",
            [str(BIN / "reflex"), "run", "--env", "prod", "--backend-only", "--backend-port", str(mirage_port)],
            child_env(fixture, args.workers),
            mirage_port,
            base / "mirage.log",
        )
        servers.append(mirage.start())
        t0 = time.monotonic()
        mirage.wait_ready(timeout=180)
        mirage_workers = len(mirage.worker_pids())
        print(
            f"mirage: `reflex run --env prod --backend-only` up in {time.monotonic() - t0:.1f} s with "
            f"{mirage_workers} Granian workers ({'GRANIAN_WORKERS' if args.workers else 'chosen by Reflex'})",
            flush=True,
        )
        if mirage_workers < 1:
            raise HarnessError(f"could not see Mirage's workers:\n{mirage.log_tail()}")
        preflight(mirage_port, fixture.instances, f"3EB0{run_id}")

        results: list[LoadResult] = []
        if not args.skip_baseline:
            base_port = free_port()
            baseline = Server(
                "baseline",
                [sys.executable, "-m", "bench.webhooks", "--serve-baseline", str(base_port)],
                child_env(fixture, args.workers or mirage_workers),
                base_port,
                base / "baseline.log",
            )
            servers.append(baseline.start())
            baseline.wait_ready(timeout=60)
            baseline_workers = len(baseline.worker_pids())
            answer = post_once(base_port, fixture.instances[0], b'{"event":"x"}')
            if answer != (200, {"ok": True}):
                raise HarnessError(f"the baseline answered {answer}")
            results += measure(args, "baseline", baseline, baseline_workers, fixture, f"3EB0{run_id}B")
            baseline.stop()
            servers.remove(baseline)

        prefix = f"3EB0{run_id}L"
        mirage_results = measure(args, "mirage", mirage, mirage_workers, fixture, prefix)
        results += mirage_results
        events, messages = count_rows(fixture, prefix)
        answered = sum(r.ok for r in mirage_results)
        dup = duplicate_phase(mirage_port, fixture, f"3EB0{run_id}D", args.dup_events, 3, min(args.connections, 32))
        mirage.check_alive()

        print()
        print_table(results)
        by_key = {(r.label, r.mode.split()[0]): r for r in results}
        for mode in ("closed", "open"):
            b, m = by_key.get(("baseline", mode)), by_key.get(("mirage", mode))
            if b and m and b.events_per_s and b.p50_ms and b.p99_ms:
                print(
                    f"mirage/baseline ({m.mode}): throughput {m.events_per_s / b.events_per_s:.3f}, "
                    f"p50 {m.p50_ms / b.p50_ms:.1f}x, p99 {m.p99_ms / b.p99_ms:.1f}x"
                )
        stored_ok = events == messages and events >= answered
        print(
            f"\nrows stored by the load runs (incl. warm-ups): webhook_events={events} messages={messages}; "
            f"2xx answers in the measured windows: {answered} -> {'OK' if stored_ok else 'MISMATCH'}"
        )
        print(
            f"duplicates: {dup.unique} unique bodies x3, shuffled, {min(args.connections, 32)} connections = "
            f"{dup.sent} deliveries in {dup.seconds:.1f} s, statuses {dup.statuses}; rows webhook_events="
            f"{dup.events} messages={dup.messages} -> {'OK' if dup.ok else 'FAIL'}"
        )
        closed, opened = by_key[("mirage", "closed")], by_key.get(("mirage", "open"))
        base_closed = by_key.get(("baseline", "closed"))
        print(
            f"closed loop at saturation ({args.connections} connections), not judged: p99 mirage {closed.p99_ms:.1f} ms"
            + (f", bare baseline {base_closed.p99_ms:.1f} ms" if base_closed else "")
            + f"; queueing alone makes the mean {args.connections / max(closed.events_per_s, 1) * 1000:.0f} ms"
        )
        checks = {
            f"closed-loop (saturation) events/s >= {GOAL_EVENTS_PER_S:,.0f}": closed.events_per_s >= GOAL_EVENTS_PER_S,
            "no HTTP or socket errors": all(
                sum(n for kind, n in r.errors.items() if kind != "unfinished") == 0 for r in mirage_results
            ),
            "duplicates add no rows": dup.ok,
            "every answered event stored once": stored_ok,
        }
        if opened is not None:
            checks[f"sustained {args.rate:g}/s (open loop): p99 < {GOAL_P99_MS:.0f} ms"] = opened.p99_ms < GOAL_P99_MS
            checks[f"sustained {args.rate:g}/s (open loop): rate held, all answered"] = (
                opened.events_per_s >= 0.98 * args.rate and not opened.errors.get("unfinished")
            )
        else:
            checks["a sustained-rate run (--rate 0 skipped it)"] = False
        for r in results:
            if r.cpu_ms:
                own = sum(v for k, v in r.cpu_ms.items() if k != "other")
                print(
                    f"{r.label}: CPU per answered event, all processes of the run: {own:.2f} ms -> on a quiet "
                    f"{os.cpu_count()}-core machine the ceiling is about {(os.cpu_count() or 1) * 1000 / own:,.0f} "
                    "events/s (estimate)"
                )
        for r in results:
            share = r.cpu_ms.get("other", 0.0) * r.events_per_s / 1000 / (os.cpu_count() or 1)
            if share > 0.10:
                print(
                    f"WARNING: during the {r.label} {r.mode} run, processes outside this benchmark used "
                    f"{share:.0%} of the machine's CPU: its figures are pessimistic; rerun on a quiet machine."
                )
        print("\ngoal (>= 1,000 events/s with p99 < 50 ms; duplicates add no rows):")
        for name, met in checks.items():
            print(f"  {'yes' if met else 'NO '}  {name}")
        print("GOAL MET" if all(checks.values()) else "GOAL NOT MET (see the lines marked NO)")
        return 0
    except HarnessError as exc:
        print(f"\nharness error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a server went away under load, a port vanished...
        print(f"\nharness error: {exc!r}", file=sys.stderr)
        for server in servers:
            if server.proc is not None and server.proc.poll() is not None:
                print(f"{server.name} exited ({server.proc.returncode}):\n{server.log_tail()}", file=sys.stderr)
        return 2
    finally:
        for server in reversed(servers):
            server.stop()
        if fixture is not None:
            fixture.stop()
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0

    def _terminate(signum, _frame):  # turn SIGTERM/SIGHUP into the normal clean-up path
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
