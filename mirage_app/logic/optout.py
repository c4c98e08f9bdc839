"""Opt-out keyword matching and the texts that go with it (SPEC §7 outreach, §9; peers-and-practices §6.2).

A message opts out when, after folding (case, accents, punctuation and emoji removed), a keyword is the whole
message or its first word(s): "Pare!", "pare por favor", " stop " opt out; "não pare de mandar" and "parede"
do not. Matching only at the start keeps ordinary sentences that merely contain the word from triggering.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from mirage_app.logic.locales import is_english

DEFAULT_OPTOUT_KEYWORDS: tuple[str, ...] = ("SAIR", "PARAR", "PARE", "STOP", "CANCELAR", "DESCADASTRAR")


@lru_cache(maxsize=8192)  # the same texts come back: keywords on every message, a round's last bodies on every turn
def fold(text: str) -> str:
    """Comparable form: casefolded, accents stripped, punctuation/symbols/emoji turned into spaces, spaces
    collapsed. Letters and digits of any script are kept."""
    # NFKD before casefolding too: compatibility forms (𝐒𝐓𝐎𝐏, ℠, Ⓢ) decompose to plain capitals.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # combining accent marks
            continue
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())


def matched_keyword(text: str, keywords: Iterable[str] = DEFAULT_OPTOUT_KEYWORDS) -> str | None:
    """The configured keyword (as written by the operator) that makes `text` an opt-out, for the audit log."""
    folded = fold(text)
    if not folded:
        return None
    for keyword in keywords:
        key = fold(keyword)
        if key and (folded == key or folded.startswith(key + " ")):
            return keyword
    return None


def is_optout(text: str, keywords: Iterable[str] = DEFAULT_OPTOUT_KEYWORDS) -> bool:
    """True when the message asks to stop receiving messages (keyword as whole message or first word)."""
    return matched_keyword(text, keywords) is not None


def confirmation_text(locale: str | None = "pt-BR") -> str:
    """The single confirmation sent after an opt-out."""
    if is_english(locale):
        return "You won't receive any more messages from us. Thank you!"
    return "Você não receberá mais mensagens nossas. Obrigado!"


def optout_hint(locale: str | None = "pt-BR") -> str:
    """How to stop receiving messages; every outreach opener carries it."""
    if is_english(locale):
        return "If you'd rather not get messages from us, just reply STOP."
    return "Se não quiser mais receber mensagens, é só responder SAIR."


_HINT_PATTERNS = {
    "en": re.compile(r"\b(?:reply|text|send|type|write)(?: with)? stop\b"),
    "pt": re.compile(r"\b(?:respond|digit|envi|mand|escrev)(?:a|e|ar|er|ir)? sair\b"),
}


def with_optout_hint(text: str, locale: str | None = "pt-BR") -> str:
    """`text` plus the opt-out hint unless it already says how to stop (a guard for LLM-written openers)."""
    pattern = _HINT_PATTERNS["en" if is_english(locale) else "pt"]
    if pattern.search(fold(text)):
        return text
    return f"{text.rstrip()} {optout_hint(locale)}"


# How a revocation that came from a suppression names its source (the contact's `consent_source` and the consent
# history): an opt-out message as "optout:<keyword>", the operator's suppress command as its reason ("operator"
# when none was given). Screens read these through `suppression_source`, never as stored.
OPTOUT_SOURCE_PREFIX = "optout:"
OPERATOR_SOURCE = "operator"


def optout_source(keyword: str) -> str:
    return f"{OPTOUT_SOURCE_PREFIX}{keyword}"


def suppression_source(source: str) -> tuple[str, str] | None:
    """("optout", keyword) or ("operator", "") for a source a suppression wrote; None for a person's own words."""
    if source.startswith(OPTOUT_SOURCE_PREFIX):
        return "optout", source[len(OPTOUT_SOURCE_PREFIX) :]
    if source == OPERATOR_SOURCE:
        return "operator", ""
    return None
