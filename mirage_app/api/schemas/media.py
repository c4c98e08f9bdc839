"""Bodies of `/api/media`: the media library's files (never their bytes: `url` serves those)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from mirage_app.api.schemas.common import IsoDatetime

_ASSET = {
    "id": "0b6f5e1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e",
    "kind": "image",
    "name": "por-do-sol.jpg",
    "mime": "image/jpeg",
    "size_bytes": 183452,
    "sha256": "9f2c1e0b7a6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b",
    "width": 1080,
    "height": 1080,
    "duration_s": None,
    "tags": ["praia"],
    "origin": "upload",
    "content_text": "",
    "created_at": "2025-01-10T12:00:00.123456+00:00",
    "archived_at": None,
    "messages": 3,
    "url": "/api/media/0b6f5e1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e/file",
    "duplicate": False,
}


class MediaAsset(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_ASSET]})

    id: uuid.UUID
    kind: str = Field(description="`image` (a picture), `sticker` or `voice` (a voice note)")
    name: str
    mime: str = Field(
        description="Of the stored file: image/jpeg, image/webp, audio/ogg; codecs=vorbis (or codecs=opus as uploaded)"
    )
    size_bytes: int
    sha256: str = Field(description="Of the stored (normalised) file; the same bytes are one asset per tenant")
    width: int | None
    height: int | None
    duration_s: float | None = Field(description="A voice note's length in seconds")
    tags: list[str]
    origin: str = Field(description="`upload`, `generated` (drawn or spoken by Mirage) or `received`")
    content_text: str = Field(description="What a generated voice note says, or what a drawing shows")
    created_at: IsoDatetime
    archived_at: IsoDatetime | None = Field(description="Deleted while messages show it: kept, never sent again")
    messages: int = Field(description="How many messages show it")
    url: str = Field(description="Where its bytes are served (`GET /api/media/{media_id}/file`)")
    duplicate: bool = Field(description="An upload of bytes the library already had: this is that asset")


class MediaList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"media": [_ASSET]}]})

    media: list[MediaAsset]


class MediaTags(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"tags": ["praia", "verao"]}]})

    tags: list[str] = Field(description="Up to 10 words of letters, digits, `_` or `-` (lower-cased)")


class MediaDeleted(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{"archived": True, "messages": 3}]})

    archived: bool = Field(description="True: messages show it, so it was archived for them; False: removed")
    messages: int = Field(description="How many messages show it")
