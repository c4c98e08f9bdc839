"""Offline reply generator: natural pt-BR / English WhatsApp lines without an LLM (SPEC §2, §8).

Each phase is composed from several fragment pools ("slots"), so one daypart and phase already has hundreds
of combinations. A line is never repeated within a conversation: candidates are compared with everything in
the history after `optout.fold` (case, accents, punctuation and emoji ignored). Random draws come first; if
they keep colliding the generator walks the combinations in a fixed order, then adds filler tails, then pairs
sentences, so it stays deterministic for a given rng and history.

Persona-aware: the persona's own greeting for the daypart replaces the stock salutation, `emoji_use` sets how
often an emoji is added, `typical_length` how often optional fragments are used, and a formal
`writing_style` drops slang (fragments marked with a leading "~"). Topic-aware through `{seed}`. The words
themselves are data: `phrases/<locale>.json`, read by `logic.phrasebook`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import product
from typing import Any

from mirage_app.logic.dayparts import DAYPARTS
from mirage_app.logic.locales import is_english
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, fold, is_optout
from mirage_app.logic.phrasebook import EMOJI, ENGLISH, NO_DAYPART, PORTUGUESE, Phrasebook, Slot
from mirage_app.logic.prompts import (
    ANSWER,
    COMMENT,
    FOLLOW_UP,
    GREETING,
    OPENER,
    OUTREACH_PHASES,
    PHASES,
    QUESTION,
    ContactOptedOut,
    PersonaSpec,
    TopicSpec,
    Turn,
    as_turns,
    first_name,
    sanitize_reply,
)

_EXTRA_BY_LENGTH = {"short": 0.3, "medium": 0.55, "long": 0.85}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SENTENCE_START = re.compile(r"(^|[.!?…]\s+)(\w+)")
_LOWERCASE_INTERJECTIONS = frozenset({"rs", "haha", "kkk", "lol"})
_ASKS = re.compile(r"\?[^\w?]*$")  # ends with a question mark, maybe followed by an emoji


def _fill(template: str, values: Mapping[str, str]) -> str | None:
    """The template with placeholders filled, or None when one of them has no value (drop the fragment)."""
    if any(not values.get(name) for name in _PLACEHOLDER.findall(template)):
        return None
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _prepare(slots: Iterable[Slot], values: Mapping[str, str], formal: bool) -> list[Slot]:
    prepared = []
    for alternatives in slots:
        kept = []
        for alternative in alternatives:
            if alternative.startswith("~"):
                if formal:
                    continue
                alternative = alternative[1:]
            filled = _fill(alternative, values)
            if filled is not None:
                kept.append(filled)
        if any(kept):
            prepared.append(tuple(kept))
    return prepared


def _tidy(text: str) -> str:
    """Single spaces and a capital letter at the start of every sentence."""
    text = " ".join(text.split())

    def capitalise(match: re.Match[str]) -> str:
        word = match.group(2)
        if word in _LOWERCASE_INTERJECTIONS:
            return match.group(0)
        return match.group(1) + word[0].upper() + word[1:]

    return _SENTENCE_START.sub(capitalise, text)


def _enumerate(slots: Sequence[Slot]) -> Iterator[str]:
    for combo in product(*slots):
        yield _tidy(" ".join(part for part in combo if part))


def _clean_seed(seed: str) -> str:
    """The topic seed as a phrase to weave in: single-spaced, no links, no trailing punctuation."""
    return sanitize_reply(seed).rstrip(".!?;,:")


class OfflineGenerator:
    """Stand-in for the LLM when no API key is configured; deterministic for a given rng and history."""

    def __init__(self, rng: random.Random, random_attempts: int = 40) -> None:
        self._rng = rng
        self._attempts = random_attempts

    def generate(
        self,
        persona: PersonaSpec | Mapping[str, Any],
        topic: TopicSpec | Mapping[str, Any] | None,
        daypart: str | None,
        phase: str,
        history: Iterable[object] | None,
        locale: str | None = "pt-BR",
    ) -> str:
        """The next line of a warming conversation for `persona` in `phase` (see prompts.PHASES)."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase: {phase!r}")
        spec = PersonaSpec.coerce(persona)
        lang = ENGLISH if is_english(locale) else PORTUGUESE
        part = _daypart_key(daypart)
        turns = as_turns(history)
        seed = _clean_seed(TopicSpec.coerce(topic).seed)
        slots = _phase_slots(lang, spec, part, phase, turns, has_seed=bool(seed))
        second = lang.question_plain if phase == COMMENT else lang.comment_plain
        text = self._choose(slots, second, lang.filler, {"seed": seed}, spec, turns)
        emojis = EMOJI.by_phase[phase]
        return self._decorate(text, emojis[part] if isinstance(emojis, dict) else emojis, spec.emoji_rate)

    def generate_outreach(
        self,
        persona: PersonaSpec | Mapping[str, Any],
        contact_name: str | None,
        phase: str,
        history: Iterable[object] | None,
        locale: str | None = "pt-BR",
        daypart: str | None = None,
        optout_keywords: Iterable[str] = DEFAULT_OPTOUT_KEYWORDS,
    ) -> str:
        """An outreach message (opener / follow_up / closing) to a consenting contact.

        The opener always ends with how to opt out. Raises prompts.ContactOptedOut once the contact has sent
        an opt-out keyword: nothing may follow it.
        """
        if phase not in OUTREACH_PHASES:
            raise ValueError(f"unknown outreach phase: {phase!r}")
        spec = PersonaSpec.coerce(persona)
        turns = as_turns(history)
        keywords = tuple(optout_keywords)
        if any(not t.from_self and is_optout(t.text, keywords) for t in turns):
            raise ContactOptedOut("the contact opted out; do not message them again")
        lang = ENGLISH if is_english(locale) else PORTUGUESE
        part = _daypart_key(daypart)
        name = first_name(contact_name)
        values = {"name": name, "me": spec.name.strip(), "greet": lang.greet_word[part]}
        if phase == OPENER:
            salute = lang.out_salute_named if name else lang.out_salute_anon
            slots: list[Slot] = [salute, lang.out_intro, lang.out_question, lang.out_hint]
            # The hint stays last (after any emoji) so the way out is the final thing read.
            text = self._choose(slots, lang.out_body, ("",), values, spec, turns)
            return text
        if phase == FOLLOW_UP:
            slots = [lang.out_react, lang.out_body, lang.out_ask]
        else:
            thanks = lang.out_thanks_named if name else lang.out_thanks_anon
            slots = [thanks, lang.out_available, ("", *lang.wish[part])]
        text = self._choose(slots, lang.out_body, lang.filler, values, spec, turns)
        return self._decorate(text, EMOJI.outreach, spec.emoji_rate / 2)

    def _choose(
        self,
        slots: Sequence[Slot],
        second: Slot,
        filler: Slot,
        values: Mapping[str, str],
        persona: PersonaSpec,
        turns: Sequence[Turn],
    ) -> str:
        """First candidate not already said in the conversation by either side (compared folded)."""
        prepared = _prepare(slots, values, persona.formal)
        follow_ups = _prepare([second], values, persona.formal)
        extra_p = _EXTRA_BY_LENGTH[persona.typical_length]
        seen = {fold(t.text) for t in turns}
        for candidate in self._candidates(prepared, follow_ups, filler, extra_p):
            key = fold(candidate)
            if key and key not in seen:
                return candidate
        raise RuntimeError("offline generator exhausted every combination for this conversation")

    def _candidates(self, slots: list[Slot], second: list[Slot], filler: Slot, extra_p: float) -> Iterator[str]:
        """Random draws first, then every combination in order, with a filler tail, then paired sentences."""
        for _ in range(self._attempts):
            yield self._pick(slots, extra_p)
        yield from _enumerate(slots)
        yield from _enumerate([*slots, filler])
        for first in _enumerate(slots):
            for follow in _enumerate(second):
                yield f"{first} {follow}"

    def _pick(self, slots: Sequence[Slot], extra_p: float) -> str:
        parts = []
        for alternatives in slots:
            if "" in alternatives and self._rng.random() >= extra_p:
                continue
            parts.append(self._rng.choice([a for a in alternatives if a]))
        return _tidy(" ".join(parts))

    def _decorate(self, text: str, emojis: Sequence[str], rate: float) -> str:
        if emojis and self._rng.random() < rate:
            return f"{text} {self._rng.choice(emojis)}"
        return text


def _daypart_key(daypart: str | None) -> str:
    return daypart if daypart in DAYPARTS else NO_DAYPART


def _phase_slots(
    lang: Phrasebook, persona: PersonaSpec, part: str, phase: str, turns: Sequence[Turn], has_seed: bool
) -> list[Slot]:
    """The fragment slots for one phase; bodies weave in the topic when there is one."""
    # "Replying" = the other side just asked us something (their greeting ends with "how are you?").
    replying = bool(turns) and not turns[-1].from_self and _ASKS.search(turns[-1].text) is not None
    if phase == GREETING:
        # The persona's own words are content, not a template: keep them out of the placeholder/slang syntax.
        own = persona.greeting_for(part).lstrip("~").replace("{", "(").replace("}", ")")
        salute = (own,) if own else lang.salute[part]
        if replying:
            return [salute, lang.how_reply, lang.reply_extra[part]]
        return [salute, lang.hook, lang.how + lang.how_daypart[part]]
    if phase == COMMENT:
        body = lang.comment_seed if has_seed else lang.comment_plain
        return [lang.comment_lead, body + lang.comment_daypart[part], lang.comment_tail]
    if phase == QUESTION:
        body = lang.question_seed if has_seed else lang.question_plain
        return [lang.question_lead, body + lang.question_daypart[part], lang.question_tail]
    if phase == ANSWER:
        body = lang.answer_seed if has_seed else lang.answer_plain
        return [lang.answer_lead, body + lang.answer_daypart[part], lang.answer_tail]
    slots = [lang.close, lang.wish[part], lang.end]
    if replying:
        slots.insert(0, lang.quick_answer)  # short rounds fold the answer into the goodbye
    return slots
