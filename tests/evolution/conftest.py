"""Fixtures: a live simulator over real HTTP, a client for it, and a tiny webhook receiver."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.simulator import BackgroundServer, Faults, SimConfig, SimulatorServer

_phones = itertools.count(1)

FAST = {"seed": 7, "webhook_backoff_s": 0.01, "webhook_timeout_s": 2.0}


def fast_config(**overrides: Any) -> SimConfig:
    return SimConfig(**(FAST | overrides))


def make_client(url: str, api_key: str, **overrides: Any) -> EvolutionClient:
    options = {"timeout": 3.0, "attempts": 3, "backoff_s": 0.01, "send_read_margin_s": 2.0} | overrides
    return EvolutionClient(url, api_key, **options)


def unique_phone() -> str:
    """A fresh number for a simulated human, so tests sharing a simulator never collide."""
    return f"55118{next(_phones):08d}"


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorServer]:
    with SimulatorServer(config=fast_config()) as server:
        yield server


@pytest.fixture
def sim(sim_server: SimulatorServer) -> Iterator[SimulatorServer]:
    """The module's simulator, with faults reset after each test (tests use fresh instance names)."""
    yield sim_server
    sim_server.set_faults(**asdict(Faults()))


@pytest.fixture
def client(sim: SimulatorServer) -> Iterator[EvolutionClient]:
    with make_client(sim.url, sim.api_key) as evolution:
        yield evolution


@pytest.fixture
def name() -> str:
    return f"inst-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Received:
    path: str
    headers: httpx.Headers
    body: dict[str, Any]


class Receiver:
    """Records every webhook POST; answers with queued statuses first, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[Received] = []
        self.statuses = deque(statuses or [])
        self._cond = threading.Condition()
        self._server = BackgroundServer(Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])]))

    @property
    def url(self) -> str:
        return f"{self._server.url}/hook"

    async def _handle(self, request: Request) -> Response:
        received = Received(request.url.path, httpx.Headers(request.headers.raw), await request.json())
        with self._cond:
            self.requests.append(received)
            status = self.statuses.popleft() if self.statuses else 200
            self._cond.notify_all()
        return Response(status_code=status)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} webhooks, got {len(self.requests)}")
            return list(self.requests)

    def events(self) -> list[str]:
        with self._cond:
            return [r.body["event"] for r in self.requests]

    def __enter__(self) -> Receiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as webhook_receiver:
        yield webhook_receiver


class ScriptedTransport(httpx.BaseTransport):
    """Real HTTP with scripted failures for the first calls.

    "connect": raise ConnectError without sending (the request provably never left);
    "lost": send the request for real, then raise ReadTimeout (the server acted, the answer was lost).
    """

    def __init__(self, *script: str) -> None:
        self._inner = httpx.HTTPTransport()
        self._script = deque(script)
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        step = self._script.popleft() if self._script else "ok"
        if step == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        response = self._inner.handle_request(request)
        if step == "lost":
            response.read()
            response.close()
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    def close(self) -> None:
        self._inner.close()
