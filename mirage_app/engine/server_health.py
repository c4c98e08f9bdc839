"""The Evolution servers' health: one probe per server (`probe`), all of them every tick (`probe_all`).

A probe is two calls: `GET /` (Evolution's welcome: reachability, latency, version; open without a key and without
a licence) and `fetchInstances` for a name that never exists (cheap, and it proves the global key and the licence).
The result is recorded on the server row; the send pipeline reads it and holds the sends of numbers on a server
that is unreachable, unlicensed or refusing the key, without counting them as the number's failures
(engine.sending), the overview shows it, and a server that stops taking sends alerts the tenants using it
(engine.alerts).
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import text

from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session
from mirage_app.core.security import decrypt
from mirage_app.engine import alerts
from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import (
    EvolutionError,
    EvolutionTimeout,
    EvolutionUnauthorized,
    EvolutionUnavailable,
)
from mirage_app.logic.alerts import SERVER_UNREACHABLE
from mirage_app.models.servers import HELD_HEALTH, ServerHealth

log = logging.getLogger("mirage.server_health")

PROBE_TIMEOUT_S = 5.0
PROBE_INSTANCE = "mirage-health-probe"  # a name no number gets (instance names start with "mrg-")
PROBE_THREADS = 16


@dataclass(frozen=True)
class ProbeResult:
    health: ServerHealth
    latency_ms: int | None = None
    version: str | None = None
    error: str | None = None


@dataclass
class ProbeReport:
    probed: int = 0
    changed: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)  # (server, before, after)

    def as_dict(self) -> dict:
        return {"probed": self.probed, "changed": [(str(s), a, b) for s, a, b in self.changed]}


def probe(base_url: str, api_key: str | None, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """What the server at `base_url` is now, as seen with `api_key` (None: reachability only)."""
    with EvolutionClient(base_url, api_key or "", timeout=timeout_s, attempts=1) as client:
        started = time.perf_counter()
        try:
            welcome = client.welcome()
        except (EvolutionUnavailable, EvolutionTimeout) as exc:
            return ProbeResult(ServerHealth.unreachable, error=_reason(exc))
        except EvolutionError as exc:
            return ProbeResult(ServerHealth.not_evolution, error=_reason(exc))
        latency = round((time.perf_counter() - started) * 1000)
        version = str(welcome.get("version") or "")[:40] or None
        if "evolution" not in str(welcome.get("message", "")).lower() or not version:
            return ProbeResult(ServerHealth.not_evolution, latency, error="no Evolution welcome at GET /")
        if api_key is None:
            return ProbeResult(ServerHealth.ok, latency, version)
        try:
            client.fetch_instances(PROBE_INSTANCE)
        except EvolutionUnauthorized as exc:
            return ProbeResult(ServerHealth.unauthorized, latency, version, _reason(exc))
        except (EvolutionUnavailable, EvolutionTimeout) as exc:
            return ProbeResult(ServerHealth.unreachable, latency, version, _reason(exc))
        except EvolutionError as exc:
            if exc.reason == "license_required":
                return ProbeResult(ServerHealth.license_required, latency, version, _reason(exc))
            if exc.status != 404:  # some versions answer 404 for an unknown name: the key passed
                return ProbeResult(ServerHealth.not_evolution, latency, version, _reason(exc))
        return ProbeResult(ServerHealth.ok, latency, version)


def _reason(exc: EvolutionError) -> str:
    detail = "; ".join(exc.messages) if exc.messages else ""
    return f"{exc.reason}: {detail}"[:500] if detail else str(exc.reason)[:500]


RECORD = text("SELECT mirage_evolution_record_probe(:id, :health, :latency, :version, :error, :at) AS previous")


def record(session, server_id: uuid.UUID, result: ProbeResult, clock: Clock = system_clock) -> str | None:
    """Store a probe's result on the server row (any server: the probe runs for every tenant); returns the health
    the server had before."""
    return session.execute(
        RECORD,
        {
            "id": server_id,
            "health": result.health.value,
            "latency": result.latency_ms,
            "version": result.version,
            "error": result.error,
            "at": clock.now(),
        },
    ).scalar()


def probe_all(clock: Clock = system_clock) -> ProbeReport:
    """Probe every server that is not disabled, in parallel, and record what each answered (the periodic tick)."""
    with system_session() as s:
        targets = s.execute(
            text("SELECT server_id, base_url, api_key_enc, health FROM mirage_evolution_probe_targets()")
        ).all()

    def one(row) -> tuple[uuid.UUID, ProbeResult]:
        key = decrypt(row.api_key_enc) if row.api_key_enc else None
        return row.server_id, probe(row.base_url, key)

    report = ProbeReport()
    with ThreadPoolExecutor(max_workers=min(PROBE_THREADS, max(1, len(targets)))) as pool:
        results = list(pool.map(one, targets))
    with system_session() as s:
        for server_id, result in results:
            before = record(s, server_id, result, clock)
            if before != result.health.value:
                report.changed.append((server_id, str(before), result.health.value))
                log.warning("Evolution server %s: %s -> %s (%s)", server_id, before, result.health, result.error)
        s.commit()
    for server_id, before, after in report.changed:
        if after in HELD_HEALTH and before not in HELD_HEALTH:  # it just stopped taking sends: tell people once
            alerts.emit_for_server(server_id, SERVER_UNREACHABLE, {"health": after, "was": before})
    report.probed = len(results)
    return report
