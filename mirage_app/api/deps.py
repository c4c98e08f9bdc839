"""FastAPI dependencies: who is calling (a tenant API key) and whether they may do the route's action."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from mirage_app.base.errors import AuthFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.services import api_keys


def api_actor(request: Request) -> Actor:
    """The tenant API key in `Authorization: Bearer <key>`; AuthFailed (401) when missing, unknown or revoked.

    A plain `def`: FastAPI runs it in the thread pool, as the database look-up is synchronous.
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthFailed("api_keys.invalid")
    return api_keys.authenticate(credentials.strip(), request.client.host if request.client else None)


def require(action: Action) -> Callable[..., Actor]:
    """`actor: Actor = Depends(require(Action.outreach_manage))`: authenticated and authorized, or 401/403."""

    def dependency(actor: Actor = Depends(api_actor)) -> Actor:
        return authorize(actor, action)

    return dependency
