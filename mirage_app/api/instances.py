"""`/api/instances`: create (QR), list, fetch a fresh QR, stop. Thin: every rule lives in services.instances."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mirage_app.api.deps import api_actor
from mirage_app.base.permissions import Actor
from mirage_app.services import instances

router = APIRouter(prefix="/api/instances", tags=["instances"])


class CreateInstance(BaseModel):
    label: str = Field(min_length=1, max_length=120)
    persona_id: uuid.UUID | None = None


@router.post("", status_code=201, summary="Create an Evolution instance and return its QR code")
async def create_instance(body: CreateInstance, actor: Actor = Depends(api_actor)) -> JSONResponse:
    view = await run_in_threadpool(instances.create_instance, actor, body.label, body.persona_id)
    return JSONResponse(view.as_api(), status_code=201)


@router.get("", summary="List instances with message counts and last activity")
async def list_instances(actor: Actor = Depends(api_actor)) -> dict:
    views = await run_in_threadpool(instances.list_instances, actor)
    return {"instances": [v.as_api() for v in views]}


@router.get("/{instance_id}/qr", summary="A fresh QR code while the number is not connected")
async def instance_qr(instance_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(instances.get_qr, actor, instance_id)).as_api()


@router.post("/{instance_id}/stop", summary="Log the number out (history is kept)")
async def stop_instance(instance_id: str, actor: Actor = Depends(api_actor)) -> dict:
    return (await run_in_threadpool(instances.stop, actor, instance_id)).as_api()
