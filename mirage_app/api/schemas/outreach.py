"""Bodies of `/api/outreach`: policies (who writes, how much, when) and targets (the outreach queue)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.schemas.common import IsoDatetime
from mirage_app.services import outreach

_NUMBER = "3c2b1a09-8f7e-4d6c-b5a4-938271605f4e"
_POLICY_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
_TARGET_ID = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
_CONTACT_ID = "5f8e2d0c-1b7a-4e52-9c33-7a1d2b3c4d5e"
_POLICY = {
    "id": _POLICY_ID,
    "number_id": _NUMBER,
    "number_label": "Sales 1",
    "number_wa": "+5511987654321",
    "number_status": "connected",
    "persona_id": None,
    "persona_name": None,
    "daily_limit": 50,
    "hourly_limit": 5,
    "max_rounds_per_contact": 3,
    "min_gap_minutes": 10,
    "dayparts": ["morning", "afternoon"],
    "allow_days": [],
    "optout_keywords": ["SAIR", "PARAR", "PARE", "STOP"],
    "active": False,
    "created_at": "2025-01-15T13:45:00.123456+00:00",
    "updated_at": None,
    "targets": {"pending": 12, "done": 3},
    "sent_today": 0,
    "sent_last_hour": 0,
}
_TARGET = {
    "id": _TARGET_ID,
    "policy_id": _POLICY_ID,
    "contact_id": _CONTACT_ID,
    "wa_number": "+5511987651111",
    "display_name": "Ana",
    "consent_status": "granted",
    "suppressed": False,
    "priority": 0,
    "status": "pending",
    "last_contact_at": None,
    "rounds_done": 0,
    "max_rounds": 3,
    "last_error": None,
    "number_label": "Sales 1",
    "created_at": "2025-01-15T13:50:00.123456+00:00",
    "updated_at": None,
}

# -- policies ---------------------------------------------------------------------------------------------------


class PolicyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"number_id": _NUMBER, "daily_limit": 50, "hourly_limit": 5, "dayparts": ["morning", "afternoon"]}
            ]
        },
    )

    number_id: uuid.UUID = Field(description="The number that writes (one of the tenant's instances)")
    daily_limit: int = Field(description="Outreach messages per tenant-local day from this number")
    hourly_limit: int = Field(description="Outreach messages per rolling hour (≤ daily_limit)")
    dayparts: list[str] = Field(description="Any of morning, afternoon, evening")
    persona_id: uuid.UUID | None = Field(default=None, description="Voice of the messages (default: the number's)")
    max_rounds_per_contact: int = Field(default=3, description="Our messages per contact, opener included")
    min_gap_minutes: int = Field(default=10, description="Minimum minutes between two outreach sends")
    allow_days: list[str] = Field(default_factory=list, description="sun..sat; empty = every day")
    optout_keywords: list[str] | None = Field(default=None, description="Default: SAIR, PARAR, PARE, STOP, ...")
    active: bool = Field(default=False, description="Outreach stays off until a policy is active")


class PolicyPatch(BaseModel):
    """Only the fields sent change; null for a required value means "leave it"."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"allow_days": ["mon", "tue"], "active": True}]}
    )

    number_id: uuid.UUID | None = Field(default=None, description="The number that writes")
    daily_limit: int | None = Field(default=None, description="Outreach messages per tenant-local day")
    hourly_limit: int | None = Field(default=None, description="Outreach messages per rolling hour")
    dayparts: list[str] | None = Field(default=None, description="Any of morning, afternoon, evening")
    persona_id: uuid.UUID | None = Field(default=None, description="Voice of the messages; null: the number's")
    max_rounds_per_contact: int | None = Field(default=None, description="Our messages per contact")
    min_gap_minutes: int | None = Field(default=None, description="Minimum minutes between two sends")
    allow_days: list[str] | None = Field(default=None, description="sun..sat; empty = every day")
    optout_keywords: list[str] | None = Field(default=None, description="null: the defaults")
    active: bool | None = Field(default=None, description="Start (true) or stop (false) outreach")


class Policy(BaseModel):
    """An outreach policy with its queue counts and today's sends; built from `services.outreach.PolicyView`."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_POLICY]})

    id: uuid.UUID
    number_id: uuid.UUID
    number_label: str
    number_wa: str | None
    number_status: str
    persona_id: uuid.UUID | None
    persona_name: str | None
    daily_limit: int
    hourly_limit: int
    max_rounds_per_contact: int
    min_gap_minutes: int
    dayparts: list[str]
    allow_days: list[str]
    optout_keywords: list[str]
    active: bool
    created_at: IsoDatetime
    updated_at: IsoDatetime | None
    targets: dict[str, int] = Field(description="Target status → count")
    sent_today: int
    sent_last_hour: int


class PolicyList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"policies": [_POLICY]}]})

    policies: list[Policy]


# -- targets ----------------------------------------------------------------------------------------------------


class TargetsCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"policy_id": _POLICY_ID, "contact_ids": [_CONTACT_ID], "priority": 3}]},
    )

    policy_id: uuid.UUID = Field(description="The policy whose queue receives the contacts")
    contact_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=outreach.MAX_BULK,
        description="Contacts to queue (those without consent are skipped)",
    )
    tag: str | None = Field(default=None, description="Also add every contact with this tag")
    priority: int = Field(default=0, description="Higher goes first")


class TargetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"priority": 10, "status": "paused"}]})

    priority: int | None = Field(default=None, description="Higher goes first; null or absent: unchanged")
    status: Literal["pending", "paused", "done"] | None = Field(
        default=None, description="The statuses a client may set (the engine sets the others)"
    )


class TargetsBulk(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "set_priority", "ids": [_TARGET_ID], "priority": 50}]},
    )

    action: Literal["pause", "resume", "reset", "remove", "set_priority"] = Field(description="What to do")
    ids: list[uuid.UUID] = Field(max_length=outreach.MAX_BULK, description="Target ids")
    priority: int | None = Field(default=None, description="For set_priority")


class Target(BaseModel):
    """One queued contact; built from `services.outreach.TargetView`."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_TARGET]})

    id: uuid.UUID
    policy_id: uuid.UUID
    contact_id: uuid.UUID
    wa_number: str
    display_name: str
    consent_status: str
    suppressed: bool
    priority: int = Field(description="Higher goes first")
    status: str = Field(description="pending, in_progress, paused, done, optout or failed")
    last_contact_at: IsoDatetime | None
    rounds_done: int
    max_rounds: int
    last_error: str | None
    number_label: str
    created_at: IsoDatetime
    updated_at: IsoDatetime | None


class TargetPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"targets": [_TARGET], "total": 1, "limit": 50, "offset": 0, "counts": {"pending": 1}}]
        }
    )

    targets: list[Target]
    total: int = Field(description="Targets matching the filters, over all pages")
    limit: int
    offset: int
    counts: dict[str, int] = Field(description="Status → count for the same policy and search (all statuses)")


class SkippedContact(BaseModel):
    contact_id: str
    wa_number: str | None
    reason: str = Field(description="not_found, suppressed or no_consent")


class AddTargetsReport(BaseModel):
    """What queueing did; built from `services.outreach.AddTargetsReport`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "added": 1,
                    "already": 0,
                    "skipped": [{"contact_id": _NUMBER, "wa_number": "+5511977779999", "reason": "no_consent"}],
                    "target_ids": [_TARGET_ID],
                }
            ]
        },
    )

    added: int
    already: int = Field(description="Already targets of this policy (their priority was updated)")
    skipped: list[SkippedContact]
    target_ids: list[str] = Field(description="Ids of the targets added")


class SkippedTarget(BaseModel):
    id: str
    reason: str = Field(description="not_found, or why the action does not apply to this target")


class BulkResult(BaseModel):
    """What a bulk action did; built from `services.outreach.BulkResult`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"changed": 1, "skipped": [{"id": _TARGET_ID, "reason": "not_found"}]}]},
    )

    changed: int
    skipped: list[SkippedTarget]
