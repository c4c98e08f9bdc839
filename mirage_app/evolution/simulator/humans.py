"""How a simulated human (`SimHuman`) answers a message an instance sent them, once they have read it.

They opt out with `optout_probability`, else answer with `reply_probability`, else stay silent. An answer is a
voice note back to a voice note (`voice_back_probability`), a reaction to the message (`react_probability`), a
quoted reply (`quote_probability`) or a plain text, drawn in that order from the server's seeded RNG. A zero
probability draws nothing, so runs without rich habits stay exactly as reproducible as before.
"""

from __future__ import annotations

import functools
from typing import Any

from mirage_app.evolution.jids import user_jid
from mirage_app.evolution.simulator import inbound, media
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.models import SimHuman, SimMessage

REACTIONS = ("👍", "❤️", "😂", "😮", "🙏", "👏")


def answer(core: SimCore, instance: str, phone: str, key_id: str, message: dict[str, Any]) -> None:
    """Maybe answer the message `key_id` (content `message`) that `instance` sent to `phone`."""
    with core.lock:
        human = core.humans.get(phone)
        if human is None or human.opted_out:
            return
        roll = core.rng.random()
        if roll < human.optout_probability:
            human.opted_out = True
            kind, text = "text", human.optout_text
        elif roll < human.optout_probability + human.reply_probability:
            kind, text = _pick(core, human, message)
        else:
            return
        delay_s = core.rng.uniform(*core.config.human_reply_delay_s)
        lid = core.chance(core.config.lid_probability)
    core.dispatcher.call_later(delay_s, lambda: _send(core, instance, phone, key_id, message, kind, text, lid))


def _pick(core: SimCore, human: SimHuman, message: dict[str, Any]) -> tuple[str, str]:
    if "audioMessage" in message and core.chance(human.voice_back_probability):
        return "voice", ""
    if core.chance(human.react_probability):
        return "reaction", core.rng.choice(REACTIONS)
    text = core.rng.choice(human.reply_texts)
    if core.chance(human.quote_probability):
        return "quote", text
    return "text", text


def _send(
    core: SimCore, instance: str, phone: str, target_id: str, target: dict[str, Any], kind: str, text: str, lid: bool
) -> None:
    with core.lock:
        inst = core.instances.get(instance)
        if inst is None:
            return
        key_id = core.ids.phone_message_id()
        context: dict[str, Any] | None = None
        voice: media.Media | None = None
        if kind == "reaction":
            inner = {"remoteJid": user_jid(phone), "fromMe": True, "id": target_id}
            stamp_ms = int(core.now().timestamp() * 1000)
            message: dict[str, Any] = {
                "reactionMessage": {"key": inner, "text": text, "senderTimestampMs": media.long_value(stamp_ms, False)}
            }
        elif kind == "voice":
            voice = media.Media(_tone(), media.OPUS_MIME, seconds=1)
            content = media.message_object(
                voice, "voice", stamp=int(core.now().timestamp()), key_material=core.rng.randbytes(32), url_hex=key_id
            )
            message = {"audioMessage": content}
        else:
            message = {"conversation": text}
            if kind == "quote":
                context = {
                    "stanzaId": target_id,
                    "participant": inst.jid or "",
                    "quotedMessage": inbound.strip_context(target),
                }
        message_type = next(iter(message))
        at = core.now()
        record = SimMessage(
            instance, key_id, False, phone, text if kind in ("text", "quote") else "", at, lid=lid,
            message_type=message_type, author_phone=phone, message=message,
            media_sha256=voice.sha256.hex() if voice else None, media_size=voice.size if voice else None,
        )  # fmt: skip

        def arrive() -> None:
            key = inbound.direct_key(core, phone, key_id, lid)
            b64 = media.encode(voice.data) if voice else None
            inbound.deliver(core, inst, key, core.display_name(phone), message, message_type, record, context, b64)

        core.when_open(inst, arrive)


@functools.cache
def _tone() -> bytes:
    """One short OGG/Opus tone per process: a simulated human's voice note (about 2 KB)."""
    return media.tone_ogg(1.0, 440.0)
