"""FastAPI dependencies: text the database could not store is refused, who is calling (a tenant API key) and
whether they may do the route's action."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from mirage_app.api.errors import ApiError
from mirage_app.base.errors import AuthFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.web_security import SESSION_COOKIE, cookie_value
from mirage_app.logic.untrusted_input import BAD_TEXT, MAX_JSON_DEPTH, bad_text_paths, is_bad_text, nesting_exceeds
from mirage_app.services import api_keys, auth

# Only so that /api/openapi.json declares the Bearer scheme on every keyed operation: `api_actor` reads the
# header itself (auto_error=False: a missing key is our 401 `{error, detail}`, never FastAPI's 403).
_bearer = HTTPBearer(
    scheme_name="ApiKey", description="A tenant API key: `Authorization: Bearer <key>`", auto_error=False
)


async def refuse_bad_text(request: Request) -> None:
    """422 `invalid_input` for a NUL or an unpaired surrogate anywhere in the query, the path or a JSON body: the
    database would refuse them with an error the caller should never see as a 500. Runs before the route's own
    validation, for every keyed router (`api/app.py`)."""
    fields = [name for name, value in [*request.query_params.multi_items(), *request.path_params.items()]
              if is_bad_text(str(value))]  # fmt: skip
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        if nesting_exceeds(body):
            raise ApiError(400, "malformed_json", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep")
        with contextlib.suppress(ValueError):  # not JSON: the route's own validation answers that
            fields += bad_text_paths(json.loads(body))
    if fields:
        raise ApiError(422, "invalid_input", [{"field": field, "message": BAD_TEXT} for field in fields])


def api_actor(request: Request, _scheme: object = Depends(_bearer)) -> Actor:
    """The tenant API key in `Authorization: Bearer <key>`; AuthFailed (401) when missing, unknown or revoked.

    A plain `def`: FastAPI runs it in the thread pool, as the database look-up is synchronous.
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthFailed("api_keys.invalid")
    return api_keys.authenticate(credentials.strip(), request.client.host if request.client else None)


def key_or_session_actor(request: Request, _scheme: object = Depends(_bearer)) -> Actor:
    """An API key when the request carries one, else the browser's sign-in cookie: for what the pages load straight
    from the backend (a media file in an <img> or <audio>), which cannot send an Authorization header. The cookie
    is SameSite=Strict, so another site's page never loads anything with it."""
    if request.headers.get("authorization"):
        return api_actor(request)
    token = cookie_value(request.headers.get("cookie"), SESSION_COOKIE)
    actor = auth.resolve_session(token, ip=request.client.host if request.client else None) if token else None
    if actor is None:
        raise AuthFailed("auth.required")
    return actor


def require(action: Action) -> Callable[..., Actor]:
    """`actor: Actor = Depends(require(Action.outreach_manage))`: authenticated and authorized, or 401/403."""

    def dependency(actor: Actor = Depends(api_actor)) -> Actor:
        return authorize(actor, action)

    return dependency
