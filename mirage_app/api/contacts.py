"""`/api/contacts`: list, create, read, change, delete, consent, CSV import, and a person's data rights (export,
erase). Thin: rules live in services.contacts.

CSV export is not offered to API keys: it needs an admin whose session passed MFA (the `/contacts` page). The same
holds for a person's export and erasure: their routes also accept the browser's sign-in cookie (SameSite=Strict, so
no other site can send it), and answer 403 to an API key (operator role), a viewer or an admin without MFA.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.deps import api_actor, key_or_session_actor
from mirage_app.api.errors import ApiError
from mirage_app.api.schemas.common import AUTH, ImpactBody, errors, field_error, not_found
from mirage_app.api.schemas.contacts import (
    ConsentBody,
    Contact,
    ContactCreate,
    ContactPage,
    ContactPatch,
    ImportReport,
)
from mirage_app.api.schemas.data_rights import ErasureBody, PersonalDataBody
from mirage_app.base.errors import message_for
from mirage_app.base.permissions import Actor
from mirage_app.logic.untrusted_input import MAX_OFFSET
from mirage_app.services import contacts

router = APIRouter(prefix="/api/contacts", tags=["contacts"])
_404 = not_found("contacts.not_found")
_SUPPRESSED = {409: field_error("contacts.suppressed", "consent_status")}
_ADMIN_MFA = {403: {"error": "permission.mfa_required", "detail": message_for("permission.mfa_required")}}
_CSV_EXAMPLE = "telefone;nome;consentimento\n11 98765-1111;Ana;sim\n11 8765-1111;Ana de novo;sim\nxx;Bad;sim\n"


@router.get(
    "",
    response_model=ContactPage,
    responses=errors(*AUTH, 422),
    summary="List contacts (search, tag and consent filters, pagination)",
)
async def list_contacts(
    actor: Actor = Depends(api_actor),
    search: str | None = Query(default=None, max_length=100, description="Part of the name or number"),
    tag: str | None = Query(default=None, max_length=40, description="Only contacts with this tag"),
    consent: Literal["granted", "revoked", "unknown", "suppressed", "contactable"] | None = None,
    limit: int = Query(default=50, ge=1, le=contacts.MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> ContactPage:
    page = await run_in_threadpool(
        lambda: contacts.list_contacts(actor, search=search, tag=tag, consent=consent, limit=limit, offset=offset)
    )
    return ContactPage(contacts=[Contact.model_validate(c) for c in page.items], total=page.total,
                       limit=page.limit, offset=page.offset)  # fmt: skip


@router.post("", status_code=201, response_model=Contact, responses=errors(*AUTH, 409, 422), summary="Create a contact")
async def create_contact(body: ContactCreate, actor: Actor = Depends(api_actor)) -> Contact:
    data = body.model_dump()
    view = await run_in_threadpool(lambda: contacts.create_contact(actor, data.pop("wa_number"), **data))
    return Contact.model_validate(view)


@router.post(
    "/import",
    response_model=ImportReport,
    responses=errors(*AUTH, 413, 422, examples={422: field_error("contacts.csv_empty", "file")}),
    summary="Import contacts from CSV (request body: the file, text/csv)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The CSV file, up to 5 MB: a header row (Portuguese or English names; `,` or `;`), "
            "then one contact per row. Rows are checked one by one; the report lists the refused ones.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
        }
    },
)
async def import_contacts(request: Request, actor: Actor = Depends(api_actor)) -> ImportReport:
    body = await request.body()
    if len(body) > contacts.MAX_IMPORT_BYTES:
        raise ApiError(413, "payload_too_large", "CSV imports are limited to 5 MB")
    report = await run_in_threadpool(lambda: contacts.import_csv(actor, body, default_source="api import"))
    return ImportReport.model_validate(report)


@router.get("/{contact_id}", response_model=Contact, responses=errors(*AUTH, 404, examples=_404), summary="One contact")
async def get_contact(contact_id: str, actor: Actor = Depends(api_actor)) -> Contact:
    return Contact.model_validate(await run_in_threadpool(contacts.get_contact, actor, contact_id))


@router.patch(
    "/{contact_id}",
    response_model=Contact,
    responses=errors(*AUTH, 404, 409, 422, examples=_404),
    summary="Change number, name, tags or notes",
)
async def update_contact(contact_id: str, body: ContactPatch, actor: Actor = Depends(api_actor)) -> Contact:
    changes = {k: getattr(body, k) for k in body.model_fields_set if getattr(body, k) is not None}
    view = await run_in_threadpool(lambda: contacts.update_contact(actor, contact_id, **changes))
    return Contact.model_validate(view)


@router.get(
    "/{contact_id}/impact",
    response_model=ImpactBody,
    responses=errors(*AUTH, 404, examples=_404),
    summary="What deleting the contact would do: conversations it leaves (stopped if they can no longer run), "
    "outreach targets deleted, messages kept",
)
async def contact_impact(contact_id: str, actor: Actor = Depends(api_actor)) -> ImpactBody:
    return ImpactBody.of(await run_in_threadpool(contacts.contact_impact, actor, contact_id))


@router.delete(
    "/{contact_id}",
    response_model=ImpactBody,
    responses=errors(*AUTH, 404, examples=_404),
    summary="Delete a contact (a suppression of its number stays); answers with what was done",
)
async def delete_contact(contact_id: str, actor: Actor = Depends(api_actor)) -> ImpactBody:
    return ImpactBody.of(await run_in_threadpool(contacts.delete_contact, actor, contact_id))


@router.put(
    "/{contact_id}/consent",
    response_model=Contact,
    responses=errors(*AUTH, 404, 409, 422, examples=_404 | _SUPPRESSED),
    summary="Record consent (basis, source, timestamp)",
)
async def set_consent(contact_id: str, body: ConsentBody, actor: Actor = Depends(api_actor)) -> Contact:
    view = await run_in_threadpool(
        lambda: contacts.set_consent(actor, contact_id, basis=body.basis, source=body.source, at=body.at)
    )
    return Contact.model_validate(view)


@router.delete(
    "/{contact_id}/consent",
    response_model=Contact,
    responses=errors(*AUTH, 404, examples=_404),
    summary="Revoke consent",
)
async def revoke_consent(contact_id: str, actor: Actor = Depends(api_actor)) -> Contact:
    view = await run_in_threadpool(lambda: contacts.revoke_consent(actor, contact_id, source="revoked via API"))
    return Contact.model_validate(view)


@router.post(
    "/{contact_id}/export",
    response_model=PersonalDataBody,
    responses=errors(*AUTH, 404, 422, examples=_404 | _ADMIN_MFA)
    | {200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}},
    summary="Export everything held about one person (LGPD): JSON, or with format=csv a zip of one CSV per section. "
    "Admin with MFA (signed-in session)",
)
async def export_person(
    contact_id: str,
    actor: Actor = Depends(key_or_session_actor),
    format: Literal["json", "csv"] = Query(default="json", description="`json`, or `csv`: a zip of CSV files"),
) -> PersonalDataBody | Response:
    data = await run_in_threadpool(contacts.export_person, actor, contact_id)
    if format == "csv":
        return Response(
            data.as_zip(),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{data.filename}.zip"', "Cache-Control": "no-store"},
        )
    return PersonalDataBody.model_validate(data.as_json())


@router.post(
    "/{contact_id}/erase",
    response_model=ErasureBody,
    responses=errors(*AUTH, 404, examples=_404 | _ADMIN_MFA),
    summary="Erase one person's data (LGPD): their number is kept only as a keyed hash on the suppression list, "
    "so they are never contacted again. Admin with MFA (signed-in session)",
)
async def erase_person(contact_id: str, actor: Actor = Depends(key_or_session_actor)) -> ErasureBody:
    report = await run_in_threadpool(contacts.erase_person, actor, contact_id)
    return ErasureBody.model_validate(report.as_dict())
