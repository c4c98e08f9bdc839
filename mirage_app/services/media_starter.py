"""The demo's starter media library: four drawn pictures, four stickers and two voice notes, tagged "demo", so the
library page and the rich turns have files from the first minute. Drawn and spoken offline, the same files on
every machine (fixed seeds)."""

from __future__ import annotations

import random

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.media_pick import store_asset
from mirage_app.media import draw, speech

PICTURES = ("sunset", "coffee", "plant", "pet")
STICKERS = ("face", "heart", "thumbs_up", "bubble")
VOICE_LINES = {
    "pt-BR": ("Oi! Tudo bem? Tô chegando aí daqui a pouco.", "Bom dia! Ontem foi corrido, hoje tá mais tranquilo."),
    "en": ("Hi! All good? I'll be there in a bit.", "Good morning! Yesterday was busy, today is calmer."),
}
TAGS = ["demo"]
STARTER_THERE = text(
    "SELECT content_text FROM media_assets WHERE origin = 'generated' AND tags @> CAST('[\"demo\"]' AS jsonb)"
)


def _files(locale: str) -> list[dict]:
    files = []
    for i, subject in enumerate(PICTURES):
        d = draw.draw_picture(f"demo-{i}", subject)
        files.append({"kind": "image", "mime": d.mime, "data": d.data, "name": f"{subject}.jpg",
                      "width": d.width, "height": d.height, "content_text": d.subject})  # fmt: skip
    for i, subject in enumerate(STICKERS):
        d = draw.draw_sticker(f"demo-{i}", subject)
        files.append({"kind": "sticker", "mime": d.mime, "data": d.data, "name": f"{subject}.webp",
                      "width": d.width, "height": d.height, "content_text": d.subject})  # fmt: skip
    for i, line in enumerate(VOICE_LINES.get(locale, VOICE_LINES["pt-BR"])):
        try:
            voice = speech.espeak(line, locale, random.Random(f"demo-voice-{i}"))
        except speech.SpeechUnavailable:
            continue  # no eSpeak on this machine: the demo goes on with pictures and stickers
        files.append({"kind": "voice", "mime": voice.mime, "data": voice.data, "name": f"audio-{i + 1}.ogg",
                      "duration_s": voice.seconds, "content_text": line})  # fmt: skip
    return files


def load_starter_library(actor: Actor, locale: str = "pt-BR", clock: Clock = system_clock) -> int:
    """Add the starter files (those already there are kept as they are); returns how many were added."""
    authorize(actor, Action.media_manage)
    files = _files(locale)
    added = 0
    with tenant_session(actor.tenant_id) as s:
        # A voice note is never encoded twice alike (eSpeak varies slightly): known by what it says, not its bytes.
        there = set(s.execute(STARTER_THERE).scalars())
        for file in files:
            if file["content_text"] in there:
                continue
            _id, created = store_asset(
                s, actor.tenant_id, **file, origin="generated", tags=TAGS, created_by=actor.user_id
            )
            added += created
        audit.record(s, actor, "media.starter_library", "tenant", actor.tenant_id, after={"added": added}, clock=clock)
        s.commit()
    return added
