"""`GET /api/metrics`: the Prometheus exposition (services.prometheus).

Kept off the public internet by default: with MIRAGE_METRICS_TOKEN set, a scrape must send
`Authorization: Bearer <token>`; without it, only clients on this machine (loopback) are answered. Anyone else
gets the same 404 as an unknown route, so the endpoint's existence is not advertised.
"""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.errors import ApiError
from mirage_app.core.config import get_settings
from mirage_app.core.security import tokens_equal
from mirage_app.services.prometheus import exposition

router = APIRouter(tags=["operations"])


def _allowed(request: Request) -> bool:
    token = get_settings().metrics_token
    if token:
        presented = request.headers.get("authorization", "")
        return presented.startswith("Bearer ") and tokens_equal(presented[7:], token)
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/api/metrics", response_class=Response, include_in_schema=False)  # for Prometheus, not the tenant API
async def metrics(request: Request) -> Response:
    if not _allowed(request):
        raise ApiError(404, "not_found", "no API route /api/metrics")
    body, content_type = await run_in_threadpool(exposition)
    return Response(body, media_type=content_type)
