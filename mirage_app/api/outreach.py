"""`/api/outreach/policies` and `/api/outreach/targets`. Thin: every rule lives in services.outreach.

The seed's example body works as is:
`POST /api/outreach/policies {"number_id": "...", "daily_limit": 50, "hourly_limit": 5, "dayparts": ["morning",
"afternoon"]}` → 201 (an inactive policy: outreach starts once it is activated). Invalid values answer 422 with
the field named (`{"error": ..., "detail": [{"field": "hourly_limit", "message": ...}]}`); another tenant's ids
answer 404 and change nothing.
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.deps import api_actor
from mirage_app.base.permissions import Actor
from mirage_app.services import outreach

router = APIRouter(prefix="/api/outreach", tags=["outreach"])


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    model_config = ConfigDict(extra="forbid")

    number_id: uuid.UUID | None = None
    daily_limit: int | None = None
    hourly_limit: int | None = None
    dayparts: list[str] | None = None
    persona_id: uuid.UUID | None = None
    max_rounds_per_contact: int | None = None
    min_gap_minutes: int | None = None
    allow_days: list[str] | None = None
    optout_keywords: list[str] | None = None
    active: bool | None = None


_NOT_NULL = ("number_id", "daily_limit", "hourly_limit", "dayparts", "max_rounds_per_contact", "min_gap_minutes",
             "allow_days", "active")  # fmt: skip


@router.post("/policies", status_code=201, summary="Create an outreach policy")
async def create_policy(body: PolicyCreate, actor: Actor = Depends(api_actor)) -> JSONResponse:
    fields = body.model_dump(exclude={"number_id"})
    view = await run_in_threadpool(lambda: outreach.create_policy(actor, number_id=body.number_id, **fields))
    return JSONResponse(view.as_api(), status_code=201)


@router.get("/policies", summary="List outreach policies with target counts and today's sends")
async def list_policies(actor: Actor = Depends(api_actor)) -> dict:
    views = await run_in_threadpool(outreach.list_policies, actor)
    return {"policies": [v.as_api() for v in views]}


@router.get("/policies/{policy_id}", summary="One outreach policy")
async def get_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(outreach.get_policy, actor, policy_id)).as_api()


@router.patch("/policies/{policy_id}", summary="Change an outreach policy (only the fields sent)")
async def update_policy(policy_id: str, body: PolicyPatch, actor: Actor = Depends(api_actor)) -> dict:
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    for key in _NOT_NULL:
        if key in changes and changes[key] is None:
            changes.pop(key)  # null for a required value means "leave it"
    view = await run_in_threadpool(lambda: outreach.update_policy(actor, policy_id, **changes))
    return view.as_api()


@router.post("/policies/{policy_id}/activate", summary="Start outreach under this policy")
async def activate_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(outreach.activate_policy, actor, policy_id)).as_api()


@router.post("/policies/{policy_id}/deactivate", summary="Stop outreach under this policy now")
async def deactivate_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(outreach.deactivate_policy, actor, policy_id)).as_api()


@router.delete("/policies/{policy_id}", status_code=204, summary="Delete a policy and its targets")
async def delete_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> Response:
    await run_in_threadpool(outreach.delete_policy, actor, policy_id)
    return Response(status_code=204)


class TargetsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_id: uuid.UUID
    contact_ids: list[uuid.UUID] = Field(default_factory=list, max_length=outreach.MAX_BULK)
    tag: str | None = Field(default=None, description="Also add every contact with this tag")
    priority: int = 0


class TargetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int | None = None
    status: Literal["pending", "paused", "done"] | None = None


class TargetsBulk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["pause", "resume", "reset", "remove", "set_priority"]
    ids: list[uuid.UUID] = Field(max_length=outreach.MAX_BULK)
    priority: int | None = None


@router.get("/targets", summary="The outreach queue, with filters and per-status counts")
async def list_targets(
    actor: Actor = Depends(api_actor),
    policy_id: uuid.UUID | None = None,
    status: str | None = Query(default=None, description="One status or several, comma-separated"),
    search: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=50, ge=1, le=outreach.MAX_PAGE),
    offset: int = Query(default=0, ge=0),
    sort: Literal["queue", "priority", "created_at", "last_contact_at", "name", "status"] = "queue",
) -> dict:
    page = await run_in_threadpool(
        lambda: outreach.list_targets(
            actor, policy_id=policy_id, status=status, search=search, limit=limit, offset=offset, sort=sort
        )
    )
    return {
        "targets": [t.as_api() for t in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "counts": page.counts,
    }


@router.post("/targets", status_code=201, summary="Queue consenting contacts for a policy")
async def add_targets(body: TargetsCreate, actor: Actor = Depends(api_actor)) -> JSONResponse:
    report = await run_in_threadpool(
        lambda: outreach.add_targets(actor, body.policy_id, body.contact_ids, tag=body.tag, priority=body.priority)
    )
    return JSONResponse(report.as_dict(), status_code=201)


@router.post("/targets/bulk", summary="Pause, resume, reset, remove or re-prioritise many targets")
async def bulk_targets(body: TargetsBulk, actor: Actor = Depends(api_actor)) -> dict:
    result = await run_in_threadpool(
        lambda: outreach.bulk_targets(actor, body.action, body.ids, priority=body.priority)
    )
    return result.as_dict()


@router.get("/targets/{target_id}", summary="One outreach target")
async def get_target(target_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(outreach.get_target, actor, target_id)).as_api()


@router.patch("/targets/{target_id}", summary="Change a target's priority or status (pending, paused, done)")
async def update_target(target_id: str, body: TargetPatch, actor: Actor = Depends(api_actor)) -> dict:
    view = await run_in_threadpool(
        lambda: outreach.update_target(actor, target_id, priority=body.priority, status=body.status)
    )
    return view.as_api()


@router.delete("/targets/{target_id}", status_code=204, summary="Remove a target from the queue")
async def delete_target(target_id: str, actor: Actor = Depends(api_actor)) -> Response:
    await run_in_threadpool(outreach.delete_target, actor, target_id)
    return Response(status_code=204)
