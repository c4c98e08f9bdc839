"""Who does what, when: the actions a warming number takes beyond plain text (issue 15), decided without I/O.

A turn of a round has one *main* action (text, voice note, picture, sticker, location, contact card) and may carry
*extras*: a reaction to the partner's last message before answering (sometimes removed a little later), a quote of
that message, a typo fixed by an edit shortly after sending. Numbers also post a status now and then and talk in
warming groups once they are mature.

Three things decide:
- the persona's **habits** (`Habits`): how often this person reacts, quotes, records voice notes, sends pictures or
  stickers, mistypes, posts a status, speaks in a group;
- the **phase rules** (`ActionRules`): from which warm-up day each action is allowed (the first days text and
  reactions only, media later, groups and status when the number is mature), and which are switched off, per
  tenant with per-conversation overrides;
- what was received: people answer in kind (a voice note sometimes gets a voice note back, a sticker a sticker).

Every action counts against the send caps with a weight (`CAP_WEIGHT`, in "text messages"): a reaction or a fixed
typo is a tap, a voice note or a picture weighs more than a line of text because it is what a new number is
watched for.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

# Main actions of a turn, then extras and actions outside turns.
TEXT, VOICE, IMAGE, STICKER, LOCATION, CONTACT = "text", "voice", "image", "sticker", "location", "contact"
REACTION, QUOTE, TYPO_EDIT, STATUS, GROUP = "reaction", "quote", "typo_edit", "status", "group"
MAIN_ACTIONS: tuple[str, ...] = (TEXT, VOICE, IMAGE, STICKER, LOCATION, CONTACT)
ACTIONS: tuple[str, ...] = (*MAIN_ACTIONS, REACTION, QUOTE, TYPO_EDIT, STATUS, GROUP)
MEDIA_ACTIONS = frozenset({VOICE, IMAGE, STICKER})
# Message kinds (models.enums.MessageKind) that are never a turn: nobody answers a reaction, a typo's fix or a status.
NEVER_A_TURN = frozenset({"reaction", "edit", "status"})

# What one message of each kind (models.enums.MessageKind) counts for against the hourly and daily caps.
CAP_WEIGHT: Mapping[str, float] = {
    "text": 1.0,
    "reaction": 0.25,
    "edit": 0.25,
    "sticker": 0.5,
    "image": 1.5,
    "voice": 1.5,
    "location": 1.0,
    "contact": 1.0,
    "status": 1.0,
}

# The first warm-up day (1-based) each action is allowed on, by default.
DEFAULT_MIN_DAY: Mapping[str, int] = {
    TEXT: 1,
    REACTION: 1,
    QUOTE: 2,
    TYPO_EDIT: 3,
    STICKER: 4,
    IMAGE: 6,
    VOICE: 6,
    LOCATION: 10,
    CONTACT: 10,
    STATUS: 12,
    GROUP: 14,
}

# Reactions people actually use, the plain ones first: a persona with few emoji mostly sends 👍.
REACTIONS: tuple[str, ...] = ("👍", "❤️", "😂", "🙏", "😮", "👏", "🔥", "😅")


@dataclass(frozen=True)
class Habits:
    """A persona's rates (0..1). Per turn: `reactions`, `quotes`, `typos` are chances of the extra; `voice_notes`,
    `pictures`, `stickers`, `locations`, `contacts` chances that the turn is that instead of text. Per day:
    `status_posts`. In groups: `group_talk`, the share of turns this member speaks rather than reads."""

    reactions: float = 0.2
    quotes: float = 0.3
    typos: float = 0.1
    voice_notes: float = 0.08
    pictures: float = 0.06
    stickers: float = 0.07
    locations: float = 0.01
    contacts: float = 0.01
    status_posts: float = 0.3
    group_talk: float = 0.35
    emoji: float = 0.5  # how far down the REACTIONS list this person goes

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
                raise ValueError(f"habit {f.name} must be a rate between 0 and 1")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Habits:
        """From a persona's `habits` JSON; missing or null keys keep the defaults, unknown keys are refused."""
        unknown = set(data or {}) - set(cls.names())
        if unknown:
            raise ValueError(f"unknown habits: {sorted(unknown)}")
        return cls(**{k: float(v) for k, v in (data or {}).items() if v is not None})

    @classmethod
    def from_mapping_or_default(cls, data: Mapping[str, Any] | None) -> Habits:
        """As `from_mapping`, but a hand-edited bad value falls back to the defaults instead of stopping sends."""
        try:
            return cls.from_mapping(data)
        except (TypeError, ValueError):
            return cls()


@dataclass(frozen=True)
class ActionRules:
    """From which warm-up day each action is allowed, and which are off (tenant settings, conversation overrides)."""

    min_day: Mapping[str, int]
    off: frozenset[str] = frozenset()

    @classmethod
    def default(cls) -> ActionRules:
        return cls(dict(DEFAULT_MIN_DAY))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, base: ActionRules | None = None) -> ActionRules:
        """`{"min_day": {action: day}, "off": [action, ...]}` over `base` (the defaults): a conversation's
        override changes only the keys it names."""
        base = base or cls.default()
        data = data or {}
        unknown_keys = set(data) - {"min_day", "off"}
        if unknown_keys:
            raise ValueError(f"unknown action rule settings: {sorted(unknown_keys)}")
        min_day = dict(base.min_day)
        for action, day in (data.get("min_day") or {}).items():
            if action not in DEFAULT_MIN_DAY:
                raise ValueError(f"unknown action: {action}")
            if action == TEXT:
                continue  # text is always allowed: a number that may not type cannot warm
            if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 365:
                raise ValueError(f"{action}: the first day must be a whole number from 1 to 365")
            min_day[action] = day
        off = data.get("off")
        if off is None:
            return cls(min_day, base.off)
        if not isinstance(off, list | tuple) or any(a not in DEFAULT_MIN_DAY for a in off):
            raise ValueError("off must list known actions")
        return cls(min_day, frozenset(off) - {TEXT})

    @classmethod
    def merged(cls, tenant: Mapping[str, Any] | None, conversation: Mapping[str, Any] | None) -> ActionRules:
        """The tenant's rules with the conversation's overrides; a bad stored value falls back to the level above."""
        try:
            rules = cls.from_mapping(tenant)
        except (TypeError, ValueError):
            rules = cls.default()
        try:
            return cls.from_mapping(conversation, rules)
        except (TypeError, ValueError):
            return rules

    def as_mapping(self) -> dict[str, Any]:
        return {"min_day": dict(self.min_day), "off": sorted(self.off)}

    def allows(self, action: str, day: int) -> bool:
        """May a number on warm-up day `day` (1-based) take `action`?"""
        return action not in self.off and day >= self.min_day.get(action, 1)

    def why_not(self, action: str, day: int) -> str | None:
        """Why an action is refused on `day` (a reason code), or None when it is allowed."""
        if action in self.off:
            return "action_off"
        if day < self.min_day.get(action, 1):
            return "phase_too_early"
        return None


@dataclass(frozen=True)
class TurnPlan:
    """What one turn does. `kind` is the main action; `react` the emoji put on the partner's last message first
    (None: no reaction) and `unreact` whether it is taken back later; `quote` whether the reply quotes that
    message; `typo` whether the text goes out mistyped and is fixed by an edit."""

    kind: str = TEXT
    react: str | None = None
    unreact: bool = False
    quote: bool = False
    typo: bool = False


# How many times likelier a kind becomes as an answer to the same kind (people answer in kind), at most
# `_IN_KIND_MAX`: someone who never records a voice note does not start because they got one.
_IN_KIND: Mapping[str, float] = {VOICE: 6.0, STICKER: 4.0, IMAGE: 2.0}
_IN_KIND_MAX = 0.6
_QUOTABLE = frozenset({TEXT, IMAGE, STICKER, LOCATION})


def plan_turn(
    habits: Habits,
    rules: ActionRules,
    day: int,
    rng: random.Random,
    *,
    incoming_kind: str | None = None,
    available: frozenset[str] = frozenset(MAIN_ACTIONS),
    group: bool = False,
) -> TurnPlan:
    """Choose a turn's action and extras. `incoming_kind` is the kind of the message being answered (None for an
    opener: nothing to react to or quote); `available` the main kinds that have content now (e.g. no picture left
    that this partner has not seen yet). Always the same plan for the same rng state."""
    rolls = [rng.random() for _ in range(8)]  # drawn up front so one habit's change does not shift the others
    chances = {
        VOICE: habits.voice_notes,
        IMAGE: habits.pictures,
        STICKER: habits.stickers,
        LOCATION: habits.locations,
        CONTACT: habits.contacts,
    }
    if incoming_kind in _IN_KIND:
        chances[incoming_kind] = min(_IN_KIND_MAX, chances[incoming_kind] * _IN_KIND[incoming_kind])
    kind = TEXT
    threshold = 0.0
    for action, chance in chances.items():
        if action not in available or not rules.allows(action, day):
            continue
        threshold += chance
        if rolls[0] < threshold:
            kind = action
            break
    answering = incoming_kind is not None and incoming_kind not in ("reaction", "edit")
    react = None
    if answering and rules.allows(REACTION, day) and rolls[1] < habits.reactions:
        react = pick_reaction(habits, rng)
    unreact = react is not None and rolls[2] < 0.08
    quote_chance = habits.quotes * (0.5 if group else 1.0)
    quote = answering and kind in _QUOTABLE and rules.allows(QUOTE, day) and rolls[3] < quote_chance
    typo = kind == TEXT and rules.allows(TYPO_EDIT, day) and rolls[4] < habits.typos
    return TurnPlan(kind, react, unreact, quote, typo)


def pick_reaction(habits: Habits, rng: random.Random) -> str:
    """An emoji from the first 2..8 of REACTIONS, depending on how emoji-prone the persona is."""
    reach = 2 + round(habits.emoji * (len(REACTIONS) - 2))
    return REACTIONS[rng.randrange(reach)]


def cap_weight(kind: str) -> float:
    return CAP_WEIGHT.get(kind, 1.0)


def downgrade(plan: TurnPlan, reason_kind: str) -> TurnPlan:
    """The same turn as text when its main action cannot go out (its file is gone, the generator failed)."""
    if plan.kind != reason_kind:
        return plan
    return replace(plan, kind=TEXT)


def make_typo(text: str, rng: random.Random) -> str | None:
    """The text with two neighbouring letters swapped in one longer word, as thumbs do; None when no word fits.
    Only visible letters move: nothing is added or hidden."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w[1:-1].isalpha()]
    if not candidates:
        return None
    i = candidates[rng.randrange(len(candidates))]
    word = words[i]
    j = rng.randrange(1, len(word) - 2) if len(word) > 3 else 1
    if word[j] == word[j + 1]:
        return None
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def edit_delay_s(text: str, rng: random.Random) -> float:
    """How long after sending a typo is noticed and fixed: a re-read, 4–25 s."""
    return min(25.0, 4.0 + len(text) / 25.0 + rng.uniform(0.0, 6.0))


def unreact_delay_s(rng: random.Random) -> float:
    """A reaction taken back: second thoughts come within a minute or two."""
    return rng.uniform(20.0, 120.0)


def group_speakers(
    members: Sequence[tuple[str, Habits]], turns: int, rng: random.Random, *, opener: str | None = None
) -> list[str]:
    """Who speaks at each turn of a group round: weighted by `group_talk` (most members mostly read), never the
    same member twice in a row, the opener (if given) first."""
    if len(members) < 2:
        raise ValueError("a group round needs at least two members")
    ids = [m for m, _ in members]
    weights = [max(0.02, h.group_talk) for _, h in members]
    order: list[str] = []
    last = None
    for turn in range(turns):
        if turn == 0 and opener in ids:
            pick = opener
        else:
            choices = [(m, w) for m, w in zip(ids, weights, strict=True) if m != last]
            total = sum(w for _, w in choices)
            roll = rng.random() * total
            pick = choices[-1][0]
            for m, w in choices:
                roll -= w
                if roll < 0:
                    pick = m
                    break
        order.append(pick)
        last = pick
    return order
