"""`POST /api/webhooks/evolution[/{suffix}]`: Evolution's deliveries, authenticated by the per-session secret that
Mirage put in the webhook's headers (never by a tenant API key). Persisted before answering 2xx."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.errors import ApiError
from mirage_app.core.config import get_settings
from mirage_app.evolution.webhook import MalformedEvent, event_suffix
from mirage_app.services import inbox, outreach, webhooks

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
    instance, secret = payload["instance"], request.headers.get(webhooks.SECRET_HEADER)
    try:
        # The directory answers from its cache almost always; only a miss needs the database (in a thread).
        auth = webhooks.authenticate_cached(instance, secret)
        if auth is None:
            auth = await run_in_threadpool(webhooks.authenticate, instance, secret)
    except webhooks.UnknownInstance as exc:
        raise ApiError(404, "unknown_instance", f"no instance named {instance!r}") from exc
    except webhooks.BadSecret as exc:
        raise ApiError(401, "unauthorized", "missing or wrong webhook secret") from exc
    try:
        # Messages and statuses: one round trip on the event loop; other events: a worker thread.
        result = await webhooks.ingest_async(auth, body, payload)
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", str(exc)) from exc
    if result.received and result.message_id is not None:
        if result.inbound_from_contact and not result.optout_checked:
            # Opt-outs are recorded before Evolution gets its 2xx: every number stops at once (never raises).
            # `optout_checked`: the ingest statement already found no keyword (with the tenant's current keywords).
            await run_in_threadpool(outreach.check_optout_safely, auth.tenant_id, result.message_id)
        # After the commit: hand the reply decision to the engine's inbox (one Redis round trip, never raises).
        await inbox.push_async(inbox.InboxItem(auth.tenant_id, result.message_id, result.inbound_from_contact))
    return {"ok": True, "duplicate": result.duplicate}
