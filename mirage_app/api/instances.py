"""`/api/instances`: create (QR), list, fetch a fresh QR, stop, delete (archive). Thin: every rule lives in services."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.deps import api_actor
from mirage_app.api.schemas.common import AUTH, ImpactBody, errors, field_error, not_found
from mirage_app.api.schemas.instances import CreateInstance, Instance, InstanceList, InstanceQr
from mirage_app.base.permissions import Actor
from mirage_app.services import instances, number_lifecycle

router = APIRouter(prefix="/api/instances", tags=["instances"])
_404 = not_found("instances.not_found")


@router.post(
    "",
    status_code=201,
    response_model=InstanceQr,
    responses=errors(*AUTH, 404, 409, 422, 502, 504, examples={404: field_error("personas.not_found", "persona_id")}),
    summary="Create an Evolution instance and return its QR code",
)
async def create_instance(body: CreateInstance, actor: Actor = Depends(api_actor)) -> InstanceQr:
    view = await run_in_threadpool(instances.create_instance, actor, body.label, body.persona_id, body.server_id)
    return InstanceQr.model_validate(view)


@router.get(
    "",
    response_model=InstanceList,
    responses=errors(*AUTH),
    summary="List instances with message counts and last activity",
)
async def list_instances(actor: Actor = Depends(api_actor)) -> InstanceList:
    views = await run_in_threadpool(instances.list_instances, actor)
    return InstanceList(instances=[Instance.of(v) for v in views])


@router.get(
    "/{instance_id}/qr",
    response_model=InstanceQr,
    responses=errors(*AUTH, 404, 502, examples=_404),
    summary="A fresh QR code while the number is not connected",
)
async def instance_qr(instance_id: str, actor: Actor = Depends(api_actor)) -> InstanceQr:
    return InstanceQr.model_validate(await run_in_threadpool(instances.get_qr, actor, instance_id))


@router.post(
    "/{instance_id}/stop",
    response_model=InstanceQr,
    responses=errors(*AUTH, 404, 502, examples=_404),
    summary="Log the number out (history is kept)",
)
async def stop_instance(instance_id: str, actor: Actor = Depends(api_actor)) -> InstanceQr:
    return InstanceQr.model_validate(await run_in_threadpool(instances.stop, actor, instance_id))


@router.get(
    "/{instance_id}/impact",
    response_model=ImpactBody,
    responses=errors(*AUTH, 404, examples=_404),
    summary="What deleting the number would do: conversations it leaves, policies stopped, history archived",
)
async def instance_impact(instance_id: str, actor: Actor = Depends(api_actor)) -> ImpactBody:
    return ImpactBody.of(await run_in_threadpool(number_lifecycle.number_impact, actor, instance_id))


@router.delete(
    "/{instance_id}",
    response_model=ImpactBody,
    responses=errors(*AUTH, 404, 409, examples=_404),
    summary="Delete the number (archived instead when it has history); answers with what was done",
)
async def delete_instance(instance_id: str, actor: Actor = Depends(api_actor)) -> ImpactBody:
    return ImpactBody.of(await run_in_threadpool(number_lifecycle.delete_number, actor, instance_id))
