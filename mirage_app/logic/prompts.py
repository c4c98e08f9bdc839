"""Every LLM prompt Mirage sends, plus the small value types they are built from (SPEC §8).

Prompts are written in English (models follow instructions best there) and tell the model which language to
answer in. Conversation prompts: 1–2 short sentences, the persona's voice, daypart-aware, one phase of the
round (greeting -> comment -> question -> answer -> goodbye), no links, no repeats. Outreach prompts open
politely with the opt-out hint, ask a light question, close gently, and refuse to continue after an opt-out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mirage_app.logic.dayparts import AFTERNOON, EVENING, MORNING
from mirage_app.logic.locales import language_name
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, is_optout, optout_hint

GREETING = "greeting"
COMMENT = "comment"
QUESTION = "question"
ANSWER = "answer"
GOODBYE = "goodbye"
PHASES: tuple[str, ...] = (GREETING, COMMENT, QUESTION, ANSWER, GOODBYE)

OPENER = "opener"
FOLLOW_UP = "follow_up"
CLOSING = "closing"
OUTREACH_PHASES: tuple[str, ...] = (OPENER, FOLLOW_UP, CLOSING)

SPEAKER_A = "A"
SPEAKER_B = "B"
MIN_EXCHANGES = 2
MAX_EXCHANGES = 4
HISTORY_LIMIT = 12  # "short history": enough context for continuity, cheap in tokens

ChatMessage = dict[str, str]


def _get(obj: object, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, Mapping) else getattr(obj, key, default)


_EMOJI_RATES = {
    "none": 0.0,
    "never": 0.0,
    "low": 0.15,
    "rare": 0.15,
    "medium": 0.4,
    "high": 0.75,
    "often": 0.75,
}


@dataclass(frozen=True)
class PersonaSpec:
    """What a prompt or the offline generator needs from a persona row.

    traits: free-form dict; understood keys are age, occupation, writing_style, emoji_use
    (none/low/medium/high, a bool or a 0..1 rate) and typical_length (short/medium/long).
    """

    name: str
    style: str = ""
    greeting_morning: str = ""
    greeting_afternoon: str = ""
    greeting_evening: str = ""
    traits: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def coerce(cls, obj: object) -> PersonaSpec:
        """From a PersonaSpec, a dict, or an ORM row with the same field names."""
        if isinstance(obj, PersonaSpec):
            return obj
        return cls(
            name=str(_get(obj, "name", "") or ""),
            style=str(_get(obj, "style", "") or ""),
            greeting_morning=str(_get(obj, "greeting_morning", "") or ""),
            greeting_afternoon=str(_get(obj, "greeting_afternoon", "") or ""),
            greeting_evening=str(_get(obj, "greeting_evening", "") or ""),
            traits=dict(_get(obj, "traits", None) or {}),
        )

    def greeting_for(self, daypart: str | None) -> str:
        """The persona's own greeting for this daypart, or "" when it has none."""
        by_part = {
            MORNING: self.greeting_morning,
            AFTERNOON: self.greeting_afternoon,
            EVENING: self.greeting_evening,
        }
        return (by_part.get(daypart or "", "") or "").strip()

    @property
    def emoji_rate(self) -> float:
        """Probability that a message carries an emoji, from traits['emoji_use']."""
        value = self.traits.get("emoji_use")
        if isinstance(value, bool):
            return 0.6 if value else 0.0
        if isinstance(value, int | float):
            return max(0.0, min(1.0, float(value)))
        return _EMOJI_RATES.get(str(value or "low").strip().lower(), _EMOJI_RATES["low"])

    @property
    def typical_length(self) -> str:
        value = str(self.traits.get("typical_length") or "medium").strip().lower()
        return value if value in ("short", "medium", "long") else "medium"

    @property
    def formal(self) -> bool:
        """Formal writers skip slang fragments ("rs", "kkk", "Opa")."""
        return "formal" in re.findall(r"\w+", str(self.traits.get("writing_style") or "").lower())


@dataclass(frozen=True)
class TopicSpec:
    seed: str = ""
    system_prompt: str = ""

    @classmethod
    def coerce(cls, obj: object | None) -> TopicSpec:
        if obj is None:
            return cls()
        if isinstance(obj, TopicSpec):
            return obj
        return cls(str(_get(obj, "seed", "") or ""), str(_get(obj, "system_prompt", "") or ""))


@dataclass(frozen=True)
class Turn:
    """One earlier message as seen by the speaker we are writing for (`from_self` = they sent it)."""

    text: str
    from_self: bool = False

    @classmethod
    def coerce(cls, obj: object) -> Turn:
        """From a Turn, a plain string (someone else's line), or a mapping/row with text|body and
        from_self | direction ('out' = ours) | role ('assistant' = ours)."""
        if isinstance(obj, Turn):
            return obj
        if isinstance(obj, str):
            return cls(obj)
        text = _get(obj, "text") or _get(obj, "body") or _get(obj, "content") or ""
        from_self = _get(obj, "from_self")
        if from_self is None:
            from_self = str(_get(obj, "direction", "")) == "out" or _get(obj, "role") == "assistant"
        return cls(str(text), bool(from_self))


def as_turns(history: Iterable[object] | None) -> list[Turn]:
    return [Turn.coerce(item) for item in history or ()]


@dataclass(frozen=True)
class PhaseTurn:
    phase: str
    speaker: str  # SPEAKER_A or SPEAKER_B


_ROUND_TEMPLATES: dict[int, tuple[str, ...]] = {
    2: (GREETING, GREETING, QUESTION, GOODBYE),
    3: (GREETING, GREETING, COMMENT, QUESTION, ANSWER, GOODBYE),
    4: (GREETING, GREETING, COMMENT, COMMENT, QUESTION, ANSWER, GOODBYE, GOODBYE),
}


def round_phases(n_exchanges: int) -> list[PhaseTurn]:
    """The turns of a round of `n_exchanges` (2..4) exchanges: 2n turns, A opens, A and B alternate, phases
    follow greeting -> comment -> question -> answer -> goodbye. Short rounds fold the answer into the goodbye
    (the goodbye instruction answers a pending question first)."""
    if n_exchanges not in _ROUND_TEMPLATES:
        raise ValueError(f"a round has {MIN_EXCHANGES}..{MAX_EXCHANGES} exchanges, got {n_exchanges}")
    speakers = (SPEAKER_A, SPEAKER_B)
    return [PhaseTurn(phase, speakers[i % 2]) for i, phase in enumerate(_ROUND_TEMPLATES[n_exchanges])]


_DAYPART_WORDS = {MORNING: "morning", AFTERNOON: "afternoon", EVENING: "evening"}

_PHASE_INSTRUCTIONS = {
    GREETING: (
        "Greet the other person in a way that fits the time of day. If they already greeted you, greet them "
        "back and answer how you are."
    ),
    COMMENT: "Share a short, concrete comment or small personal update related to the topic.",
    QUESTION: "Ask one light, friendly question related to the topic or to what was just said.",
    ANSWER: "Answer the last message naturally, adding a small personal detail.",
    GOODBYE: (
        "Wrap up the chat: if the last message asked you something, answer it in a few words first, then say "
        "goodbye warmly in a way that fits the time of day."
    ),
}

_OUTREACH_INSTRUCTIONS = {
    OPENER: (
        "Write the first message: greet {contact} politely (first name only), say who you are in a few "
        'words, and ask one light, easy question. End the message with exactly this sentence: "{hint}"'
    ),
    FOLLOW_UP: (
        "Reply to what {contact} said in a friendly, respectful way; if it feels natural, ask one light "
        "question. Do not insist or pressure."
    ),
    CLOSING: "Thank {contact} and close the chat gently. Do not ask anything else.",
}

_COMMON_RULES = (
    "No links, URLs, e-mail addresses or phone numbers.",
    "Never repeat or closely paraphrase a line already sent in this chat, by you or by them.",
    "Natural WhatsApp tone: no hashtags, no signature, no quotation marks, do not prefix your name.",
)
_LENGTH_RULE = "Write only your next WhatsApp message: 1 or 2 short sentences."
_OPENER_LENGTH_RULE = "Write only your next WhatsApp message: up to 3 short sentences plus the opt-out one."
# Between the tenant's own numbers the persona simply stays in character; towards real external people the
# model must never deny being automated (responsible use, SPEC §9).
_CONVERSATION_AI_RULE = "Stay in character and do not bring up AI, bots or automation."
_OUTREACH_AI_RULE = (
    "If they ask whether they are talking to a person or a bot, answer honestly that this is an automated "
    "assistant writing on behalf of the business."
)


def _persona_lines(persona: PersonaSpec) -> list[str]:
    lines = [f"You are {persona.name or 'a regular person'}."]
    if persona.style:
        lines.append(f"Personality and voice: {persona.style.strip()}")
    trait_labels = (
        ("age", "Age"),
        ("occupation", "Occupation"),
        ("writing_style", "Writing style"),
        ("emoji_use", "Emoji use"),
        ("typical_length", "Typical message length"),
    )
    traits = [f"{label}: {persona.traits[key]}" for key, label in trait_labels if persona.traits.get(key)]
    if traits:
        lines.append("; ".join(traits) + ".")
    lines.append("Keep this voice in every message.")
    return lines


def _history_messages(history: Sequence[Turn], limit: int) -> list[ChatMessage]:
    recent = history[-limit:] if limit > 0 else []
    return [{"role": "assistant" if t.from_self else "user", "content": t.text} for t in recent]


def build_conversation_messages(
    persona: PersonaSpec | Mapping[str, Any],
    topic: TopicSpec | Mapping[str, Any] | None,
    daypart: str | None,
    phase: str,
    history: Iterable[object] | None,
    locale: str | None = "pt-BR",
    history_limit: int = HISTORY_LIMIT,
) -> list[ChatMessage]:
    """OpenAI chat messages for the next line of a warming chat between two of the tenant's numbers."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase: {phase!r}")
    spec = PersonaSpec.coerce(persona)
    subject = TopicSpec.coerce(topic)
    turns = as_turns(history)

    system = [*_persona_lines(spec), "You are chatting on WhatsApp with a friend."]
    if daypart in _DAYPART_WORDS:
        system.append(f"It is {_DAYPART_WORDS[daypart]} where you both are.")
    greeting = spec.greeting_for(daypart)
    if greeting:
        system.append(f"Your usual greeting at this time of day is: {greeting}")
    if subject.seed:
        system.append(f"Topic of the conversation: {subject.seed.strip()}.")
    if subject.system_prompt:
        system.append(subject.system_prompt.strip())
    rules = (_LENGTH_RULE, *_COMMON_RULES, _CONVERSATION_AI_RULE, f"Write in {language_name(locale)}.")
    system.append("Rules:")
    system.extend(f"- {rule}" for rule in rules)

    messages: list[ChatMessage] = [{"role": "system", "content": "\n".join(system)}]
    messages.extend(_history_messages(turns, history_limit))
    instruction = _PHASE_INSTRUCTIONS[phase]
    messages.append({"role": "system", "content": f"Your next message ({phase}): {instruction}"})
    return messages


class ContactOptedOut(Exception):
    """Raised instead of building a prompt for a contact who asked to stop: nothing more may be sent."""


def build_outreach_messages(
    persona: PersonaSpec | Mapping[str, Any],
    contact_name: str | None,
    phase: str,
    history: Iterable[object] | None,
    locale: str | None = "pt-BR",
    optout_keywords: Iterable[str] = DEFAULT_OPTOUT_KEYWORDS,
    business_name: str = "",
    history_limit: int = HISTORY_LIMIT,
) -> list[ChatMessage]:
    """OpenAI chat messages for an outreach message to a consenting external contact.

    Raises ContactOptedOut when any of the contact's messages is an opt-out: the engine must not continue.
    """
    if phase not in OUTREACH_PHASES:
        raise ValueError(f"unknown outreach phase: {phase!r}")
    spec = PersonaSpec.coerce(persona)
    turns = as_turns(history)
    keywords = tuple(optout_keywords)
    if any(not t.from_self and is_optout(t.text, keywords) for t in turns):
        raise ContactOptedOut("the contact opted out; do not message them again")
    contact = first_name(contact_name) or "the contact"

    on_behalf = f" on behalf of {business_name.strip()}" if business_name.strip() else ""
    rules = (
        _OPENER_LENGTH_RULE if phase == OPENER else _LENGTH_RULE,
        *_COMMON_RULES,
        "If they seem uninterested, thank them and stop asking questions.",
        _OUTREACH_AI_RULE,
        f"Write in {language_name(locale)}.",
    )
    system = [
        *_persona_lines(spec),
        f"You are writing on WhatsApp{on_behalf} to {contact}, who agreed to receive messages from us.",
        "Be polite, warm and respectful; never pushy, never salesy, no promises or prices.",
        "Rules:",
        *(f"- {rule}" for rule in rules),
    ]
    instruction = _OUTREACH_INSTRUCTIONS[phase].format(contact=contact, hint=optout_hint(locale))
    messages: list[ChatMessage] = [{"role": "system", "content": "\n".join(system)}]
    messages.extend(_history_messages(turns, history_limit))
    messages.append({"role": "system", "content": f"Your next message ({phase}): {instruction}"})
    return messages


def first_name(name: str | None) -> str:
    """The first word of a contact's display name, the way people address each other on WhatsApp."""
    parts = (name or "").strip().split()
    return parts[0] if parts else ""


_LINKISH = re.compile(
    r"(?i)[\w.+-]+@[\w-]+\.[\w.]+"  # e-mail addresses
    r"|\S*(?:https?://|www\.)\S+"  # explicit URLs, even glued to a word
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|br|io|app|me|ly|info|biz|co)\b(?:/\S*)?"  # bare domains
)
_QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "«": "»"}
# Zero-width and bidi marks used to make bodies byte-unique; U+200D (joiner) stays, emoji sequences need it.
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u2060-\u2064\ufeff]")


def sanitize_reply(text: str, persona_name: str = "") -> str:
    """Clean a model's reply before sending: no links, no invisible characters (SPEC §9), no "Name:" prefix,
    no wrapping quotes, single-spaced."""
    cleaned = _INVISIBLE.sub("", text or "")
    cleaned = _LINKISH.sub("", cleaned)
    cleaned = " ".join(cleaned.split())
    if persona_name and cleaned.lower().startswith(persona_name.lower() + ":"):
        cleaned = cleaned[len(persona_name) + 1 :].strip()
    closing = _QUOTE_PAIRS.get(cleaned[:1])
    if closing and len(cleaned) >= 2 and cleaned.endswith(closing):
        cleaned = cleaned[1:-1].strip()
    return cleaned
