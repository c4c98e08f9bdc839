"""`POST /api/webhooks/evolution[/{suffix}]`: Evolution's deliveries, authenticated by the per-session secret that
Mirage put in the webhook's headers (never by a tenant API key). Persisted before answering 2xx."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.errors import ApiError
from mirage_app.core.config import get_settings
from mirage_app.evolution.webhook import MalformedEvent, event_suffix
from mirage_app.services import webhooks

router = APIRouter(tags=["webhooks"])


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
    return bytes(body)


@router.post("/api/webhooks/evolution", summary="Evolution webhook receiver")
@router.post("/api/webhooks/evolution/{suffix}", summary="Evolution webhook receiver (byEvents paths)")
async def evolution_webhook(request: Request, suffix: str | None = None) -> dict:
    body = await _read_limited(request, get_settings().webhook_max_bytes)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("instance"), str) or not payload["instance"]:
        raise ApiError(400, "malformed_event", "expected a JSON object with `event`, `instance` and `data`")
    if suffix is not None:
        try:
            expected = event_suffix(payload.get("event"))
        except MalformedEvent as exc:
            raise ApiError(400, "malformed_event", str(exc)) from exc
        if suffix != expected:
            raise ApiError(400, "suffix_mismatch", f"path says {suffix!r} but the event is {expected!r}")
    try:
        auth = await run_in_threadpool(
            webhooks.authenticate, payload["instance"], request.headers.get(webhooks.SECRET_HEADER)
        )
    except webhooks.UnknownInstance as exc:
        raise ApiError(404, "unknown_instance", f"no instance named {payload['instance']!r}") from exc
    except webhooks.BadSecret as exc:
        raise ApiError(401, "unauthorized", "missing or wrong webhook secret") from exc
    try:
        result = await run_in_threadpool(webhooks.ingest, auth, body, payload)
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", str(exc)) from exc
    return {"ok": True, "duplicate": result.duplicate}
