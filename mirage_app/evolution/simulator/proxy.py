"""`/proxy/set` and `/proxy/find` (reference §14): Evolution's validation quirks, its connectivity test and the
known bugs a client has to live with.

- The test: Evolution fetches icanhazip directly and through the proxy. The simulator cannot reach the internet,
  so it opens a TCP connection to the proxy instead (a refused or silent port fails); protocols `makeProxyAgent`
  rejects (`https`, `socks4`) and credentials that break its unencoded URL fail as they do in 2.3.7.
- Bug 3 (§14.5): a body without `username`/`password` answers 201 yet stores nothing.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from mirage_app.evolution.simulator import envelope, payloads
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.validation import errors_for

PROXY_TEST_TIMEOUT_S = 2.0
AGENT_PROTOCOLS = ("http", "socks", "socks5")  # what makeProxyAgent accepts
# Credentials that break the unencoded proxy URL: a URL delimiter, or a `%` that starts no percent-escape.
URL_BREAKER = re.compile(r"[@:/#?]|%(?![0-9A-Fa-f]{2})")
REQUIRED = ("enabled", "host", "port", "protocol")

PROXY = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "host": {"type": "string"},
        "port": {"type": "string"},
        "protocol": {"type": "string"},
        "username": {"type": "string"},
        "password": {"type": "string"},
    },
    "required": list(REQUIRED),
}


def validate(body: Any) -> dict[str, Any]:
    """The schema, then `isNotEmpty`, which applies only when the body has no key besides the required four."""
    errors = errors_for(body, PROXY)
    if not errors and set(body) <= set(REQUIRED):
        errors = [f'The "{key}" cannot be empty' for key in ("host", "port", "protocol") if body[key] == ""]
    if errors:
        raise envelope.validation_failed(errors)
    return body


async def proxy_answers(body: dict[str, Any]) -> bool:
    """ProxyController.testProxy as far as the simulator can play it (see the module docstring)."""
    if body["protocol"] not in AGENT_PROTOCOLS:
        return False
    if URL_BREAKER.search(body.get("username", "") + body.get("password", "")):
        return False
    try:
        port = int(body["port"])
        _, writer = await asyncio.wait_for(asyncio.open_connection(body["host"], port), PROXY_TEST_TIMEOUT_S)
    except (OSError, ValueError, TimeoutError):
        return False
    writer.close()
    return True


class SimProxies:
    def __init__(self, core: SimCore) -> None:
        self._core = core
        self.rows: dict[str, dict[str, Any]] = {}  # instance name → the Prisma Proxy row

    async def set(self, name: str, body: Any) -> dict[str, Any]:
        validate(body)
        with self._core.lock:
            self._core.instance(name)
        data = {key: body.get(key) for key in (*REQUIRED, "username", "password") if key in body}
        if not body["enabled"]:
            data |= {"host": "", "port": "", "protocol": "", "username": "", "password": ""}
        elif body["host"] and not await proxy_answers(body):
            raise envelope.bad_request("Invalid proxy")
        if "username" in data and "password" in data:  # otherwise Prisma rejects the row after the 201 (bug 3)
            self._store(name, data)
        return {"proxy": {"instanceName": name, "proxy": data}}

    def find(self, name: str) -> dict[str, Any] | None:
        with self._core.lock:
            self._core.instance(name)
            return self.rows.get(name)

    def _store(self, name: str, data: dict[str, Any]) -> None:
        core = self._core
        with core.lock:
            inst = core.instance(name)
            now = payloads.iso(core.now())
            previous = self.rows.get(name)
            self.rows[name] = {
                "id": previous["id"] if previous else core.ids.cuid(),
                **data,
                "createdAt": previous["createdAt"] if previous else now,
                "updatedAt": now,
                "instanceId": inst.instance_id,
            }
