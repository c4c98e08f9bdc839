"""`/media`: the tenant's library — upload with inline errors, the grid with filters, delete after saying how many
messages show the file. Every handler calls services.media_library, which checks the role (viewers read,
operators and admins upload and delete)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action
from mirage_app.i18n import formats
from mirage_app.services import media_library
from mirage_app.states.auth import AuthState
from mirage_app.states.bubbles import voice_length
from mirage_app.states.confirming import ConfirmDelete, ConfirmView, confirm_view

KINDS = ("image", "sticker", "voice")
MAX_UPLOAD_BYTES = 16 * 1024 * 1024  # the largest kind's limit (a voice note); the service checks each kind's own


@dataclass(frozen=True)
class MediaTile:
    id: str
    kind: str
    kind_label: str
    name: str
    url: str  # on the backend, read with the session cookie
    tags: list[str]
    origin: str  # raw, picks the badge colour
    origin_label: str
    detail: str  # "1080×1080 · 212 KB" or "0:07 · 31 KB"
    shown_in: str  # "Shown in 3 messages"; "" when none
    added: str  # when, in the tenant's zone


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def delete_view(tr: dict[str, str], impact: Impact, target_id: str) -> ConfirmView:
    """The confirmation says how many messages show the file: they keep it (archived) rather than lose it."""
    messages = sum(int(d.name) for d in impact.dependents if d.kind == "message")
    line = formats.count(tr, "library.delete_keeps", messages) if messages else tr["library.unused"]
    return replace(confirm_view(tr, impact, target_id), lines=[line])


class MediaState(ConfirmDelete, AuthState):
    tiles: list[MediaTile] = []
    tag_choices: list[str] = []
    loaded: bool = False
    kind_filter: str = ""  # "" = every kind
    tag_filter: str = ""
    upload_kind: str = "image"
    upload_tags: str = ""
    uploading: bool = False
    upload_error: str = ""
    upload_error_field: str = ""  # "file", "tags", "kind"

    @rx.var
    def can_manage_media(self) -> bool:
        return Action.media_manage.value in self.permissions

    @rx.event
    def load(self):
        kind, tag = self.kind_filter or None, self.tag_filter or None

        def read(actor):
            return media_library.list_assets(actor, kind, tag), media_library.list_assets(actor)

        listed = self._call(read)
        if not listed.ok:
            return listed.feedback
        shown, every = listed.value
        backend = self._backend_origin()
        self.tiles = [self._tile(v, backend) for v in shown]
        self.tag_choices = sorted({t for v in every for t in v.tags})
        self.loaded = True
        return None

    def _tile(self, v: media_library.MediaView, backend: str) -> MediaTile:
        if v.kind == "voice":
            detail = f"{voice_length(v.duration_s) or '—'} · {_size(v.size_bytes)}"
        else:
            detail = f"{v.width or '?'}×{v.height or '?'} · {_size(v.size_bytes)}"
        return MediaTile(
            id=str(v.id),
            kind=v.kind,
            kind_label=formats.label(self.tr, "library.kind", v.kind),
            name=v.name,
            url=backend + v.url,
            tags=list(v.tags),
            origin=v.origin,
            origin_label=formats.label(self.tr, "library.origin", v.origin),
            detail=detail,
            shown_in=formats.count(self.tr, "library.shown_in", v.messages) if v.messages else "",
            added=self.stamp(v.created_at),
        )

    @rx.event
    def set_kind_filter(self, kind: str | list[str]):
        kind = kind if isinstance(kind, str) else kind[0]
        self.kind_filter = kind if kind in KINDS else ""
        return self.load()

    @rx.event
    def set_tag_filter(self, tag: str):
        self.tag_filter = tag if tag in self.tag_choices else ""
        return self.load()

    @rx.event
    def set_upload_kind(self, kind: str | list[str]):
        kind = kind if isinstance(kind, str) else kind[0]
        if kind in KINDS:
            self.upload_kind = kind

    @rx.event
    def set_upload_tags(self, tags: str):
        self.upload_tags = tags[:400]

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        if self.uploading or not files:
            return None
        self.uploading, self.upload_error_field = True, ""
        try:
            data = await files[0].read()
            tags = [t.strip() for t in self.upload_tags.split(",") if t.strip()]
            added = self._call(
                media_library.upload, files[0].filename, data, self.upload_kind, tags, error_to="upload_error"
            )
        finally:
            self.uploading = False
        if not added.ok:
            self.upload_error_field = added.error_field or "file"
            return added.feedback
        self.upload_tags = ""
        self.load()
        return rx.toast.success(self.tr["library.uploaded"], id="service-ok")

    # -- delete (states.confirming.ConfirmDelete) -------------------------------------------------
    def _impact(self, target_id: str):
        counted = self._call(media_library.usage, target_id)
        if not counted.ok:
            return counted
        name = next((tile.name for tile in self.tiles if tile.id == target_id), "")
        shown = (Dependent("message", str(counted.value), Effect.kept),) if counted.value else ()
        return replace(counted, value=Impact(name, shown, archive=counted.value > 0))

    def _view(self, impact: Impact, target_id: str) -> ConfirmView:
        return delete_view(self.tr, impact, target_id)

    def _delete(self, target_id: str):
        done = self._call(media_library.delete, target_id)
        self.load()
        if not done.ok:
            return done.feedback
        key = "library.archived" if done.value.archived else "library.deleted"
        return rx.toast.success(self.tr[key], id="service-ok")
