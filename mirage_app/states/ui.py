"""UI-wide state: language, service badges (demo, offline generator, health)."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex.event import EventSpec

from mirage_app.i18n import DEFAULT_LOCALE, catalog, normalise_locale
from mirage_app.services.health import check_health

log = logging.getLogger("mirage.ui")


def unexpected_error(exception: Exception) -> EventSpec:
    """The backend's exception handler (`rx.App(backend_exception_handler=...)`): an event handler that raised
    something other than a ServiceError is logged with its traceback, and the page shows only a generic message in
    its language (never the exception's text, which can name code and data)."""
    log.error("unhandled error in an event handler", exc_info=exception)
    return UiState.show_unexpected_error()


class UiState(rx.State):
    locale: str = rx.Cookie(DEFAULT_LOCALE, name="mirage_locale", max_age=365 * 24 * 3600, same_site="lax")
    demo: bool = False
    llm_offline: bool = False
    health_status: str = "unknown"
    health_checks: dict[str, bool] = {}

    @rx.var
    def tr(self) -> dict[str, str]:
        return catalog(self.locale)

    @rx.var
    def lang(self) -> str:
        return normalise_locale(self.locale)

    @rx.event
    def show_unexpected_error(self):
        return rx.toast.error(self.tr["error.generic"], id="backend_error")

    @rx.event
    def set_locale(self, locale: str) -> None:
        self.locale = normalise_locale(locale)

    @rx.event(background=True)
    async def load_health(self) -> None:
        report = await asyncio.to_thread(check_health)
        async with self:
            self.demo = report["demo"]
            self.llm_offline = report["llm"] == "offline"
            self.health_status = report["status"]
            self.health_checks = {name: check["ok"] for name, check in report["checks"].items()}


def t(key: str) -> rx.Var:
    """A translated string that follows the operator's language live."""
    return UiState.tr[key]
