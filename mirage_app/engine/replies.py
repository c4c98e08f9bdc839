"""The next line of a warming chat: persona + topic + daypart + short history → prompt → LLM or offline generator
→ `sanitize_reply`. Prompts themselves live in `logic.prompts` (one module); this only wires them to a model.

Without a configured LLM the offline generator answers (persona- and daypart-aware, pt-BR / English, never
repeating a line of the conversation). With one, an LLM failure that outlived its retries, an empty answer or a
line already said in the conversation falls back to the offline generator, and the reason is kept in
`Reply.error` (stored in the message's meta), so a round never stalls on the model.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mirage_app.engine.llm_client import OFFLINE, LLMClient, LLMError
from mirage_app.logic.offline_generator import OfflineGenerator
from mirage_app.logic.optout import fold
from mirage_app.logic.prompts import (
    HISTORY_LIMIT,
    PersonaSpec,
    TopicSpec,
    Turn,
    as_turns,
    build_conversation_messages,
    sanitize_reply,
)

OFFLINE_FALLBACK = "offline_fallback"


@dataclass(frozen=True)
class Reply:
    text: str
    source: str  # "offline", "openai:<host>" or "offline_fallback"
    model: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    latency_ms: int = 0
    error: str | None = None

    def meta(self) -> dict[str, Any]:
        """What a message row keeps about how its text was made (token usage per message)."""
        out: dict[str, Any] = {"source": self.source}
        if self.model:
            out["model"] = self.model
        if self.usage:
            out["usage"] = dict(self.usage)
        if self.latency_ms:
            out["latency_ms"] = self.latency_ms
        if self.error:
            out["error"] = self.error
        return out


def generate(
    persona: PersonaSpec | Any,
    topic: TopicSpec | Any | None,
    daypart: str | None,
    phase: str,
    history: Iterable[object] | None,
    locale: str | None,
    *,
    seed: str,
    llm: LLMClient | None = None,
    model: str = "gpt-4o-mini",
    temperature: float = 0.8,
    history_limit: int = HISTORY_LIMIT,
) -> Reply:
    """The next message for `persona` in `phase`. `history` is oldest-first, as seen by the speaker (Turns or
    rows with body/from_self); its last item is the message being answered. `seed` makes the offline
    generator reproducible (e.g. "<round id>|<turn>")."""
    spec = PersonaSpec.coerce(persona)
    subject = TopicSpec.coerce(topic)
    turns = as_turns(history)
    return llm_or_offline(
        llm,
        lambda: build_conversation_messages(spec, subject, daypart, phase, turns, locale, history_limit),
        model,
        temperature,
        turns,
        spec.name,
        lambda: OfflineGenerator(random.Random(seed)).generate(spec, subject, daypart, phase, turns, locale),
    )


def llm_or_offline(
    llm: LLMClient | None,
    messages: Callable[[], list[dict[str, str]]],
    model: str,
    temperature: float,
    turns: list[Turn],
    speaker: str,
    offline: Callable[[], str],
    finish: Callable[[str], str] = lambda text: text,
) -> Reply:
    """The one way a text is made: the LLM when configured, else (or on failure, an empty or a repeated answer)
    the offline generator; `finish` is applied to whichever text is kept (e.g. an opener's opt-out hint)."""
    error, spent = None, None
    if llm is not None:
        try:
            spent = llm.complete(messages(), model, temperature)
        except LLMError as exc:
            error = exc.reason
        else:
            text = sanitize_reply(spent.text, speaker)
            if text and fold(text) not in {fold(t.text) for t in turns}:
                return Reply(finish(text), llm.label, spent.model, spent.usage, spent.latency_ms)
            error = "repeated" if text else "empty"
    text = finish(sanitize_reply(offline()))
    if llm is None:
        return Reply(text, OFFLINE)
    # Tokens spent on a discarded answer are still recorded.
    return Reply(
        text,
        OFFLINE_FALLBACK,
        spent.model if spent else None,
        spent.usage if spent else {},
        spent.latency_ms if spent else 0,
        error,
    )
