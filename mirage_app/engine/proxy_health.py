"""Does a proxy answer, checked from Mirage's side with a short timeout (Evolution's own test has none and needs
the internet, reference §14.3): a TCP connection, then the protocol's handshake up to the point where the proxy
says yes or no to a tunnel to WhatsApp.

- http / https: `CONNECT web.whatsapp.com:443` (with Basic credentials when set) must answer 2xx; 407 means the
  credentials were refused. An `https` proxy is spoken to in TLS first.
- socks5: the greeting must pick "no auth" or, with credentials, "username/password", which must then pass.
- socks4: a CONNECT request must be granted (0x5A).

`record` writes the outcome on the proxy row (`last_test_*`); a proxy whose last test failed holds its numbers'
sends (`sending`, `waits.PROXY_FAILING`).
"""

from __future__ import annotations

import base64
import socket
import ssl
import struct
import uuid
from datetime import datetime

from sqlalchemy import text

PROBE_HOST = "web.whatsapp.com"
PROBE_PORT = 443
DEFAULT_TIMEOUT_S = 5.0
MAX_ERROR = 500


class ProxyDown(Exception):
    """The proxy did not answer as a working proxy would; the message says how."""


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ProxyDown("connection closed by the proxy")
        data += chunk
    return data


def _http_connect(sock: socket.socket, username: str, password: str) -> None:
    lines = [f"CONNECT {PROBE_HOST}:{PROBE_PORT} HTTP/1.1", f"Host: {PROBE_HOST}:{PROBE_PORT}"]
    if username:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        lines.append(f"Proxy-Authorization: Basic {token}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    status_line = sock.makefile("rb").readline(1024).decode("latin-1").strip()
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ProxyDown("not an HTTP proxy")
    if parts[1] == "407":
        raise ProxyDown("credentials refused (407)")
    if not parts[1].startswith("2"):
        raise ProxyDown(f"tunnel refused ({status_line[:80]})")


def _socks5(sock: socket.socket, username: str, password: str) -> None:
    sock.sendall(b"\x05\x02\x00\x02" if username else b"\x05\x01\x00")
    version, method = _read_exact(sock, 2)
    if version != 5 or method == 0xFF:
        raise ProxyDown("SOCKS5 greeting refused")
    if method == 2:
        user, secret = username.encode(), password.encode()
        sock.sendall(bytes([1, len(user)]) + user + bytes([len(secret)]) + secret)
        if _read_exact(sock, 2)[1] != 0:
            raise ProxyDown("credentials refused")
    host = PROBE_HOST.encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack(">H", PROBE_PORT))
    reply = _read_exact(sock, 2)
    if reply[1] != 0:
        raise ProxyDown(f"SOCKS5 connect refused (code {reply[1]})")


def _socks4(sock: socket.socket, username: str) -> None:
    # SOCKS4a: the proxy resolves the name (IP 0.0.0.1 plus the host after the user id).
    sock.sendall(b"\x04\x01" + struct.pack(">H", PROBE_PORT) + b"\x00\x00\x00\x01" + username.encode() + b"\x00"
                 + PROBE_HOST.encode() + b"\x00")  # fmt: skip
    if _read_exact(sock, 8)[1] != 0x5A:
        raise ProxyDown("SOCKS4 connect refused")


def check(
    host: str, port: int, protocol: str, username: str = "", password: str = "", timeout_s: float = DEFAULT_TIMEOUT_S
) -> str | None:
    """None when the proxy answers as one, else why not (short, for the screen)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            raw.settimeout(timeout_s)
            if protocol == "https":
                with ssl.create_default_context().wrap_socket(raw, server_hostname=host) as tls:
                    _http_connect(tls, username, password)
            elif protocol == "http":
                _http_connect(raw, username, password)
            elif protocol == "socks5":
                _socks5(raw, username, password)
            else:
                _socks4(raw, username)
    except ProxyDown as exc:
        return str(exc)[:MAX_ERROR]
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except OSError as exc:
        return (exc.strerror or type(exc).__name__)[:MAX_ERROR]
    return None


PREVIOUS = text("SELECT last_test_ok FROM proxies WHERE id = :p FOR UPDATE")
RECORD = text("UPDATE proxies SET last_test_at = :now, last_test_ok = :ok, last_test_error = :error WHERE id = :p")


def record(s, proxy_id: uuid.UUID, error: str | None, now: datetime) -> bool:
    """Store a test's outcome; True when it turned a working (or untested) proxy into a failing one."""
    was_ok = s.execute(PREVIOUS, {"p": proxy_id}).scalar()
    s.execute(RECORD, {"p": proxy_id, "now": now, "ok": error is None, "error": error})
    return error is not None and was_ok is not False
