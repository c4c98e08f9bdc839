"""The one place that builds Evolution clients and turns Evolution failures into messages an operator can act on."""

from __future__ import annotations

from functools import lru_cache

import httpx

from mirage_app.base.errors import ServiceError
from mirage_app.core.config import get_settings
from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import EvolutionError


class EvolutionFailure(ServiceError):
    """Evolution was down or said no; 502 on the API, a toast in the UI, with Evolution's reason."""

    status = 502


@lru_cache
def evolution_client() -> EvolutionClient:
    settings = get_settings()
    if not settings.evolution_url or not settings.evolution_api_key:
        raise EvolutionFailure("evolution.not_configured")
    return EvolutionClient(settings.evolution_url, settings.evolution_api_key, timeout=10.0)


def reset_evolution_client() -> None:
    if evolution_client.cache_info().currsize:
        evolution_client().close()
    evolution_client.cache_clear()


def as_failure(exc: EvolutionError) -> EvolutionFailure:
    detail = "; ".join(exc.messages) if getattr(exc, "messages", None) else exc.reason
    code = "evolution.unavailable" if exc.retryable else "evolution.rejected"
    return EvolutionFailure(code, detail=str(detail)[:200])


def simulator_scan(instance_name: str, phone: str | None = None) -> None:
    """Demo mode: ask the simulator's phone to scan the QR code of `instance_name`."""
    settings = get_settings()
    if not settings.is_demo or not settings.evolution_url:
        raise EvolutionFailure("evolution.demo_only", status=400)
    try:
        response = httpx.post(
            f"{settings.evolution_url.rstrip('/')}/_sim/instances/{instance_name}/scan",
            json={"phone_number": phone} if phone else {},
            timeout=5,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise EvolutionFailure("evolution.unavailable", detail=type(exc).__name__) from exc
