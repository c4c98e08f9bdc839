"""The Evolution servers tab: where the numbers live — health, capacity, drain and the admin's controls.

Everyone signed in sees the list (live, every few seconds); admins see the controls. Platform servers are shown
read-only: whoever runs Mirage manages them.
"""

from __future__ import annotations

import reflex as rx

from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.layout import empty_state
from mirage_app.components.servers import (
    add_server_form,
    delete_button,
    edit_buttons,
    server_card,
    server_controls,
    state_button,
)
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.servers import ServerRow, ServersState
from mirage_app.states.ui import t

LIVE_REFRESH_MS = 5000


def _actions(row: rx.Var[ServerRow]) -> rx.Component:
    own = rx.fragment(
        state_button(row, "active", "play", "settings.server_activate", "grass", ServersState.set_state),
        state_button(row, "draining", "arrow-down-to-line", "settings.server_drain", "amber", ServersState.set_state),
        state_button(row, "disabled", "circle-pause", "settings.server_disable", "gray", ServersState.set_state),
        edit_buttons(ServersState, row),
        delete_button(ServersState.ask_delete(row.id)),
    )
    return rx.cond(AuthState.is_admin, server_controls(ServersState, row, rx.cond(row.own, own)))


def servers_card() -> rx.Component:
    listing = rx.cond(
        ServersState.server_rows.length() > 0,
        rx.vstack(
            rx.foreach(ServersState.server_rows, lambda row: server_card(row, _actions(row))),
            spacing="3",
            width="100%",
            id="server-list",
        ),
        rx.cond(
            ServersState.servers_loaded,
            empty_state("server", "settings.servers_empty_title", "settings.servers_empty_hint"),
            rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
        ),
    )
    return settings_card(
        "settings.servers",
        rx.text(t("settings.servers_hint"), size="2", color_scheme="gray"),
        listing,
        rx.cond(AuthState.is_admin, add_server_form(ServersState, ServersState.add_server)),
        confirm_dialog(ServersState.confirm, ServersState.delete, ServersState.cancel_delete, "server-delete"),
        rx.moment(interval=LIVE_REFRESH_MS, on_change=ServersState.refresh, display="none"),
        id="servers-card",
        width="100%",
    )
