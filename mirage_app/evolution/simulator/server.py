"""Serving the simulator: in a background thread for tests (`SimulatorServer`) or in the foreground (`run`,
`run_pool` for several servers on one network)."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from mirage_app.evolution.simulator.app import create_app
from mirage_app.evolution.simulator.config import SimConfig
from mirage_app.evolution.simulator.pool import SimulatorPool
from mirage_app.evolution.simulator.state import SimulatorState, forward


class BackgroundServer:
    """Serve any ASGI app with uvicorn on a daemon thread; `port=0` picks a free port. Reusable in tests."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # lets asyncio set TCP_NODELAY
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="evolution-sim-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start within {timeout} s")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SimulatorServer(BackgroundServer):
    """A live simulator for tests: `with SimulatorServer() as sim: EvolutionClient(sim.url, sim.api_key)`.

    The control API of `SimulatorState` is available on the server object itself (`sim.scan(...)`).
    """

    def __init__(
        self,
        state: SimulatorState | None = None,
        *,
        config: SimConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = state or SimulatorState(config)
        super().__init__(create_app(self.state), host, port)
        if self.state.config.server_url is None:
            self.state.config.server_url = self.url

    @property
    def api_key(self) -> str:
        return self.state.config.global_key

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    scan = forward("state", SimulatorState.scan)
    rotate_qr = forward("state", SimulatorState.rotate_qr)
    drop_connection = forward("state", SimulatorState.drop_connection)
    add_human = forward("state", SimulatorState.add_human)
    inject_inbound = forward("state", SimulatorState.inject_inbound)
    set_faults = forward("state", SimulatorState.set_faults)
    wait_idle = forward("state", SimulatorState.wait_idle)
    messages = forward("state", SimulatorState.messages)
    events = forward("state", SimulatorState.events)


def run(host: str = "127.0.0.1", port: int = 8081, config: SimConfig | None = None, **uvicorn_options: Any) -> None:
    """Serve the simulator in the foreground until interrupted."""
    config = config or SimConfig.demo()
    if config.server_url is None:
        config.server_url = f"http://{host}:{port}"
    uvicorn.run(create_app(SimulatorState(config)), host=host, port=port, **uvicorn_options)


def run_pool(
    host: str = "127.0.0.1",
    ports: Sequence[int] = (8081, 8082),
    config: SimConfig | None = None,
    capacity: int | None = None,
    log_level: str = "info",
) -> None:
    """Serve one simulated server per port, on one WhatsApp network, in the foreground until interrupted."""
    pool = SimulatorPool(
        len(ports), config=config or SimConfig.demo(), capacity=capacity, host=host, ports=ports, log_level=log_level
    )
    for server in pool.servers:
        print(f"Evolution simulator {server.index}: {server.url} apikey={server.api_key}", flush=True)
    pool.serve()


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m mirage_app.evolution.simulator --port 8081` (also `mirage sim`).

    `--servers N` or `--ports 8081,8082` run a pool (`pool.py`): server i's apikey is `<api-key>-i` (i ≥ 2)."""
    parser = argparse.ArgumentParser(prog="mirage sim", description="Run the Evolution API simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="the (first) port (default: %(default)s)")
    parser.add_argument("--servers", type=int, default=1, help="servers on consecutive ports from --port")
    parser.add_argument("--ports", type=_port_list, help="explicit comma-separated ports (wins over --servers)")
    parser.add_argument("--capacity", type=int, help="instances per server before it behaves overloaded")
    parser.add_argument("--api-key", default=SimConfig.global_key, help="global apikey (default: %(default)s)")
    parser.add_argument(
        "--server-url",
        help="server_url sent in webhooks (default: the listen address; a pool always uses each server's own)",
    )
    parser.add_argument("--seed", type=int, help="seed every random choice for a reproducible run")
    parser.add_argument("--fast", action="store_true", help="test pacing: no waits, immediate receipts")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.servers < 1 or (args.capacity is not None and args.capacity < 0):
        parser.error("--servers must be at least 1 and --capacity not negative")
    ports = args.ports or [args.port + i for i in range(args.servers)]
    settings: dict[str, Any] = {"global_key": args.api_key, "server_url": args.server_url, "seed": args.seed}
    settings["capacity"] = args.capacity
    config = SimConfig(**settings) if args.fast else SimConfig.demo(**settings)
    if len(ports) == 1:
        run(args.host, ports[0], config, log_level=args.log_level)
    else:
        run_pool(args.host, ports, config, args.capacity, log_level=args.log_level)
    return 0


def _port_list(text: str) -> list[int]:
    try:
        ports = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of ports: {text!r}") from exc
    if not ports or len(set(ports)) != len(ports):
        raise argparse.ArgumentTypeError("--ports needs distinct ports")
    return ports
