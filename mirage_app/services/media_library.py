"""The media library: the pictures, stickers and voice notes a tenant's numbers send.

Uploads are identified and normalised by their bytes (media.sniff); the same file twice is one asset. Viewers see
the library and its files; operators (and API keys) upload, tag and delete. A file that messages already show is
archived on delete (kept for their history, never sent again); one nobody was sent is removed.
Every function takes the acting `Actor`, checks it with `authorize` and audits changes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.media_pick import store_asset
from mirage_app.media.rejected import MediaRejected
from mirage_app.media.sniff import KINDS, sniff
from mirage_app.models import MediaAsset, MediaKind, Message

MAX_TAGS = 10
TAG = re.compile(r"[\w-]{1,30}")
# Columns a listing reads: never `data`, the file itself.
_LISTED = (
    MediaAsset.id,
    MediaAsset.kind,
    MediaAsset.name,
    MediaAsset.mime,
    MediaAsset.size_bytes,
    MediaAsset.sha256,
    MediaAsset.width,
    MediaAsset.height,
    MediaAsset.duration_s,
    MediaAsset.tags,
    MediaAsset.origin,
    MediaAsset.content_text,
    MediaAsset.created_at,
    MediaAsset.archived_at,
)


def file_url(asset_id: uuid.UUID | str) -> str:
    """Where a page's <img>/<audio> loads the file (api/media.py; the session cookie authorises it)."""
    return f"/api/media/{asset_id}/file"


@dataclass(frozen=True)
class MediaView:
    id: uuid.UUID
    kind: str
    name: str
    mime: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    duration_s: float | None
    tags: list[str]
    origin: str  # upload | generated | received
    content_text: str
    created_at: datetime
    archived_at: datetime | None
    messages: int  # how many messages show it
    url: str
    duplicate: bool = False  # an upload of bytes the library already had: this is that asset

    @classmethod
    def of(cls, row: Any, messages: int = 0, duplicate: bool = False) -> MediaView:
        return cls(
            row.id,
            str(row.kind.value if isinstance(row.kind, MediaKind) else row.kind),
            row.name,
            row.mime,
            row.size_bytes,
            row.sha256,
            row.width,
            row.height,
            row.duration_s,
            list(row.tags or []),
            row.origin,
            row.content_text,
            row.created_at,
            row.archived_at,
            messages,
            file_url(row.id),
            duplicate,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Deleted:
    archived: bool  # True: messages show it, so it was kept for them; False: it is gone
    messages: int


def _kind(kind: Any) -> str:
    value = str(getattr(kind, "value", kind) or "").strip().lower()
    if value not in KINDS:
        raise ValidationFailed("media.kind_invalid", field="kind")
    return value


def clean_tags(tags: Any) -> list[str]:
    """Lower-case words of letters, digits, `_` or `-`, at most MAX_TAGS, in the order given, without repeats.
    A string is split on commas and spaces."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = re.split(r"[,\s]+", tags)
    if not isinstance(tags, list | tuple):
        raise ValidationFailed("media.tags_invalid", field="tags", limit=MAX_TAGS)
    out: list[str] = []
    for tag in tags:
        value = str(tag).strip().lower()
        if not value:
            continue
        if not TAG.fullmatch(value):
            raise ValidationFailed("media.tags_invalid", field="tags", limit=MAX_TAGS)
        if value not in out:
            out.append(value)
    if len(out) > MAX_TAGS:
        raise ValidationFailed("media.tags_invalid", field="tags", limit=MAX_TAGS)
    return out


def _name(filename: str | None, kind: str) -> str:
    """The file's own name without any folder, printable, at most 200 characters."""
    base = re.split(r"[\\/]", str(filename or ""))[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or kind


def _get(s, asset_id: uuid.UUID | str) -> MediaAsset:
    try:
        asset = s.get(MediaAsset, uuid.UUID(str(asset_id)))
    except ValueError:
        asset = None
    if asset is None:
        raise NotFound("media.not_found")
    return asset


def _messages(s, asset_id: uuid.UUID) -> int:
    return s.exec(select(func.count()).select_from(Message).where(Message.media_id == asset_id)).one()


def _snapshot(asset: MediaAsset) -> dict[str, Any]:
    return {"name": asset.name, "kind": str(asset.kind), "sha256": asset.sha256, "tags": list(asset.tags or [])}


def upload(
    actor: Actor,
    filename: str | None,
    data: bytes,
    kind: str,
    tags: Any = None,
    clock: Clock = system_clock,
) -> MediaView:
    """Add a file as `kind` (image, sticker, voice). Refused with `media.rejected.<code>` (field "file") when its
    bytes are not such a file. Bytes the library already holds answer with that asset (`duplicate`), its tags
    merged with these and restored if it had been deleted."""
    authorize(actor, Action.media_manage)
    kind = _kind(kind)
    tags = clean_tags(tags)
    try:
        media = sniff(data, kind)
    except MediaRejected as exc:
        raise ValidationFailed(exc.key, field="file", **exc.params) from None
    with tenant_session(actor.tenant_id) as s:
        asset_id, created = store_asset(
            s,
            actor.tenant_id,
            kind=kind,
            mime=media.mime,
            data=media.data,
            name=_name(filename, kind),
            origin="upload",
            width=media.width,
            height=media.height,
            duration_s=media.duration_s,
            tags=tags,
            created_by=actor.user_id,
        )
        asset = _get(s, asset_id)
        if created:
            audit.record(s, actor, "media.upload", "media_asset", asset.id, after=_snapshot(asset), clock=clock)
        elif asset.archived_at is not None or not set(tags) <= set(asset.tags or []):
            before = _snapshot(asset)
            asset.tags = clean_tags([*(asset.tags or []), *tags][:MAX_TAGS])
            asset.archived_at = None
            s.add(asset)
            audit.record(s, actor, "media.restore", "media_asset", asset.id, before, _snapshot(asset), clock=clock)
        s.commit()
        return MediaView.of(asset, _messages(s, asset.id), duplicate=not created)


def list_assets(
    actor: Actor, kind: str | None = None, tag: str | None = None, *, include_archived: bool = False
) -> list[MediaView]:
    """Newest first, without the files' bytes; `messages` counts the messages that show each one."""
    authorize(actor, Action.data_read)
    query = select(*_LISTED).order_by(col(MediaAsset.created_at).desc(), col(MediaAsset.id))
    if kind:
        query = query.where(MediaAsset.kind == MediaKind(_kind(kind)))
    if tag:
        query = query.where(col(MediaAsset.tags).contains([str(tag).strip().lower()]))
    if not include_archived:
        query = query.where(col(MediaAsset.archived_at).is_(None))
    with tenant_session(actor.tenant_id) as s:
        rows = s.exec(query).all()
        counts = dict(
            s.exec(
                select(Message.media_id, func.count())
                .where(col(Message.media_id).in_([r.id for r in rows]))
                .group_by(Message.media_id)
            ).all()
        )
    return [MediaView.of(r, counts.get(r.id, 0)) for r in rows]


def get_asset(actor: Actor, asset_id: uuid.UUID | str) -> MediaView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        asset = _get(s, asset_id)
        return MediaView.of(asset, _messages(s, asset.id))


def update_tags(actor: Actor, asset_id: uuid.UUID | str, tags: Any, clock: Clock = system_clock) -> MediaView:
    authorize(actor, Action.media_manage)
    tags = clean_tags(tags)
    with tenant_session(actor.tenant_id) as s:
        asset = _get(s, asset_id)
        before = _snapshot(asset)
        asset.tags = tags
        s.add(asset)
        audit.record(s, actor, "media.tags", "media_asset", asset.id, before, _snapshot(asset), clock=clock)
        s.commit()
        return MediaView.of(asset, _messages(s, asset.id))


def usage(actor: Actor, asset_id: uuid.UUID | str) -> int:
    """How many messages show the file: what the delete confirmation tells the operator first."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _messages(s, _get(s, asset_id).id)


def delete(actor: Actor, asset_id: uuid.UUID | str, clock: Clock = system_clock) -> Deleted:
    """Archive the file when messages show it (they keep it; it is never sent again), else remove it."""
    authorize(actor, Action.media_manage)
    with tenant_session(actor.tenant_id) as s:
        asset = _get(s, asset_id)
        messages = _messages(s, asset.id)
        before = _snapshot(asset)
        if messages:
            asset.archived_at = asset.archived_at or clock.now()
            s.add(asset)
            audit.record(s, actor, "media.archive", "media_asset", asset.id, before, {"messages": messages})
        else:
            s.delete(asset)
            audit.record(s, actor, "media.delete", "media_asset", asset.id, before=before, clock=clock)
        s.commit()
    return Deleted(archived=messages > 0, messages=messages)


def file_of(who: Actor | uuid.UUID, asset_id: uuid.UUID | str) -> tuple[str, bytes]:
    """(mime, bytes) of a file, archived ones included (the messages that show them still load them). `who` is an
    actor allowed to read, or a tenant id for the system's own use (the send pipeline)."""
    tenant_id = authorize(who, Action.data_read).tenant_id if isinstance(who, Actor) else who
    with tenant_session(tenant_id) as s:
        asset = _get(s, asset_id)
        return asset.mime, bytes(asset.data)
