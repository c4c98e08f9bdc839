"""Which proxy a number goes out through, and what Evolution 2.3.7 can do with each kind of proxy. Pure.

Assignment is sticky (a number keeps its proxy: a WhatsApp session that hops between IPs looks like a stolen
one) and a proxy carries at most `max_numbers` numbers. A new number gets the healthy proxy with the most room
left, ties broken by the fewest numbers, then the oldest proxy, so a pool fills evenly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

PROTOCOLS = ("http", "https", "socks4", "socks5")
# What Evolution 2.3.7's proxy test and socket accept (reference §14.3, §14.5 bug 4): an `https` or `socks4`
# proxy is refused as "Invalid proxy" whatever it is, so Mirage does not send them and says why.
EVOLUTION_PROTOCOL = {"http": "http", "socks5": "socks5"}
MAX_NUMBERS_LIMIT = 50
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True)
class PoolEntry:
    id: uuid.UUID
    max_numbers: int
    assigned: int
    healthy: bool  # its last test passed (or it was never tested)
    order: int  # position by creation, oldest first


def evolution_protocol(protocol: str) -> str | None:
    """The protocol to give Evolution, or None when 2.3.7 cannot use such a proxy."""
    return EVOLUTION_PROTOCOL.get(protocol)


def pick(pool: Iterable[PoolEntry]) -> uuid.UUID | None:
    """The proxy a number without one should get, or None when no healthy proxy has room."""
    open_ = [p for p in pool if p.healthy and p.assigned < p.max_numbers]
    if not open_:
        return None
    best = min(open_, key=lambda p: (-(p.max_numbers - p.assigned), p.assigned, p.order))
    return best.id


def has_room(entry: PoolEntry) -> bool:
    return entry.assigned < entry.max_numbers


def field_errors(host: str, port: int | None, protocol: str, max_numbers: int | None) -> dict[str, str]:
    """Form field → catalog key of what is wrong with a proxy's address and limit (empty when all is well)."""
    errors: dict[str, str] = {}
    if not _HOST.match(host or ""):
        errors["host"] = "proxy.host_invalid"
    if port is None or not 1 <= port <= 65535:
        errors["port"] = "proxy.port_invalid"
    if protocol not in PROTOCOLS:
        errors["protocol"] = "proxy.protocol_invalid"
    if max_numbers is None or not 1 <= max_numbers <= MAX_NUMBERS_LIMIT:
        errors["max_numbers"] = "proxy.max_numbers_invalid"
    return errors
