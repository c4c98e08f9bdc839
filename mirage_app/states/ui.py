"""UI-wide state: language, service badges (demo, offline generator, health)."""

from __future__ import annotations

import asyncio

import reflex as rx

from mirage_app.i18n import DEFAULT_LOCALE, catalog, normalise_locale
from mirage_app.services.health import check_health


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
