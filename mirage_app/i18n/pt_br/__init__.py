"""Português (Brasil): the default language of the interface. One catalog, kept in two modules by concern: screens and service errors."""

from mirage_app.i18n.pt_br.errors import ERRORS
from mirage_app.i18n.pt_br.screens import SCREENS

CATALOG: dict[str, str] = {**SCREENS, **ERRORS}
