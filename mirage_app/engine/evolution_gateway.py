"""The one place that builds Evolution clients and turns Evolution failures into messages an operator can act on.

Every number lives on one Evolution server (`numbers.server_id`); every call for it goes to that server's client
(`client_for`). Clients are cached per server for `CLIENT_TTL_S`, so a changed key reaches every process within
that time (and at once in the process that changed it, through `forget`). A number with no server (made before
servers existed, or by a benchmark) uses the default server from EVOLUTION_URL / EVOLUTION_API_KEY.
"""

from __future__ import annotations

import threading
import time
import uuid
from functools import lru_cache

import httpx
from sqlalchemy import text

from mirage_app.base.errors import ServiceError
from mirage_app.core.config import get_settings
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import decrypt
from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import EvolutionError

CLIENT_TTL_S = 60.0
CLIENT_TIMEOUT_S = 10.0


class EvolutionFailure(ServiceError):
    """Evolution was down or said no; 502 on the API, a toast in the UI, with Evolution's reason."""

    status = 502


@lru_cache
def evolution_client() -> EvolutionClient:
    """The default server's client (EVOLUTION_URL / EVOLUTION_API_KEY)."""
    settings = get_settings()
    if not settings.evolution_url or not settings.evolution_api_key:
        raise EvolutionFailure("evolution.not_configured")
    return EvolutionClient(settings.evolution_url, settings.evolution_api_key, timeout=CLIENT_TIMEOUT_S)


class ServerClients:
    """Clients per Evolution server, built from the server's URL and decrypted key.

    A client may be in use by another thread at any time, so one is never closed while it can still be handed
    out: an expired entry whose URL and key did not change keeps its client (and its pooled connections); a
    replaced one is left to the garbage collector. Only `reset` (tests, shutdown) closes clients."""

    def __init__(self, ttl_s: float = CLIENT_TTL_S) -> None:
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._clients: dict[uuid.UUID, tuple[float, tuple[str, str], EvolutionClient]] = {}

    def get(self, tenant_id: uuid.UUID | str, server_id: uuid.UUID | None) -> EvolutionClient:
        if server_id is None:
            return evolution_client()
        with self._lock:
            hit = self._clients.get(server_id)
        if hit and hit[0] > time.monotonic():
            return hit[2]
        found = credentials(tenant_id, server_id)
        if found is None:
            raise EvolutionFailure("evolution.server_missing")
        return self.put(server_id, *found)

    def put(self, server_id: uuid.UUID, base_url: str, api_key: str) -> EvolutionClient:
        with self._lock:
            old = self._clients.get(server_id)
            client = old[2] if old and old[1] == (base_url, api_key) else None
            if client is None:
                client = EvolutionClient(base_url, api_key, timeout=CLIENT_TIMEOUT_S)
            self._clients[server_id] = (time.monotonic() + self._ttl, (base_url, api_key), client)
        return client

    def forget(self, server_id: uuid.UUID) -> None:
        """Read this server's URL and key again on next use (its key changed, or it was removed)."""
        with self._lock:
            self._clients.pop(server_id, None)

    def reset(self) -> None:
        with self._lock:
            dropped = list(self._clients.values())
            self._clients.clear()
        for entry in dropped:
            entry[2].close()


def credentials(tenant_id: uuid.UUID | str, server_id: uuid.UUID) -> tuple[str, str] | None:
    """(base URL, decrypted global key) of a platform server or one of the tenant's own; None for any other."""
    with tenant_session(tenant_id) as s:
        row = s.execute(
            text("SELECT base_url, api_key_enc FROM mirage_evolution_credentials(:id)"), {"id": server_id}
        ).first()
    return (row.base_url, decrypt(row.api_key_enc)) if row else None


server_clients = ServerClients()


def platform_client(server_id: uuid.UUID) -> EvolutionClient:
    """A platform server's client outside any tenant, for the upkeep jobs (tenants' servers stay theirs)."""
    with system_session() as s:
        row = s.execute(
            text("SELECT base_url, api_key_enc FROM mirage_evolution_credentials(:id)"), {"id": server_id}
        ).first()
    if row is None:
        raise EvolutionFailure("evolution.server_missing")
    return server_clients.put(server_id, row.base_url, decrypt(row.api_key_enc))


def client_for(tenant_id: uuid.UUID | str, server_id: uuid.UUID | None) -> EvolutionClient:
    """The client of the server that holds a number (`server_id` from the number's row)."""
    return server_clients.get(tenant_id, server_id)


def reset_evolution_client() -> None:
    if evolution_client.cache_info().currsize:
        evolution_client().close()
    evolution_client.cache_clear()
    server_clients.reset()


def as_failure(exc: EvolutionError) -> EvolutionFailure:
    detail = "; ".join(exc.messages) if getattr(exc, "messages", None) else exc.reason
    if exc.reason == "license_required":
        return EvolutionFailure("evolution.license_required", detail=str(detail)[:200])
    code = "evolution.unavailable" if exc.retryable else "evolution.rejected"
    return EvolutionFailure(code, detail=str(detail)[:200])


def simulator_scan(base_url: str, instance_name: str, phone: str | None = None) -> None:
    """Demo mode: ask the simulated phone to scan the QR code of `instance_name` on the simulator at `base_url`."""
    if not get_settings().is_demo:
        raise EvolutionFailure("evolution.demo_only", status=400)
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/_sim/instances/{instance_name}/scan",
            json={"phone_number": phone} if phone else {},
            timeout=5,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise EvolutionFailure("evolution.unavailable", detail=type(exc).__name__) from exc
