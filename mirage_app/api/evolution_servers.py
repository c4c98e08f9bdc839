"""`/api/evolution-servers`: the servers this tenant's numbers can be placed on, with health and room (read-only;
servers are added in Settings or with `mirage evolution add`). Thin over services.evolution_servers."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.deps import api_actor
from mirage_app.api.schemas.common import AUTH, errors, not_found
from mirage_app.api.schemas.servers import EvolutionServerList, EvolutionServerOut
from mirage_app.base.permissions import Actor
from mirage_app.services import evolution_servers

router = APIRouter(prefix="/api/evolution-servers", tags=["evolution servers"])


@router.get(
    "",
    response_model=EvolutionServerList,
    responses=errors(*AUTH),
    summary="Evolution servers: the tenant's own and the platform's, with numbers, capacity and health",
)
async def list_servers(actor: Actor = Depends(api_actor)) -> EvolutionServerList:
    views = await run_in_threadpool(evolution_servers.list_servers, actor)
    return EvolutionServerList(servers=[EvolutionServerOut.of(v) for v in views])


@router.get(
    "/{server_id}",
    response_model=EvolutionServerOut,
    responses=errors(*AUTH, 404, examples=not_found("servers.not_found")),
    summary="One Evolution server",
)
async def get_server(server_id: str, actor: Actor = Depends(api_actor)) -> EvolutionServerOut:
    return EvolutionServerOut.of(await run_in_threadpool(evolution_servers.get_server, actor, server_id))
