"""Translations: one catalog per locale, pt-BR first. Keys are dotted.

The English texts of service errors live once, in `services.errors.MESSAGES` (the API answers with them); the
English catalog holds only the screens' own strings and `catalog("en")` merges both. Unit tests check that every
key has a pt-BR text and an English one, so no screen ever shows a raw key."""

from __future__ import annotations

from mirage_app.i18n.en import CATALOG as EN
from mirage_app.i18n.pt_br import CATALOG as PT_BR
from mirage_app.services.errors import MESSAGES

DEFAULT_LOCALE = "pt-BR"
LOCALES = {"pt-BR": PT_BR, "en": EN}
LOCALE_NAMES = {"pt-BR": "Português (Brasil)", "en": "English"}


def normalise_locale(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    if locale in LOCALES:
        return locale
    return "en" if locale.lower().startswith("en") else DEFAULT_LOCALE


def catalog(locale: str | None) -> dict[str, str]:
    """Every text of one language (merged at call time: services register their error codes when imported)."""
    code = normalise_locale(locale)
    return {**MESSAGES, **EN} if code == "en" else PT_BR


def translate(key: str, locale: str | None = None, **params: object) -> str:
    text = catalog(locale).get(key) or key
    return text.format(**params) if params else text
