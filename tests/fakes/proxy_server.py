"""A local HTTP proxy for tests: it answers `CONNECT host:port` with 200 (after checking Basic credentials when
it has some) and records what it was asked; it relays nothing. `dead_port()` is a port nobody listens on.

    with FakeProxy(username="u", password="p@ss") as proxy:
        proxy.port, proxy.connects
"""

from __future__ import annotations

import base64
import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        request_line = self.rfile.readline(4096).decode("latin-1").strip()
        headers: dict[str, str] = {}
        while line := self.rfile.readline(4096).decode("latin-1").strip():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        owner = self.server.owner
        with owner.lock:
            owner.connects.append(request_line)
        if not request_line.startswith("CONNECT "):
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        elif owner.expected_auth and headers.get("proxy-authorization") != owner.expected_auth:
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        else:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FakeProxy


class FakeProxy:
    def __init__(self, username: str = "", password: str = "") -> None:
        self.lock = threading.Lock()
        self.connects: list[str] = []
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.expected_auth = f"Basic {token}" if username else None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> FakeProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def dead_port() -> int:
    """A local port that refuses connections (bound for a moment to pick it, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
