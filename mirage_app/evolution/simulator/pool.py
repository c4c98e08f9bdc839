"""`SimulatorPool`: several independent simulated Evolution servers in one process, on one WhatsApp network.

Mirage spreads its numbers over many Evolution servers, so tests and benches need many servers whose numbers
can message each other. Each `PoolServer` has its own port, global API key, state (instances, faults, message
log, webhook worker) and capacity; they share a `SimNetwork` (phones, humans, lids, one lock).

Why one event loop: a bench runs 125 servers. One uvicorn `Server` serves a port-dispatching ASGI app on all
the listening sockets (`scope["server"]` carries the local port), instead of 125 threads each with its own loop
ticking ten times a second. Webhook workers stay one thread per server, started on its first event, idle
threads cost nothing and a slow receiver for one server must not hold up the others.

Down/up looks like a crashed server from outside and a restart with a persistent database from inside:
- `go_down()` pauses the server's timeline (webhook deliveries, receipts, replies wait; receptions for its
  numbers queue like a phone's offline mail), closes its listening socket (new connections are refused) and
  aborts its open connections (kept-alive ones included), all on the loop, so no HTTP answer leaves it again;
- `come_up()` binds the SAME port again, then flushes the queued receptions and resumes the paused timeline in
  due order: nothing lost, nothing posted twice. Instances, sessions and the message log were never touched.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import random
import socket
import threading
import time
from collections.abc import Coroutine, Sequence
from types import TracebackType
from typing import Any

import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mirage_app.core.clock import Clock
from mirage_app.evolution.simulator.app import create_app
from mirage_app.evolution.simulator.config import SimConfig
from mirage_app.evolution.simulator.control import control_endpoint
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.envelope import SimHttpError
from mirage_app.evolution.simulator.network import SimNetwork
from mirage_app.evolution.simulator.state import SimulatorState, forward

SELF_DOWN_DELAY_S = 0.1  # a server taking itself down over HTTP answers first
_SWITCH_TIMEOUT_S = 10.0
_REBIND_WAIT_S = 3.0  # come_up retries the bind this long (another socket may briefly hold the port)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # lets asyncio set TCP_NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _local_port(connection: Any) -> int | None:
    """The local port of a uvicorn connection protocol, whatever its implementation."""
    transport = getattr(connection, "transport", None)
    if transport is None:
        return None
    sockname = transport.get_extra_info("sockname")
    return sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None


class PoolServer:
    """One simulated Evolution server of a pool; its control API mirrors `SimulatorServer`'s."""

    def __init__(self, pool: SimulatorPool, index: int, state: SimulatorState, sock: socket.socket) -> None:
        self.index = index  # 1-based
        self.state = state
        self.host, self.port = sock.getsockname()[:2]
        self._pool = pool
        self._socket = sock
        self._down = False
        if state.config.server_url is None:
            state.config.server_url = self.url
        self.app = create_app(state, pool_routes(pool, index))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.state.config.global_key

    @property
    def capacity(self) -> int | None:
        return self.state.config.capacity

    @property
    def is_down(self) -> bool:
        return self._down

    def go_down(self) -> None:
        """Crash: refuse new connections, reset open ones, pause the timeline. Idempotent."""
        with self._pool.switch_lock:
            if self._down:
                return
            self._pool.on_loop(self._pool.unlisten(self))
            self._down = True

    def come_up(self) -> None:
        """Restart on the same port with the state it had; queued work resumes. Idempotent."""
        with self._pool.switch_lock:
            if not self._down:
                return
            self._pool.on_loop(self._pool.listen(self))
            self._down = False

    def describe(self) -> dict[str, Any]:
        """This server's row in `GET /_sim/pool`."""
        with self.state.core.lock:
            instances = len(self.state.core.instances)
        return {
            "index": self.index,
            "url": self.url,
            "port": self.port,
            "api_key": self.api_key,
            "capacity": self.capacity,
            "instances": instances,
            "down": self._down,
        }

    scan = forward("state", SimulatorState.scan)
    rotate_qr = forward("state", SimulatorState.rotate_qr)
    drop_connection = forward("state", SimulatorState.drop_connection)
    add_human = forward("state", SimulatorState.add_human)
    inject_inbound = forward("state", SimulatorState.inject_inbound)
    set_faults = forward("state", SimulatorState.set_faults)
    wait_idle = forward("state", SimulatorState.wait_idle)
    messages = forward("state", SimulatorState.messages)
    events = forward("state", SimulatorState.events)


class SimulatorPool:
    """`size` simulated Evolution servers sharing one `SimNetwork`, served by one event loop.

    `config` is copied per server. Server 1 keeps `config.global_key`, server i ≥ 2 uses f"{key}-{i}"; each
    server's webhook `server_url` is its own URL. `capacity` (one value or one per server) overrides
    `config.capacity`. `ports` defaults to free ports. Start once: `with SimulatorPool(3) as pool: ...`.
    """

    def __init__(
        self,
        size: int,
        *,
        config: SimConfig | None = None,
        capacity: int | Sequence[int | None] | None = None,
        host: str = "127.0.0.1",
        ports: Sequence[int] | None = None,
        clock: Clock | None = None,
        log_level: str = "warning",
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one server")
        ports = list(ports) if ports is not None else [0] * size
        capacities = list(capacity) if isinstance(capacity, Sequence) else [capacity] * size
        if len(ports) != size or len(capacities) != size:
            raise ValueError(f"expected {size} ports and capacities, got {len(ports)} and {len(capacities)}")
        if any(c is not None and c < 0 for c in capacities):
            raise ValueError("capacity must not be negative")
        base = config or SimConfig()
        self.network: SimNetwork[SimCore] = SimNetwork()
        self.switch_lock = threading.Lock()  # one down/up at a time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        sockets: list[socket.socket] = []
        try:
            for port in ports:
                sockets.append(_bind(host, port))
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        self.servers: list[PoolServer] = []
        for index, (sock, cap) in enumerate(zip(sockets, capacities, strict=True), start=1):
            server_config = copy.deepcopy(base)
            server_config.global_key = base.global_key if index == 1 else f"{base.global_key}-{index}"
            server_config.server_url = None  # each server reports its own URL
            if cap is not None:
                server_config.capacity = cap
            rng = random.Random(base.seed if index == 1 or base.seed is None else f"{base.seed}:{index}")
            state = SimulatorState(server_config, rng=rng, clock=clock, network=self.network)
            self.servers.append(PoolServer(self, index, state, sock))
        self._by_port = {server.port: server for server in self.servers}
        uv_config = uvicorn.Config(_PoolApp(self), log_level=log_level, lifespan="on", timeout_graceful_shutdown=1)
        self._uvicorn = uvicorn.Server(uv_config)
        self._sockets = sockets

    # -- running --------------------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Serve every server from one background thread; returns once all of them accept connections."""
        if self._thread is not None:
            raise RuntimeError("a pool starts only once")
        self._thread = threading.Thread(target=self.serve, name="evolution-sim-pool", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"simulator pool did not start within {timeout} s")
            time.sleep(0.01)

    def serve(self) -> None:
        """Serve in the current thread until `stop()` (or Ctrl+C on the main thread)."""
        self._uvicorn.run(sockets=self._sockets)

    def stop(self) -> None:
        """Stop serving and every webhook worker; queued deliveries are dropped."""
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> SimulatorPool:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- queries --------------------------------------------------------------------------------------------

    def server(self, index: int) -> PoolServer:
        """Server `index` (1-based, as in keys and `/_sim/pool/{index}`)."""
        if not 1 <= index <= len(self.servers):
            raise IndexError(f"no server {index} in this pool (1..{len(self.servers)})")
        return self.servers[index - 1]

    def server_of(self, phone: str) -> PoolServer | None:
        """The server whose instance holds `phone` (digits), if any."""
        owner = self.network.owner(phone)
        return next((s for s in self.servers if owner and s.state.core is owner[0]), None)

    def describe(self) -> list[dict[str, Any]]:
        return [server.describe() for server in self.servers]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every server's timeline is idle (a down server with queued work never is)."""
        deadline = time.monotonic() + timeout
        return all(s.wait_idle(max(0.0, deadline - time.monotonic())) for s in self.servers)

    # -- down/up on the loop --------------------------------------------------------------------------------

    def on_loop(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` on the serving loop and wait for it (from any thread but the loop's own)."""
        loop = self._loop
        if loop is None or not self._uvicorn.started:
            coro.close()
            raise RuntimeError("the pool is not serving")
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            coro.close()
            raise RuntimeError("go_down/come_up block: call them from another thread (run_in_threadpool)")
        asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=_SWITCH_TIMEOUT_S)

    async def unlisten(self, server: PoolServer) -> None:
        """Pause `server`'s world, close its listening socket and abort its connections, as a killed process
        would. On the loop, so no request of it runs between these steps."""
        server.state.core.set_down(True)
        self._uvicorn.servers[server.index - 1].close()
        for connection in list(self._uvicorn.server_state.connections):
            if _local_port(connection) == server.port:
                connection.transport.abort()

    async def listen(self, server: PoolServer) -> None:
        """Bind `server`'s port again, serve it with the same uvicorn protocol as the other sockets, resume."""
        deadline = time.monotonic() + _REBIND_WAIT_S
        while True:
            try:
                sock = _bind(server.host, server.port)
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        self._sockets.append(sock)
        uv, loop = self._uvicorn, asyncio.get_running_loop()
        config = uv.config

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=uv.server_state, app_state=uv.lifespan.state, _loop=loop
            )

        uv.servers[server.index - 1] = await loop.create_server(protocol, sock=sock, backlog=config.backlog)
        server.state.core.set_down(False)  # before any request of it runs: queued receptions arrive first

    def _started(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _shutdown(self) -> None:
        for server in self.servers:
            server.state.close()


def pool_routes(pool: SimulatorPool, own_index: int) -> list[Route]:
    """`/_sim/pool` on every server of a pool, so a script can take server 2 down by calling server 1.

    Indexes are 1-based. Taking down the server that answers happens just after its answer."""

    def target(request: Request) -> Any:
        index = request.path_params["index"]
        try:
            return pool.server(index)
        except IndexError as exc:
            raise SimHttpError(404, {"error": str(exc)}) from exc

    def listing(request: Request, data: dict[str, Any]) -> Any:
        return {"self": own_index, "servers": pool.describe()}

    def down(request: Request, data: dict[str, Any]) -> Any:
        server = target(request)
        if server.index != own_index:
            server.go_down()
            return server.describe()
        threading.Timer(SELF_DOWN_DELAY_S, server.go_down).start()
        return server.describe() | {"down": True}

    def up(request: Request, data: dict[str, Any]) -> Any:
        server = target(request)
        server.come_up()
        return server.describe()

    return [
        Route("/_sim/pool", control_endpoint(listing), methods=["GET"]),
        Route("/_sim/pool/{index:int}/down", control_endpoint(down, blocking=True), methods=["POST"]),
        Route("/_sim/pool/{index:int}/up", control_endpoint(up, blocking=True), methods=["POST"]),
    ]


class _PoolApp:
    """The one ASGI app uvicorn serves on every socket: dispatch on the local port; own the lifespan."""

    def __init__(self, pool: SimulatorPool) -> None:
        self._pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        local = scope.get("server")
        server = self._pool._by_port.get(local[1]) if local else None
        if server is None:  # cannot happen with sockets the pool bound; be explicit if it ever does
            await PlainTextResponse("unknown simulator port", status_code=421)(scope, receive, send)
            return
        await server.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._pool._started(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await run_in_threadpool(self._pool._shutdown)  # joins webhook workers
                await send({"type": "lifespan.shutdown.complete"})
                return
