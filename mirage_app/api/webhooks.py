"""`POST /api/webhooks/evolution[/{suffix}]`: Evolution's deliveries, authenticated by the per-session secret that
Mirage put in the webhook's headers (never by a tenant API key). Persisted before answering 2xx.

Deliveries are nearly all of Mirage's HTTP traffic, so they are served by `WebhookFastPath`, a bare ASGI layer in
front of the FastAPI app: FastAPI's routing, dependency solving and response models cost more than ingestion's own
work. The FastAPI route below stays for the OpenAPI document and for anything served without the fast path; both
call `receive_delivery`, so the rules are written once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from mirage_app.api.errors import ApiError
from mirage_app.api.schemas.common import errors
from mirage_app.api.schemas.system import WebhookAck
from mirage_app.core.config import get_settings
from mirage_app.core.telemetry import WEBHOOK_EVENTS
from mirage_app.engine import inbox, ingest, optout
from mirage_app.evolution.webhook import MalformedEvent, event_suffix
from mirage_app.logic.untrusted_input import MAX_JSON_DEPTH, bad_text_paths, may_hold_surrogate, nesting_exceeds

log = logging.getLogger("mirage.api")
router = APIRouter(tags=["webhooks"])

WEBHOOK_PATH = "/api/webhooks/evolution"
_FAST_PATH = re.compile(r"^/api/webhooks/evolution(?:/([^/]+))?/?$")
_SECRET_HEADER = ingest.SECRET_HEADER.encode()


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")


async def receive_delivery(body: bytes, secret: str | None, suffix: str | None) -> dict:
    """Authenticate, store and apply one delivery, then hand a received message to the engine. ApiError on bad
    input (nothing is written then)."""
    if nesting_exceeds(body):  # before any parse: the parser recurses once per level (before authentication, too)
        raise ApiError(400, "malformed_json", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from exc
    if may_hold_surrogate(body) and any(bad_text_paths(payload)):
        raise ApiError(400, "invalid_input", "the body holds an unpaired UTF-16 surrogate, which cannot be stored")
    if not isinstance(payload, dict) or not isinstance(payload.get("instance"), str) or not payload["instance"]:
        raise ApiError(400, "malformed_event", "expected a JSON object with `event`, `instance` and `data`")
    if suffix is not None:
        try:
            expected = event_suffix(payload.get("event"))
        except MalformedEvent as exc:
            raise ApiError(400, "malformed_event", str(exc)) from exc
        if suffix != expected:
            raise ApiError(400, "suffix_mismatch", f"path says {suffix!r} but the event is {expected!r}")
    instance = payload["instance"]
    try:
        # The directory answers from its cache almost always; only a miss needs the database (in a thread).
        auth = ingest.authenticate_cached(instance, secret)
        if auth is None:
            auth = await run_in_threadpool(ingest.authenticate, instance, secret)
    except (ingest.UnknownInstance, ingest.BadSecret) as exc:
        # One answer for both, so that instance names cannot be probed.
        raise ApiError(401, "unauthorized", "missing or wrong webhook secret") from exc
    try:
        # Messages and statuses: one round trip on the event loop; other events: a worker thread.
        result = await ingest.ingest_async(auth, body, payload)
    except MalformedEvent as exc:
        raise ApiError(400, "malformed_event", str(exc)) from exc
    if result.received and result.message_id is not None:
        if result.inbound_from_contact and not result.optout_checked:
            # Opt-outs are recorded before Evolution gets its 2xx: every number stops at once (never raises).
            # `optout_checked`: the ingest statement already found no keyword (with the tenant's current keywords).
            await run_in_threadpool(optout.check_optout_safely, auth.tenant_id, result.message_id)
        # After the commit: hand the reply decision to the engine's inbox (one Redis round trip, never raises).
        await inbox.push_async(inbox.InboxItem(auth.tenant_id, result.message_id, result.inbound_from_contact))
    WEBHOOK_EVENTS.labels("duplicate" if result.duplicate else "stored").inc()
    return {"ok": True, "duplicate": result.duplicate}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


# Documentation only: deliveries are answered by WebhookFastPath, which sends the same bodies without FastAPI.
_DOCS: dict[str, Any] = {
    "response_model": WebhookAck,
    "responses": errors(
        400,
        401,
        413,
        examples={
            401: {"error": "unauthorized", "detail": "missing or wrong webhook secret (or no such instance)"},
            413: {"error": "payload_too_large", "detail": "webhook bodies are limited to 262144 bytes"},
        },
    ),
    "openapi_extra": {
        "parameters": [
            {
                "name": ingest.SECRET_HEADER,
                "in": "header",
                "required": True,
                "description": "The per-session secret Mirage set in the instance's webhook headers",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "description": "One Evolution event, as Evolution posts it (stored before the answer)",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["event", "instance"],
                        "additionalProperties": True,
                        "properties": {
                            "event": {"type": "string"},
                            "instance": {"type": "string"},
                            "data": {"type": "object"},
                        },
                    },
                    "example": {
                        "event": "messages.upsert",
                        "instance": "mrg-sales-1-3fa2b9c1",
                        "data": {
                            "key": {"remoteJid": "5511966665555@s.whatsapp.net", "fromMe": False, "id": "3EB0A1B2"},
                            "pushName": "Maria",
                            "message": {"conversation": "Oi!"},
                            "messageType": "conversation",
                            "messageTimestamp": 1761055561,
                        },
                    },
                }
            },
        },
    },
}


@router.post(WEBHOOK_PATH, summary="Evolution webhook receiver", **_DOCS)
async def evolution_webhook(request: Request) -> dict:
    # No `suffix` parameter here: FastAPI would read (and document) it from the query string, which the fast path
    # ignores.
    return await _deliver(request, None)


@router.post(WEBHOOK_PATH + "/{suffix}", summary="Evolution webhook receiver (byEvents paths)", **_DOCS)
async def evolution_webhook_by_event(request: Request, suffix: str) -> dict:
    return await _deliver(request, suffix)


async def _deliver(request: Request, suffix: str | None) -> dict:
    body = await _read_limited(request, get_settings().webhook_max_bytes)
    return await receive_delivery(body, request.headers.get(ingest.SECRET_HEADER), suffix)


ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class WebhookFastPath:
    """ASGI layer answering `POST /api/webhooks/evolution[/{suffix}]` itself (same rules, same JSON answers as the
    FastAPI route); every other request goes on to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive, send) -> None:
        match = _FAST_PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        status, answer = 200, None
        try:
            secret, declared = _headers(scope)
            body = await _read_body(receive, declared, get_settings().webhook_max_bytes)
            answer = await receive_delivery(body, secret, match.group(1))
        except ApiError as exc:
            status, answer = exc.status, {"error": exc.error, "detail": exc.detail}
        except Exception:
            log.exception("unhandled webhook error")
            status, answer = 500, {"error": "internal_error", "detail": "unexpected error; it has been logged"}
        content = json.dumps(answer, separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _headers(scope: dict) -> tuple[str | None, int | None]:
    """(webhook secret, declared content length) from the raw ASGI headers (names arrive lower-cased)."""
    secret: str | None = None
    declared: int | None = None
    for name, value in scope["headers"]:
        if name == _SECRET_HEADER:
            secret = value.decode("latin-1")
        elif name == b"content-length" and value.isdigit():
            declared = int(value)
    return secret, declared


async def _read_body(receive, declared: int | None, limit: int) -> bytes:
    if declared is not None and declared > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message: dict[str, Any] = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "client_disconnected", "the body did not arrive")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
