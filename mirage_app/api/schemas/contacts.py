"""Bodies of `/api/contacts`: contacts, consent and the CSV import report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.schemas.common import IsoDatetime

_CONTACT = {
    "id": "5f8e2d0c-1b7a-4e52-9c33-7a1d2b3c4d5e",
    "wa_number": "+5511987651111",
    "display_name": "Ana",
    "tags": ["vip"],
    "notes": "",
    "consent_status": "granted",
    "consent_basis": "consent",
    "consent_source": "website form",
    "consent_at": "2025-01-10T12:00:00+00:00",
    "opted_out_at": None,
    "suppressed": False,
    "suppression_reason": None,
    "created_at": "2025-01-10T12:00:00.123456+00:00",
    "updated_at": None,
    "contactable": True,
}

# -- requests ---------------------------------------------------------------------------------------------------


class ContactCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "wa_number": "11 98765-1111",
                    "display_name": "Ana",
                    "tags": ["vip"],
                    "consent_status": "granted",
                    "consent_basis": "consent",
                    "consent_source": "website form",
                }
            ]
        },
    )

    wa_number: str = Field(min_length=1, max_length=64, description="Any common spelling; stored as E.164")
    display_name: str = Field(default="", description="Name shown in Mirage")
    tags: list[str] = Field(default_factory=list, description="Free labels, e.g. for `tag` filters and targeting")
    notes: str = Field(default="", description="Free text for operators")
    consent_status: Literal["unknown", "granted", "revoked"] | None = Field(
        default=None, description="Outreach needs `granted` (default: unknown)"
    )
    consent_basis: str | None = Field(default=None, description="Legal basis, e.g. consent or contract")
    consent_source: str | None = Field(default=None, description="Where consent was given (required with granted)")
    consent_at: datetime | None = Field(default=None, description="When consent was given (default: now)")


class ContactPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"display_name": "Ana Souza", "tags": ["vip", "sp"]}]}
    )

    wa_number: str | None = Field(default=None, max_length=64, description="New number; null or absent: unchanged")
    display_name: str | None = Field(default=None, description="Null or absent: unchanged")
    tags: list[str] | None = Field(default=None, description="Replaces every tag; null or absent: unchanged")
    notes: str | None = Field(default=None, description="Null or absent: unchanged")


class ConsentBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"basis": "contract", "source": "store counter"}]}
    )

    basis: str = Field(default="consent", description="Legal basis of the consent")
    source: str = Field(min_length=1, max_length=200, description="Where and how it was given")
    at: datetime | None = Field(default=None, description="When it was given (default: now)")


# -- responses --------------------------------------------------------------------------------------------------


class Contact(BaseModel):
    """One contact; built from `services.contacts.ContactView`."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_CONTACT]})

    id: uuid.UUID
    wa_number: str = Field(description="E.164")
    display_name: str
    tags: list[str]
    notes: str
    consent_status: str = Field(description="unknown, granted or revoked")
    consent_basis: str | None
    consent_source: str | None
    consent_at: IsoDatetime | None
    opted_out_at: IsoDatetime | None = Field(description="When the contact asked to stop (an opt-out keyword)")
    suppressed: bool = Field(description="The number is on the suppression list: never messaged")
    suppression_reason: str | None
    created_at: IsoDatetime
    updated_at: IsoDatetime | None
    contactable: bool = Field(description="May outreach message this contact (consent granted, not suppressed)")


class ContactPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contacts": [_CONTACT], "total": 1, "limit": 50, "offset": 0}]}
    )

    contacts: list[Contact]
    total: int = Field(description="Contacts matching the filters, over all pages")
    limit: int
    offset: int


class ImportRowError(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line: int = Field(description="Line of the file the row starts on")
    reason: str = Field(description="Short code; `contacts.import.<reason>` is its i18n key")
    raw: str = Field(description="The row as it was in the file (up to 500 characters)")
    message: str = Field(description="English text of the reason")


class DuplicateRow(BaseModel):
    line: int
    first_line: int = Field(description="Where the same number appeared first")
    wa_number: str


class ImportReport(BaseModel):
    """What a CSV import did; built from `services.contacts.ImportReport`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "imported": 1,
                    "updated": 0,
                    "duplicates": 1,
                    "failed": 1,
                    "total_rows": 3,
                    "delimiter": ";",
                    "columns": {"telefone": "phone", "nome": "name", "consentimento": "consent"},
                    "errors": [
                        {
                            "line": 4,
                            "reason": "invalid_phone",
                            "raw": "xx;Bad;sim",
                            "message": "Not a valid WhatsApp number (too short).",
                        }
                    ],
                    "duplicate_rows": [{"line": 3, "first_line": 2, "wa_number": "+5511987651111"}],
                }
            ]
        },
    )

    imported: int = Field(description="New contacts")
    updated: int = Field(description="Existing contacts updated from the file")
    duplicates: int = Field(description="Rows whose number appeared earlier in the file (skipped)")
    failed: int = Field(description="Rows refused; see `errors`")
    total_rows: int
    delimiter: str = Field(description="The delimiter detected")
    columns: dict[str, str] = Field(description="File header → field it was read as")
    errors: list[ImportRowError]
    duplicate_rows: list[DuplicateRow]
