"""Translations: one catalog per locale, pt-BR first. Keys are dotted; every catalog has the same keys
(a unit test enforces it), so no screen ever shows a raw key."""

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


def translate(key: str, locale: str | None = None, **params: object) -> str:
    catalog = LOCALES[normalise_locale(locale)]
    text = catalog.get(key) or PT_BR.get(key) or key
    return text.format(**params) if params else text
