"""`GET /api/me`: which tenant and key a request acts as, and what it may do (handy for scripts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mirage_app.api.deps import require
from mirage_app.api.schemas.common import AUTH, errors
from mirage_app.api.schemas.system import Me
from mirage_app.base.permissions import Action, Actor, allowed_actions

router = APIRouter(tags=["identity"])


@router.get(
    "/api/me",
    response_model=Me,
    responses=errors(*AUTH),
    summary="The tenant and API key this request authenticates as",
)
def me(actor: Actor = Depends(require(Action.data_read))) -> Me:
    return Me(
        tenant_id=actor.tenant_id,
        api_key_id=actor.api_key_id,
        label=actor.label,
        role=str(actor.role),
        permissions=allowed_actions(actor),
    )
