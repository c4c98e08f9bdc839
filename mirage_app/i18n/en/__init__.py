"""English. One catalog, kept in two modules by concern: screens and service errors."""

from mirage_app.i18n.en.errors import ERRORS
from mirage_app.i18n.en.screens import SCREENS

CATALOG: dict[str, str] = {**SCREENS, **ERRORS}
