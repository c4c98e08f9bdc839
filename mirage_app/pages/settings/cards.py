"""What every settings tab is built from: a titled card, the gate in front of admin-only tabs, and the red button
that ends something (a user's access or sessions, an invitation, a key, one's own sessions) after asking."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.layout import your_role
from mirage_app.components.notice import notice
from mirage_app.states.auth import AuthState
from mirage_app.states.settings import SettingsState
from mirage_app.states.ui import t


def settings_card(title_key: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(t(title_key), size="4"), *children, spacing="3", width="100%"), **props)


def locked() -> rx.Var:
    """Changing users or API keys needs two-factor; the lists stay readable without it."""
    return ~AuthState.mfa_enabled


def danger_button(label_key: str, target: rx.Var | str, *, needs_mfa: bool = True, **props) -> rx.Component:
    """Deactivate / Revoke / Sign out on a row: asks first (`target` is "<kind>:<id>", see
    `states.settings.ENDINGS`). Ending one's own sessions (`needs_mfa=False`) is open to everyone."""
    return rx.button(
        t(label_key),
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=SettingsState.ask_delete(target),
        disabled=locked() if needs_mfa else False,
        **props,
    )


def ending_dialog() -> rx.Component:
    """The one confirmation of the users, API keys and sessions cards."""
    return confirm_dialog(SettingsState.confirm, SettingsState.delete, SettingsState.cancel_delete, "settings-end")


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
                            # To the security tab's address (not only its tab): a reload or "back" keeps the place.
                            on_click=rx.redirect("/settings?tab=security"),
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
        notice("lock", your_role(t("settings.admins_only")), color="gray", class_name="admins-only"),
    )
