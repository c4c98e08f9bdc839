"""`GET /api/me`: which tenant and key a request acts as, and what it may do (handy for scripts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mirage_app.api.deps import require
from mirage_app.base.permissions import Action, Actor, allowed_actions

router = APIRouter(tags=["identity"])


@router.get("/api/me", summary="The tenant and API key this request authenticates as")
def me(actor: Actor = Depends(require(Action.data_read))) -> dict:
    return {
        "tenant_id": str(actor.tenant_id),
        "api_key_id": str(actor.api_key_id) if actor.api_key_id else None,
        "label": actor.label,
        "role": str(actor.role),
        "permissions": allowed_actions(actor),
    }
