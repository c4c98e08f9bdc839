"""The demo's starter media library: four drawn pictures, four stickers and two voice notes, tagged "demo", so the
library page and the rich turns have files from the first minute. Drawn and spoken offline, the same files on
every machine (fixed seeds)."""

from __future__ import annotations

import random

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


def load_starter_library(actor: Actor, locale: str = "pt-BR", clock: Clock = system_clock) -> int:
    """Add the starter files (those already there are kept as they are); returns how many were added."""
    authorize(actor, Action.media_manage)
    files = []
    for i, subject in enumerate(PICTURES):
        drawing = draw.draw_picture(f"demo-{i}", subject)
        files.append(("image", drawing.mime, drawing.data, f"{subject}.jpg", drawing, None, drawing.subject))
    for i, subject in enumerate(STICKERS):
        drawing = draw.draw_sticker(f"demo-{i}", subject)
        files.append(("sticker", drawing.mime, drawing.data, f"{subject}.webp", drawing, None, drawing.subject))
    for i, line in enumerate(VOICE_LINES.get(locale, VOICE_LINES["pt-BR"])):
        try:
            voice = speech.espeak(line, locale, random.Random(f"demo-voice-{i}"))
        except speech.SpeechUnavailable:
            continue  # no eSpeak on this machine: the demo goes on with pictures and stickers
        files.append(("voice", voice.mime, voice.data, f"audio-{i + 1}.ogg", None, voice.seconds, line))
    added = 0
    with tenant_session(actor.tenant_id) as s:
        for kind, mime, data, name, drawing, seconds, content in files:
            _id, created = store_asset(
                s,
                actor.tenant_id,
                kind=kind,
                mime=mime,
                data=data,
                name=name,
                origin="generated",
                width=drawing.width if drawing else None,
                height=drawing.height if drawing else None,
                duration_s=seconds,
                tags=TAGS,
                content_text=content,
                created_by=actor.user_id,
            )
            added += created
        audit.record(s, actor, "media.starter_library", "tenant", actor.tenant_id, after={"added": added}, clock=clock)
        s.commit()
    return added
