"""Bodies of `/api/evolution-servers`: the Evolution servers a tenant's numbers can be placed on (no secrets)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.schemas.common import IsoDatetime

_SERVER = {
    "id": "5d1e1f0a-3a43-4a52-8d8f-0f6f2f1b7c11",
    "name": "Evolution 1",
    "base_url": "https://evo1.example.com",
    "owner": "platform",
    "capacity": 70,
    "numbers": 42,
    "free": 28,
    "state": "active",
    "health": "ok",
    "health_since": "2026-12-06T09:00:00+00:00",
    "last_probe_at": "2026-12-06T12:00:00+00:00",
    "latency_ms": 35,
    "version": "2.3.7",
    "last_error": None,
}


class EvolutionServerOut(BaseModel):
    """One server; built from `services.evolution_servers.ServerView`. Its API key is never returned."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SERVER]})

    id: uuid.UUID
    name: str
    base_url: str
    owner: str = Field(description="platform (offered to every tenant) or tenant (this tenant's own)")
    capacity: int = Field(description="Instances it may hold")
    numbers: int = Field(description="Numbers on it (across every tenant for a platform server)")
    free: int = Field(description="Room for new numbers")
    state: str = Field(description="active, draining (no new numbers) or disabled (its numbers do not send)")
    health: str = Field(description="ok, unknown, unreachable, license_required, unauthorized or not_evolution")
    health_since: IsoDatetime | None = Field(description="Since when it has had this health")
    last_probe_at: IsoDatetime | None
    latency_ms: int | None = Field(description="Answer time of the last probe")
    version: str | None = Field(description="Evolution API version it reports")
    last_error: str | None

    @classmethod
    def of(cls, view) -> EvolutionServerOut:
        fields = {name: getattr(view, name) for name in cls.model_fields if name not in ("numbers", "free")}
        return cls(**fields, numbers=view.placed, free=view.free)


class EvolutionServerList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"servers": [_SERVER]}]})

    servers: list[EvolutionServerOut]
