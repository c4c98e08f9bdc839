"""Any unknown route: "page not found" in the visitor's language — inside the app's shell when signed in, on the
sign-in card otherwise (Reflex's own 404 is a bare English line with no way back)."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import auth_card
from mirage_app.components.layout import page_layout
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t


def _missing_path() -> rx.Component:
    return rx.code(rx.State.router.url.path, id="missing-path")


def _signed_in() -> rx.Component:
    return page_layout(
        "page.not_found.title",
        None,
        rx.center(
            rx.vstack(
                rx.box(rx.icon("map-pin-off", size=28), class_name="empty-icon"),
                rx.text(t("not_found.hint"), " ", _missing_path(), size="2", text_align="center"),
                rx.link(rx.button(rx.icon("house", size=16), t("common.go_home")), href="/", id="not-found-home"),
                align="center",
                spacing="3",
            ),
            class_name="empty-state",
            id="not-found",
        ),
    )


def _signed_out() -> rx.Component:
    return auth_card(
        t("page.not_found.title"),
        t("not_found.signed_out"),
        rx.text(t("not_found.hint"), " ", _missing_path(), size="2"),
        rx.link(
            rx.button(rx.icon("log-in", size=16), t("login.submit"), width="100%"),
            href="/login",
            id="not-found-login",
            width="100%",
        ),
    )


@rx.page(route="404", title="Mirage", on_load=AuthState.identify)
def not_found_page() -> rx.Component:
    return rx.cond(AuthState.user_email != "", _signed_in(), _signed_out())
