"""Bodies of `/api/health`, `/api/me` and the Evolution webhook's acknowledgement."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class HealthCheck(BaseModel):
    """One dependency; besides these fields each check adds its own (role, count, scheduler, version, ...)."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    latency_ms: float
    error: str | None = Field(default=None, description="Present when the check failed")


class HealthReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "checks": {
                        "database": {"ok": True, "role": "mirage_app", "latency_ms": 1.2},
                        "redis": {"ok": True, "latency_ms": 0.4},
                        "workers": {"ok": True, "count": 2, "scheduler": "1736948700", "latency_ms": 2.1},
                        "evolution": {"ok": True, "version": "2.2.3", "simulator": False, "latency_ms": 8.5},
                    },
                    "demo": False,
                    "llm": "openai",
                }
            ]
        }
    )

    status: Literal["ok", "degraded"] = Field(description="ok when every check passed (HTTP 200), else 503")
    checks: dict[str, HealthCheck] = Field(description="database, redis, workers, evolution")
    demo: bool = Field(description="Running against the WhatsApp simulator")
    llm: Literal["offline", "openai"]


class Me(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "7d6c5b4a-3f2e-4d1c-9b8a-7f6e5d4c3b2a",
                    "api_key_id": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
                    "label": "api_key:script",
                    "role": "operator",
                    "permissions": ["data.read", "outreach.manage"],
                }
            ]
        }
    )

    tenant_id: uuid.UUID
    api_key_id: uuid.UUID | None
    label: str = Field(description="`api_key:<name>` for an API key")
    role: str = Field(description="API keys act as operator")
    permissions: list[str] = Field(description="Every action this key may do")


class WebhookAck(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ok": True, "duplicate": False}]})

    ok: Literal[True]
    duplicate: bool = Field(description="The delivery had been received before (nothing new was stored)")
