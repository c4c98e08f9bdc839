"""Locale helpers shared by prompts, the offline generator and opt-out texts.

Mirage writes canned text in pt-BR (the default) and English; any other locale gets pt-BR canned text, while
LLM prompts simply name the requested language.
"""

from __future__ import annotations

DEFAULT_LOCALE = "pt-BR"


def is_english(locale: str | None) -> bool:
    return (locale or DEFAULT_LOCALE).strip().lower().startswith("en")


def language_name(locale: str | None) -> str:
    """The language a model must write in, as named inside a prompt."""
    tag = (locale or DEFAULT_LOCALE).strip()
    lowered = tag.lower().replace("_", "-")
    if lowered in ("pt", "pt-br"):
        return "Brazilian Portuguese (pt-BR)"
    if lowered.startswith("pt"):
        return f"Portuguese ({tag})"
    if lowered.startswith("en"):
        return "English"
    return f"the language of locale {tag!r}"
