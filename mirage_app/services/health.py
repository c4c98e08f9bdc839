"""One health report for `/api/health`, the UI badge and `mirage health`."""

from __future__ import annotations

import time
from typing import Any

from rq import Worker
from sqlalchemy import text

from mirage_app.core.config import get_settings
from mirage_app.core.db import system_session
from mirage_app.core.redis import SCHEDULER_HEARTBEAT_KEY, get_redis, worker_alive_key
from mirage_app.models.servers import HELD_HEALTH, ServerState


def _timed(check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        result = {"ok": True, **(detail or {})}
    except Exception as exc:  # a health check reports failures, it never raises them
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> dict[str, Any]:
    with system_session() as s:
        row = s.execute(text("SELECT current_user, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)"))
        user, bypass = row.one()
    if bypass:
        raise RuntimeError(f"database role {user} bypasses row-level security")
    return {"role": user}


def _redis() -> dict[str, Any]:
    get_redis().ping()
    return {}


def _workers() -> dict[str, Any]:
    """Workers whose alive key is fresh (`workers/worker.py`): RQ keeps listing a killed one for minutes."""
    redis = get_redis()
    listed = Worker.all(connection=redis)
    with redis.pipeline(transaction=False) as pipe:
        for worker in listed:
            pipe.exists(worker_alive_key(worker.name))
        alive = pipe.execute()
    scheduler = redis.get(SCHEDULER_HEARTBEAT_KEY)
    live = sum(1 for beat in alive if beat)
    silent = len(listed) - live
    if not live:
        raise RuntimeError(
            "no RQ worker is running" + (f" ({silent} listed by RQ, without a heartbeat)" if silent else "")
        )
    return {"count": live, "silent": silent, "scheduler": scheduler.decode() if scheduler else None}


def _evolution() -> dict[str, Any]:
    """The platform's server pool: degraded while a platform server that is not disabled is unreachable, unlicensed
    or refusing its key, or when none can take numbers. Tenants' own servers show on their own pages."""
    settings = get_settings()
    with system_session() as s:
        rows = s.execute(
            text("SELECT name, state, health FROM mirage_evolution_server_stats() WHERE owner = 'platform'")
        ).all()
    if not rows:
        raise RuntimeError("no Evolution server is configured (EVOLUTION_URL, or Settings → Evolution servers)")
    held = [f"{r.name}: {r.health}" for r in rows if r.state != ServerState.disabled and r.health in HELD_HEALTH]
    if held:
        raise RuntimeError("Evolution server(s) not working: " + ", ".join(held))
    if not any(r.state == ServerState.active for r in rows):
        raise RuntimeError("no Evolution server takes new numbers (all draining or disabled)")
    return {"servers": len(rows), "simulator": settings.is_demo}


def check_health() -> dict[str, Any]:
    settings = get_settings()
    checks = {
        "database": _timed(_database),
        "redis": _timed(_redis),
        "workers": _timed(_workers),
        "evolution": _timed(_evolution),
    }
    return {
        "status": "ok" if all(c["ok"] for c in checks.values()) else "degraded",
        "checks": checks,
        "demo": settings.is_demo,
        "llm": "offline" if settings.llm_offline else "openai",
    }
