"""`/api/media`: the media library. Upload (multipart), list, retag, delete (archived when messages show the file)
and the file itself, which the pages load in <img>/<audio> with the sign-in cookie, or which Evolution downloads
through a signed, expiring link (`core.signed_links`: a picture status). Thin: the rules live in
services/media_library.py."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.requests import Request as StarletteRequest

from mirage_app.api.deps import api_actor, key_or_session_actor
from mirage_app.api.errors import ApiError
from mirage_app.api.schemas.common import AUTH, errors, field_error, not_found
from mirage_app.api.schemas.media import MediaAsset, MediaDeleted, MediaList, MediaTags
from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core import signed_links
from mirage_app.core.clock import system_clock
from mirage_app.media.rejected import MAX_BYTES, MB
from mirage_app.services import media_library

router = APIRouter(prefix="/api/media", tags=["media"])
_404 = not_found("media.not_found")
# The largest file any kind accepts, plus room for the multipart envelope and the other fields.
MAX_BODY = max(MAX_BYTES.values()) + 64 * 1024
FILE_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"uploads are limited to {MAX_BODY // MB} MB")


async def _form(request: Request):
    """The multipart form, refused with 413 as soon as the body passes MAX_BODY (by its Content-Length when it
    declares one, else while it streams in): an oversized upload is never read whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            raise _too_large()

    async def replay() -> dict:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        return await StarletteRequest(request.scope, replay).form(max_files=1, max_fields=20)
    except Exception:  # python-multipart's errors on a malformed body (or a body that is not multipart at all)
        raise ApiError(400, "malformed_multipart", "the body is not a valid multipart/form-data upload") from None


_UPLOAD_EXAMPLE = {"file": "(the file's bytes)", "kind": "image", "tags": "praia, verao"}


@router.post(
    "",
    status_code=201,
    response_model=MediaAsset,
    responses=errors(
        *AUTH,
        400,
        413,
        422,
        examples={
            400: {"error": "malformed_multipart", "detail": "the body is not a valid multipart/form-data upload"},
            413: {"error": "payload_too_large", "detail": f"uploads are limited to {MAX_BODY // MB} MB"},
            422: field_error("media.rejected.unsupported_type", "file"),
        },
    ),
    summary="Upload a picture, sticker or voice note (multipart/form-data: file, kind, tags)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "`file`: the file (identified by its bytes: PNG, JPEG, WebP or GIF for `image` and "
            "`sticker`; OGG, WAV, FLAC or MP3 for `voice`); `kind`: image, sticker or voice; `tags`: optional, "
            "comma-separated. Limits: picture 5 MB, sticker 1 MB, voice note 16 MB and 0.5–180 s. The same file "
            "twice answers with the asset already there (`duplicate`: true).",
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "kind"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {"type": "string", "enum": ["image", "sticker", "voice"]},
                            "tags": {"type": "string"},
                        },
                    },
                    "example": _UPLOAD_EXAMPLE,
                }
            },
        }
    },
)
async def upload_media(request: Request, actor: Actor = Depends(api_actor)) -> MediaAsset:
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed("media.file_required", field="file")
    data = await upload.read()
    tags = ",".join(str(t) for t in form.getlist("tags"))
    kind = str(form.get("kind") or "")
    view = await run_in_threadpool(media_library.upload, actor, upload.filename, data, kind, tags)
    return MediaAsset.model_validate(view)


@router.get(
    "",
    response_model=MediaList,
    responses=errors(*AUTH, 422),
    summary="The library, newest first (without the files: each one's `url` serves it)",
)
async def list_media(
    kind: str | None = None, tag: str | None = None, archived: bool = False, actor: Actor = Depends(api_actor)
) -> MediaList:
    views = await run_in_threadpool(lambda: media_library.list_assets(actor, kind, tag, include_archived=archived))
    return MediaList(media=[MediaAsset.model_validate(v) for v in views])


@router.patch(
    "/{media_id}",
    response_model=MediaAsset,
    responses=errors(*AUTH, 404, 422, examples=_404),
    summary="Replace a file's tags",
)
async def retag_media(media_id: str, body: MediaTags, actor: Actor = Depends(api_actor)) -> MediaAsset:
    view = await run_in_threadpool(media_library.update_tags, actor, media_id, body.tags)
    return MediaAsset.model_validate(view)


@router.delete(
    "/{media_id}",
    response_model=MediaDeleted,
    responses=errors(*AUTH, 404, examples=_404),
    summary="Delete a file: archived when messages show it (never sent again), removed otherwise",
)
async def delete_media(media_id: str, actor: Actor = Depends(api_actor)) -> MediaDeleted:
    return MediaDeleted.model_validate(await run_in_threadpool(media_library.delete, actor, media_id))


# Bytes, not JSON: kept out of the OpenAPI document (each asset's `url` points here).
@router.get("/{media_id}/file", include_in_schema=False)
async def media_file(media_id: str, actor: Actor = Depends(key_or_session_actor)) -> Response:
    mime, data = await run_in_threadpool(media_library.file_of, actor, media_id)
    return Response(content=data, media_type=mime, headers=FILE_HEADERS)


@router.get("/{media_id}/shared", include_in_schema=False)
async def shared_media_file(media_id: str, tenant: str = "", expires: int = 0, signature: str = "") -> Response:
    """The file behind a signed link, with no sign-in: what Evolution downloads for a picture status."""
    try:
        tenant_id, asset_id = uuid.UUID(tenant), uuid.UUID(media_id)
    except ValueError:
        tenant_id = asset_id = None
    if tenant_id is None or not signed_links.link_valid(tenant_id, asset_id, expires, signature, system_clock.now()):
        raise ApiError(403, "media.link_invalid", "the link is wrong or has expired")
    mime, data = await run_in_threadpool(media_library.file_of, tenant_id, asset_id)
    return Response(content=data, media_type=mime, headers=FILE_HEADERS)
