"""FastAPI dependencies: who is calling (a tenant API key) and whether they may do the route's action."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from mirage_app.base.errors import AuthFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.services import api_keys

# Only so that /api/openapi.json declares the Bearer scheme on every keyed operation: `api_actor` reads the
# header itself (auto_error=False: a missing key is our 401 `{error, detail}`, never FastAPI's 403).
_bearer = HTTPBearer(
    scheme_name="ApiKey", description="A tenant API key: `Authorization: Bearer <key>`", auto_error=False
)


def api_actor(request: Request, _scheme: object = Depends(_bearer)) -> Actor:
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
