"""`/api/contacts`: list, create, read, change, delete, consent, CSV import. Thin: rules live in services.contacts.

CSV export is not offered to API keys: it needs an admin whose session passed MFA (the `/contacts` page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.deps import api_actor
from mirage_app.api.errors import ApiError
from mirage_app.base.permissions import Actor
from mirage_app.services import contacts

router = APIRouter(prefix="/api/contacts", tags=["contacts"])


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wa_number: str = Field(min_length=1, max_length=64, description="Any common spelling; stored as E.164")
    display_name: str = ""
    tags: list[str] = Field(default_factory=list)
    notes: str = ""
    consent_status: Literal["unknown", "granted", "revoked"] | None = None
    consent_basis: str | None = None
    consent_source: str | None = None
    consent_at: datetime | None = None


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wa_number: str | None = Field(default=None, max_length=64)
    display_name: str | None = None
    tags: list[str] | None = None
    notes: str | None = None


class ConsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    basis: str = "consent"
    source: str = Field(min_length=1, max_length=200)
    at: datetime | None = None


@router.get("", summary="List contacts (search, tag and consent filters, pagination)")
async def list_contacts(
    actor: Actor = Depends(api_actor),
    search: str | None = Query(default=None, max_length=100),
    tag: str | None = Query(default=None, max_length=40),
    consent: Literal["granted", "revoked", "unknown", "suppressed", "contactable"] | None = None,
    limit: int = Query(default=50, ge=1, le=contacts.MAX_PAGE),
    offset: int = Query(default=0, ge=0),
) -> dict:
    page = await run_in_threadpool(
        lambda: contacts.list_contacts(actor, search=search, tag=tag, consent=consent, limit=limit, offset=offset)
    )
    return {"contacts": [c.as_api() for c in page.items], "total": page.total, "limit": page.limit,
            "offset": page.offset}  # fmt: skip


@router.post("", status_code=201, summary="Create a contact")
async def create_contact(body: ContactCreate, actor: Actor = Depends(api_actor)) -> JSONResponse:
    data = body.model_dump()
    view = await run_in_threadpool(lambda: contacts.create_contact(actor, data.pop("wa_number"), **data))
    return JSONResponse(view.as_api(), status_code=201)


@router.post("/import", summary="Import contacts from CSV (request body: the file, text/csv)")
async def import_contacts(request: Request, actor: Actor = Depends(api_actor)) -> dict:
    body = await request.body()
    if len(body) > contacts.MAX_IMPORT_BYTES:
        raise ApiError(413, "payload_too_large", "CSV imports are limited to 5 MB")
    report = await run_in_threadpool(lambda: contacts.import_csv(actor, body, default_source="api import"))
    return report.as_dict()


@router.get("/{contact_id}", summary="One contact")
async def get_contact(contact_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(contacts.get_contact, actor, contact_id)).as_api()


@router.patch("/{contact_id}", summary="Change number, name, tags or notes")
async def update_contact(contact_id: str, body: ContactPatch, actor: Actor = Depends(api_actor)) -> dict:
    changes = {k: getattr(body, k) for k in body.model_fields_set if getattr(body, k) is not None}
    view = await run_in_threadpool(lambda: contacts.update_contact(actor, contact_id, **changes))
    return view.as_api()


@router.delete("/{contact_id}", status_code=204, summary="Delete a contact (a suppression of its number stays)")
async def delete_contact(contact_id: str, actor: Actor = Depends(api_actor)) -> Response:
    await run_in_threadpool(contacts.delete_contact, actor, contact_id)
    return Response(status_code=204)


@router.put("/{contact_id}/consent", summary="Record consent (basis, source, timestamp)")
async def set_consent(contact_id: str, body: ConsentBody, actor: Actor = Depends(api_actor)) -> dict:
    view = await run_in_threadpool(
        lambda: contacts.set_consent(actor, contact_id, basis=body.basis, source=body.source, at=body.at)
    )
    return view.as_api()


@router.delete("/{contact_id}/consent", summary="Revoke consent")
async def revoke_consent(contact_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (
        await run_in_threadpool(lambda: contacts.revoke_consent(actor, contact_id, source="revoked via API"))
    ).as_api()
