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

from mirage_app.api.deps import api_actor
from mirage_app.api.schemas.common import AUTH, ImpactBody, conflict, errors, field_error, not_found
from mirage_app.api.schemas.outreach import (
    AddTargetsReport,
    BulkResult,
    Policy,
    PolicyCreate,
    PolicyList,
    PolicyPatch,
    Target,
    TargetPage,
    TargetPatch,
    TargetsBulk,
    TargetsCreate,
)
from mirage_app.base.permissions import Actor
from mirage_app.logic.untrusted_input import MAX_OFFSET
from mirage_app.services import outreach

router = APIRouter(prefix="/api/outreach", tags=["outreach"])

_NOT_NULL = ("number_id", "daily_limit", "hourly_limit", "dayparts", "max_rounds_per_contact", "min_gap_minutes",
             "allow_days", "active")  # fmt: skip
_POLICY_404 = not_found("outreach.policy_not_found")
_TARGET_404 = not_found("outreach.target_not_found")
_ARCHIVED = conflict("outreach.policy_archived")  # the policy was deleted after it wrote to contacts: history
_LIMITS = {
    403: {"error": "permission.role", "detail": "Your role does not allow this action."},
    404: field_error("instances.not_found", "number_id"),
    409: field_error("instances.archived", "number_id"),
    422: field_error("outreach.hourly_above_daily", "hourly_limit"),
}  # 403: limits above the safe defaults need an admin whose session passed MFA, never an API key


@router.post(
    "/policies",
    status_code=201,
    response_model=Policy,
    responses=errors(*AUTH, 404, 409, 422, examples=_LIMITS),
    summary="Create an outreach policy",
)
async def create_policy(body: PolicyCreate, actor: Actor = Depends(api_actor)) -> Policy:
    fields = body.model_dump(exclude={"number_id"})
    view = await run_in_threadpool(lambda: outreach.create_policy(actor, number_id=body.number_id, **fields))
    return Policy.model_validate(view)


@router.get(
    "/policies",
    response_model=PolicyList,
    responses=errors(*AUTH),
    summary="List outreach policies with target counts and today's sends",
)
async def list_policies(actor: Actor = Depends(api_actor)) -> PolicyList:
    views = await run_in_threadpool(outreach.list_policies, actor)
    return PolicyList(policies=[Policy.model_validate(v) for v in views])


@router.get(
    "/policies/{policy_id}",
    response_model=Policy,
    responses=errors(*AUTH, 404, examples=_POLICY_404),
    summary="One outreach policy",
)
async def get_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> Policy:
    return Policy.model_validate(await run_in_threadpool(outreach.get_policy, actor, policy_id))


@router.patch(
    "/policies/{policy_id}",
    response_model=Policy,
    responses=errors(*AUTH, 404, 409, 422, examples=_LIMITS | _POLICY_404 | _ARCHIVED),
    summary="Change an outreach policy (only the fields sent)",
)
async def update_policy(policy_id: str, body: PolicyPatch, actor: Actor = Depends(api_actor)) -> Policy:
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    for key in _NOT_NULL:
        if key in changes and changes[key] is None:
            changes.pop(key)  # null for a required value means "leave it"
    view = await run_in_threadpool(lambda: outreach.update_policy(actor, policy_id, **changes))
    return Policy.model_validate(view)


@router.post(
    "/policies/{policy_id}/activate",
    response_model=Policy,
    responses=errors(*AUTH, 404, 409, examples=_POLICY_404 | _ARCHIVED),
    summary="Start outreach under this policy",
)
async def activate_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> Policy:
    return Policy.model_validate(await run_in_threadpool(outreach.activate_policy, actor, policy_id))


@router.post(
    "/policies/{policy_id}/deactivate",
    response_model=Policy,
    responses=errors(*AUTH, 404, 409, examples=_POLICY_404 | _ARCHIVED),
    summary="Stop outreach under this policy now",
)
async def deactivate_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> Policy:
    return Policy.model_validate(await run_in_threadpool(outreach.deactivate_policy, actor, policy_id))


@router.get(
    "/policies/{policy_id}/impact",
    response_model=ImpactBody,
    responses=errors(*AUTH, 404, 409, examples=_POLICY_404 | _ARCHIVED),
    summary="What deleting the policy would do: its queue deleted, or kept with its messages when it is archived",
)
async def policy_impact(policy_id: str, actor: Actor = Depends(api_actor)) -> ImpactBody:
    return ImpactBody.of(await run_in_threadpool(outreach.policy_impact, actor, policy_id))


@router.delete(
    "/policies/{policy_id}",
    response_model=ImpactBody,
    responses=errors(*AUTH, 404, 409, examples=_POLICY_404 | _ARCHIVED),
    summary="Delete a policy and its targets (archived instead, with them, once it has sent messages); answers with "
    "what was done",
)
async def delete_policy(policy_id: str, actor: Actor = Depends(api_actor)) -> ImpactBody:
    return ImpactBody.of(await run_in_threadpool(outreach.delete_policy, actor, policy_id))


@router.get(
    "/targets",
    response_model=TargetPage,
    responses=errors(*AUTH, 422, examples={422: field_error("outreach.status_invalid", "status")}),
    summary="The outreach queue, with filters and per-status counts",
)
async def list_targets(
    actor: Actor = Depends(api_actor),
    policy_id: uuid.UUID | None = Query(default=None, description="Only this policy's queue"),
    status: str | None = Query(default=None, description="One status or several, comma-separated"),
    search: str | None = Query(default=None, max_length=100, description="Part of the name or number"),
    limit: int = Query(default=50, ge=1, le=outreach.MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    sort: Literal["queue", "priority", "created_at", "last_contact_at", "name", "status"] = "queue",
) -> TargetPage:
    page = await run_in_threadpool(
        lambda: outreach.list_targets(
            actor, policy_id=policy_id, status=status, search=search, limit=limit, offset=offset, sort=sort
        )
    )
    return TargetPage(
        targets=[Target.model_validate(t) for t in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        counts=page.counts,
    )


@router.post(
    "/targets",
    status_code=201,
    response_model=AddTargetsReport,
    responses=errors(*AUTH, 404, 409, 422, examples=_POLICY_404 | _ARCHIVED),
    summary="Queue consenting contacts for a policy",
)
async def add_targets(body: TargetsCreate, actor: Actor = Depends(api_actor)) -> AddTargetsReport:
    report = await run_in_threadpool(
        lambda: outreach.add_targets(actor, body.policy_id, body.contact_ids, tag=body.tag, priority=body.priority)
    )
    return AddTargetsReport.model_validate(report)


@router.post(
    "/targets/bulk",
    response_model=BulkResult,
    responses=errors(*AUTH, 422),
    summary="Pause, resume, reset, remove or re-prioritise many targets",
)
async def bulk_targets(body: TargetsBulk, actor: Actor = Depends(api_actor)) -> BulkResult:
    result = await run_in_threadpool(
        lambda: outreach.bulk_targets(actor, body.action, body.ids, priority=body.priority)
    )
    return BulkResult.model_validate(result)


@router.get(
    "/targets/{target_id}",
    response_model=Target,
    responses=errors(*AUTH, 404, examples=_TARGET_404),
    summary="One outreach target",
)
async def get_target(target_id: str, actor: Actor = Depends(api_actor)) -> Target:
    return Target.model_validate(await run_in_threadpool(outreach.get_target, actor, target_id))


@router.patch(
    "/targets/{target_id}",
    response_model=Target,
    responses=errors(*AUTH, 404, 409, 422, examples=_TARGET_404 | _ARCHIVED),
    summary="Change a target's priority or status (pending, paused, done)",
)
async def update_target(target_id: str, body: TargetPatch, actor: Actor = Depends(api_actor)) -> Target:
    view = await run_in_threadpool(
        lambda: outreach.update_target(actor, target_id, priority=body.priority, status=body.status)
    )
    return Target.model_validate(view)


@router.delete(
    "/targets/{target_id}",
    status_code=204,
    response_class=Response,
    responses=errors(*AUTH, 404, 409, examples=_TARGET_404 | _ARCHIVED),
    summary="Remove a target from the queue",
)
async def delete_target(target_id: str, actor: Actor = Depends(api_actor)) -> Response:
    await run_in_threadpool(outreach.delete_target, actor, target_id)
    return Response(status_code=204)
