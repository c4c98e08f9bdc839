"""The offline generator's words: one `Phrasebook` per language and the emoji sets, read once from `phrases/*.json`.

A phrase file (`pt-BR.json`, `en.json`) maps every `Phrasebook` field to either a slot (a list of alternatives)
or a map from daypart (`morning`, `afternoon`, `evening`, `none` = no daypart) to a slot; `greet_word` maps a
daypart to one word. In a slot, an empty alternative "" makes the slot optional, a leading "~" marks slang (left
out for formal personas) and `{seed}`, `{name}`, `{me}`, `{greet}` are filled in (a fragment whose placeholder
has no value is dropped). `emoji.json` holds the emoji a warming phase may end with (one set, or one per
daypart) and the set used for outreach. The files are packaged with `mirage_app.logic` (see pyproject.toml);
a missing or misspelt field, or a daypart map without all four dayparts, fails at import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

from mirage_app.logic.dayparts import DAYPARTS
from mirage_app.logic.prompts import PHASES

Slot = tuple[str, ...]  # alternatives; "" makes the slot optional, a leading "~" marks slang
NO_DAYPART = "none"
DAYPART_KEYS = frozenset({*DAYPARTS, NO_DAYPART})


@dataclass(frozen=True)
class Phrasebook:
    salute: Mapping[str, Slot]
    greet_word: Mapping[str, str]
    hook: Slot
    how: Slot
    how_daypart: Mapping[str, Slot]
    how_reply: Slot
    reply_extra: Mapping[str, Slot]
    comment_lead: Slot
    comment_seed: Slot
    comment_plain: Slot
    comment_daypart: Mapping[str, Slot]
    comment_tail: Slot
    question_lead: Slot
    question_seed: Slot
    question_plain: Slot
    question_daypart: Mapping[str, Slot]
    question_tail: Slot
    answer_lead: Slot
    answer_seed: Slot
    answer_plain: Slot
    answer_daypart: Mapping[str, Slot]
    answer_tail: Slot
    quick_answer: Slot
    close: Slot
    wish: Mapping[str, Slot]
    end: Slot
    filler: Slot
    out_salute_named: Slot
    out_salute_anon: Slot
    out_intro: Slot
    out_question: Slot
    out_hint: Slot
    out_react: Slot
    out_body: Slot
    out_ask: Slot
    out_thanks_named: Slot
    out_thanks_anon: Slot
    out_available: Slot


@dataclass(frozen=True)
class EmojiSets:
    by_phase: Mapping[str, Slot | Mapping[str, Slot]]  # warming phase → emoji, or daypart → emoji
    outreach: Slot


def _read(name: str) -> dict[str, Any]:
    return json.loads(resources.files("mirage_app.logic").joinpath("phrases", name).read_text(encoding="utf-8"))


def _as_slots(value: Any, where: str) -> Slot | str | Mapping[str, Any]:
    """JSON lists become tuples (slots are concatenated with `+`), daypart maps are checked to be complete."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        if set(value) != DAYPART_KEYS:
            raise ValueError(f"{where}: a daypart map needs exactly {sorted(DAYPART_KEYS)}, got {sorted(value)}")
        return {key: _as_slots(item, f"{where}.{key}") for key, item in value.items()}
    return value


def load_phrasebook(name: str) -> Phrasebook:
    data = _read(name)
    expected = {f.name for f in fields(Phrasebook)}
    if set(data) != expected:
        raise ValueError(f"{name}: missing {sorted(expected - set(data))}, unknown {sorted(set(data) - expected)}")
    return Phrasebook(**{key: _as_slots(value, f"{name}:{key}") for key, value in data.items()})


def load_emoji(name: str = "emoji.json") -> EmojiSets:
    data = _read(name)
    if set(data["phases"]) != set(PHASES):
        raise ValueError(f"{name}: emoji are needed for exactly the phases {sorted(PHASES)}")
    by_phase = {phase: _as_slots(value, f"{name}:{phase}") for phase, value in data["phases"].items()}
    return EmojiSets(by_phase, tuple(data["outreach"]))


PORTUGUESE = load_phrasebook("pt-BR.json")
ENGLISH = load_phrasebook("en.json")
EMOJI = load_emoji()
