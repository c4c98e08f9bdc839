"""Bodies of `/api/instances`: a WhatsApp number (an Evolution instance) and its QR code."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.schemas.common import IsoDatetime

_ID = "0b9c5b8e-6f1a-4c39-9a51-1f0e6c1d2a33"
_QR = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA..."
_INSTANCE = {
    "id": _ID,
    "label": "Sales 1",
    "session_id": "mrg-sales-1-3fa2b9c1",
    "wa_number": "+5511987654321",
    "status": "connected",
    "persona_id": None,
    "messages_today": 12,
    "messages_7d": 80,
    "last_seen": "2025-01-15T13:45:00+00:00",
    "server": {"id": "5d1e1f0a-3a43-4a52-8d8f-0f6f2f1b7c11", "name": "Evolution 1", "health": "ok"},
}


class CreateInstance(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"label": "Sales 1", "persona_id": None}]})

    label: str = Field(min_length=1, max_length=120, description="Name shown in Mirage", examples=["Sales 1"])
    persona_id: uuid.UUID | None = Field(default=None, description="Voice of this number's replies (default: none)")
    server_id: uuid.UUID | None = Field(
        default=None, description="Evolution server to place it on (default: the least loaded one with room)"
    )


class InstanceServer(BaseModel):
    """The Evolution server that holds a number's session (every call for the number goes there)."""

    id: uuid.UUID
    name: str
    health: str = Field(description="ok, unknown, unreachable, license_required, unauthorized or not_evolution")


class Instance(BaseModel):
    """A number with its activity; built from `services.instances.InstanceView`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [_INSTANCE]},
    )

    id: uuid.UUID
    label: str
    session_id: str = Field(description="The Evolution instance name")
    wa_number: str | None = Field(description="E.164 number once paired")
    status: str = Field(
        description="disconnected, connecting, connected, error or paused; creating until Evolution confirms it"
    )
    persona_id: uuid.UUID | None
    messages_today: int = Field(description="Messages sent and received today (tenant's time zone)")
    messages_7d: int = Field(description="Messages over the last 7 days")
    last_seen: IsoDatetime | None = Field(description="Last activity seen from WhatsApp")
    server: InstanceServer | None = Field(description="Where its WhatsApp session lives")

    @classmethod
    def of(cls, view) -> Instance:
        server = (
            InstanceServer(id=view.server_id, name=view.server_name or "", health=view.server_health or "unknown")
            if view.server_id
            else None
        )
        fields = {name: getattr(view, name) for name in cls.model_fields if name != "server"}
        return cls.model_validate({**fields, "server": server})


class InstanceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"instances": [_INSTANCE]}]})

    instances: list[Instance]


class InstanceQr(BaseModel):
    """A number's pairing state; built from `services.instances.QrView`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{"id": _ID, "session_id": "mrg-sales-1-3fa2b9c1", "status": "connecting", "qr_code": _QR}]
        },
    )

    id: uuid.UUID
    session_id: str = Field(description="The Evolution instance name")
    status: str
    qr_code: str | None = Field(description="PNG data URL to scan with WhatsApp; null once connected")
