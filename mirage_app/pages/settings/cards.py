"""What every settings tab is built from: a titled card, the gate in front of admin-only tabs, and the mark on an
input a refused form is about."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.notice import notice
from mirage_app.states.auth import AuthState
from mirage_app.states.settings import SettingsState
from mirage_app.states.ui import t


def settings_card(title_key: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(t(title_key), size="4"), *children, spacing="3", width="100%"), **props)


def admin_only(component: rx.Component) -> rx.Component:
    """Users and API keys: admins see the tab; without two-factor they still see the lists, with the way to turn
    it on (changing anything needs it). Others see which role the tab is for."""
    return rx.cond(
        AuthState.is_admin,
        rx.vstack(
            rx.cond(
                ~AuthState.mfa_enabled,
                notice(
                    "shield-alert",
                    rx.hstack(
                        rx.text(t("settings.mfa_needed")),
                        rx.button(
                            rx.icon("shield-plus", size=14),
                            t("settings.mfa_enable"),
                            size="1",
                            on_click=SettingsState.set_tab("security"),
                            class_name="mfa-link",
                        ),
                        align="center",
                        spacing="3",
                        wrap="wrap",
                    ),
                    color="amber",
                    width="100%",
                ),
            ),
            component,
            spacing="3",
            width="100%",
        ),
        notice(
            "lock",
            rx.text(
                t("settings.admins_only"), " ", t("not_allowed.yours"), " ", rx.text.strong(AuthState.role_label), "."
            ),
            color="gray",
            class_name="admins-only",
        ),
    )


def marked(field: str) -> dict:
    """Props of the input for `field`: outlined in red, and `aria-invalid`, while the last error is about it."""
    wrong = SettingsState.invalid_field == field
    return {"class_name": rx.cond(wrong, "input-invalid", ""), "aria_invalid": wrong}
