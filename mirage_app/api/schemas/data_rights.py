"""Bodies of a person's data rights (LGPD Art. 18): `POST /api/contacts/{id}/export` and `/erase`."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_EXPORT = {
    "contact_id": "5f8e2d0c-1b7a-4e52-9c33-7a1d2b3c4d5e",
    "wa_number": "+5511987651111",
    "exported_at": "2025-01-10T09:00:00-03:00",
    "timezone": "America/Sao_Paulo",
    "contact": [{"id": "5f8e2d0c-1b7a-4e52-9c33-7a1d2b3c4d5e", "wa_number": "+5511987651111",
                 "display_name": "Ana", "consent_status": "granted"}],
    "consent_history": [{"event": "granted", "basis": "consent", "source": "website form",
                         "at": "2025-01-02T10:00:00-03:00", "actor": "admin@example.com",
                         "recorded_at": "2025-01-02T10:00:01-03:00"}],
    "messages": [{"id": "0b1c…", "created_at": "2025-01-03T14:00:00-03:00", "direction": "out", "kind": "text",
                  "body": "Oi Ana, tudo bem?", "status": "read", "our_number_label": "Vendas"}],
    "outreach_targets": [{"id": "9a8b…", "status": "done", "rounds_done": 1, "our_number_label": "Vendas"}],
    "suppression": [],
    "audit": [{"at": "2025-01-02T10:00:01-03:00", "actor": "admin@example.com", "action": "contact.create",
               "entity": "contact", "entity_id": "5f8e2d0c-1b7a-4e52-9c33-7a1d2b3c4d5e", "before": {},
               "after": {"wa_number": "+5511987651111"}}],
}  # fmt: skip

Rows = list[dict[str, Any]]


class PersonalDataBody(BaseModel):
    """Everything Mirage holds about one contact. Times are ISO 8601 in the tenant's zone."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXPORT]})
    contact_id: uuid.UUID
    wa_number: str
    exported_at: str
    timezone: str = Field(description="The tenant's time zone, which every time in the export is given in")
    contact: Rows = Field(description="The contact record (one row)")
    consent_history: Rows = Field(description="Each grant, revocation and erasure, oldest first (append-only)")
    messages: Rows = Field(description="Messages to and from the person, oldest first")
    outreach_targets: Rows = Field(description="The outreach queues the person is in")
    suppression: Rows = Field(description="Their suppression-list entry, if any")
    audit: Rows = Field(description="Audit entries about the person")


class ErasureBody(BaseModel):
    """What an erasure did: counts only (the erased data is gone)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "contact_id": "5f8e2d0c-1b7a-4e52-9c33-7a1d2b3c4d5e",
                    "messages": 12,
                    "webhook_events": 9,
                    "audit_entries": 4,
                    "consent_events": 2,
                }
            ]
        }
    )
    contact_id: uuid.UUID
    messages: int = Field(description="Messages whose text, links and personal details were cleared")
    webhook_events: int = Field(description="Raw webhook payloads carrying the number, blanked")
    audit_entries: int = Field(description="Audit entries about the person whose before/after were cleared")
    consent_events: int = Field(description="Consent-history rows whose number and source were blanked")
