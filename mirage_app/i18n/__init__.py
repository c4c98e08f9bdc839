"""Translations: one catalog per locale, pt-BR first. Keys are dotted.

Screens and service errors share the catalogs: a service raises an error code, the API answers with its English
text and a page shows it in the reader's language. Unit tests check that every key has a pt-BR text and an English
one, so no screen ever shows a raw key."""

from __future__ import annotations

from mirage_app.i18n.en import CATALOG as EN
from mirage_app.i18n.pt_br import CATALOG as PT_BR

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
    """Every text of one language."""
    return EN if normalise_locale(locale) == "en" else PT_BR


def translate(key: str, locale: str | None = None, **params: object) -> str:
    text = catalog(locale).get(key) or key
    return text.format(**params) if params else text
