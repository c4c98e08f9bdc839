"""Which file a number sends: a library asset it has not sent to this partner yet, else one drawn or spoken now.

A number never sends the same file twice to the same partner (a number, or a group); the unique index
`uq_messages_media_partner` holds it, and `pick_asset` chooses so that it never has to. Pictures and stickers come
from the tenant's library first; when the number has sent all of them to this partner, a new one is drawn
(`media.draw`) and kept in the library (origin "generated"). A voice note says the turn's text, so it is spoken
anew each time (`media.speech`); the library's voice notes are the fallback when speaking fails.

`store_asset` is the one way a file enters the library (uploads, generated files, the demo's starter set): the
same bytes are one asset per tenant.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from typing import Any

from sqlalchemy import text

from mirage_app.media import draw, speech
from mirage_app.models import MediaKind

log = logging.getLogger("mirage.engine.media")

KINDS = (MediaKind.image.value, MediaKind.sticker.value, MediaKind.voice.value)
# Drawings differ by seed, but a few subjects have few variants: try a handful of seeds before giving up.
DRAW_ATTEMPTS = 6

# Plain SQL: `s` is a Session (services) or the engine's TenantConnection, which runs text statements only.
INSERT_ASSET = text(
    """
    INSERT INTO media_assets (id, tenant_id, kind, name, mime, size_bytes, sha256, data, width, height, duration_s,
                              tags, origin, content_text, created_by, created_at)
    VALUES (:id, :tenant_id, CAST(:kind AS media_kind), :name, :mime, :size_bytes, :sha256, :data, :width, :height,
            :duration_s, CAST(:tags AS jsonb), :origin, :content_text, :created_by, now())
    ON CONFLICT ON CONSTRAINT uq_media_assets_tenant_sha256 DO NOTHING
    RETURNING id
    """
)
ASSET_BY_SHA = text("SELECT id FROM media_assets WHERE tenant_id = :tenant_id AND sha256 = :sha256")
# What the unique index uq_messages_media_partner counts: outbound rows other than statuses, to this partner.
SENT_TO_PARTNER = """
    SELECT 1 FROM messages m
    WHERE m.from_number_id = :from_id AND COALESCE(m.group_id, m.to_number_id) = :partner
      AND m.media_id = a.id AND m.direction = 'out' AND m.kind <> 'status'
"""
UNSENT = text(
    f"""
    SELECT a.id FROM media_assets a
    WHERE a.tenant_id = :tenant_id AND a.kind = CAST(:kind AS media_kind) AND a.archived_at IS NULL
      AND NOT EXISTS ({SENT_TO_PARTNER})
    ORDER BY a.created_at, a.id
    """
)
USABLE = text(
    f"SELECT a.id FROM media_assets a WHERE a.id = :id AND a.archived_at IS NULL AND NOT EXISTS ({SENT_TO_PARTNER})"
)


def store_asset(
    s: Any,
    tenant_id: uuid.UUID,
    *,
    kind: str,
    mime: str,
    data: bytes,
    name: str,
    origin: str,
    width: int | None = None,
    height: int | None = None,
    duration_s: float | None = None,
    tags: list[str] | None = None,
    content_text: str = "",
    created_by: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bool]:
    """The asset holding these bytes: (id, True) when this call added it, (id, False) when the tenant had it."""
    sha256 = hashlib.sha256(data).hexdigest()
    row = {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "kind": MediaKind(kind).value,
        "name": name[:200],
        "mime": mime,
        "size_bytes": len(data),
        "sha256": sha256,
        "data": data,
        "width": width,
        "height": height,
        "duration_s": duration_s,
        "tags": json.dumps(list(tags or [])),
        "origin": origin,
        "content_text": content_text[:1000],
        "created_by": created_by,
    }
    created = s.execute(INSERT_ASSET, row).scalar()
    if created is not None:
        return created, True
    return s.execute(ASSET_BY_SHA, {"tenant_id": tenant_id, "sha256": sha256}).scalar(), False


def _unsent(s: Any, tenant_id: uuid.UUID, from_number_id: uuid.UUID, partner: uuid.UUID, kind: str) -> list:
    params = {"tenant_id": tenant_id, "kind": kind, "from_id": from_number_id, "partner": partner}
    return list(s.execute(UNSENT, params).scalars())


def _usable(s: Any, asset_id: uuid.UUID, from_number_id: uuid.UUID, partner: uuid.UUID) -> bool:
    """Not archived (an operator may have deleted the same drawing earlier) and not sent to this partner yet."""
    params = {"id": asset_id, "from_id": from_number_id, "partner": partner}
    return s.execute(USABLE, params).first() is not None


def pick_asset(
    s: Any,
    tenant_id: uuid.UUID,
    from_number_id: uuid.UUID,
    partner: uuid.UUID,
    kind: str,
    rng: random.Random,
    *,
    text_for_voice: str = "",
    locale: str = "pt-BR",
) -> uuid.UUID | None:
    """A file of `kind` (image, sticker, voice) this number has not sent to `partner` (a number's id, or a warming
    group's), or None when there is none and none could be made (then the turn goes out as text:
    logic.actions.downgrade). Runs in the caller's transaction: a generated file commits with the message."""
    if kind not in KINDS:
        raise ValueError(f"not a media kind: {kind!r}")
    if kind == MediaKind.voice and text_for_voice.strip():
        spoken = _speak(s, tenant_id, from_number_id, partner, rng, text_for_voice, locale)
        if spoken is not None:
            return spoken
    unsent = _unsent(s, tenant_id, from_number_id, partner, kind)
    if unsent:
        return rng.choice(unsent)
    return None if kind == MediaKind.voice else _draw(s, tenant_id, from_number_id, partner, kind, rng)


def _draw(
    s: Any, tenant_id: uuid.UUID, from_number_id: uuid.UUID, partner: uuid.UUID, kind: str, rng: random.Random
) -> uuid.UUID | None:
    make = draw.draw_picture if kind == MediaKind.image else draw.draw_sticker
    for _ in range(DRAW_ATTEMPTS):
        drawing = make(rng.getrandbits(64))
        asset_id, _created = store_asset(
            s, tenant_id, **_drawing_fields(kind, drawing), origin="generated", tags=["generated"]
        )
        if _usable(s, asset_id, from_number_id, partner):
            return asset_id
    log.warning("no new %s for number %s after %d drawings", kind, from_number_id, DRAW_ATTEMPTS)
    return None


def _drawing_fields(kind: str, drawing: draw.Drawing) -> dict[str, Any]:
    return {
        "kind": kind,
        "mime": drawing.mime,
        "data": drawing.data,
        "name": f"{drawing.subject}.{'jpg' if kind == MediaKind.image else 'webp'}",
        "width": drawing.width,
        "height": drawing.height,
        "content_text": drawing.subject,
    }


def _speak(
    s: Any,
    tenant_id: uuid.UUID,
    from_number_id: uuid.UUID,
    partner: uuid.UUID,
    rng: random.Random,
    text: str,
    locale: str,
) -> uuid.UUID | None:
    for _ in range(2):  # the same words in the same voice make the same file: a second try picks another voice
        try:
            voice = speech.speak(text, locale, seed=rng.getrandbits(64), client=speech.default_client())
        except speech.SpeechUnavailable as exc:
            log.warning("no voice note for number %s: %s", from_number_id, exc)
            return None
        asset_id, _created = store_asset(
            s,
            tenant_id,
            kind=MediaKind.voice.value,
            mime=voice.mime,
            data=voice.data,
            name="voice-note.ogg",
            origin="generated",
            duration_s=voice.seconds,
            tags=["generated"],
            content_text=text,
        )
        if _usable(s, asset_id, from_number_id, partner):
            return asset_id
    return None
