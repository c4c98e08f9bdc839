"""The Evolution servers tab: where the numbers live — health, capacity, drain and the admin's controls.

Everyone signed in sees the list (live, every few seconds); admins see the controls. Platform servers are shown
read-only: whoever runs Mirage manages them.
"""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.layout import empty_state
from mirage_app.components.servers import add_server_form, server_card, state_button
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.servers import ServerRow, ServersState
from mirage_app.states.ui import t

LIVE_REFRESH_MS = 5000


def _inline_editor(label_key: str, field: rx.Component, save: rx.Component, error, error_id: str, on_submit):
    """A one-field form inside a server card: label, field, Save / Cancel, the server's error under it."""
    return rx.form(
        rx.vstack(
            rx.text(t(label_key), size="2", weight="medium"),
            rx.hstack(
                field,
                save,
                rx.button(
                    t("common.cancel"),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ServersState.cancel_edit,
                ),
                wrap="wrap",
            ),
            field_error(error, error_id),
            spacing="1",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
    )


def _capacity_editor(row: rx.Var[ServerRow]) -> rx.Component:
    return _inline_editor(
        "settings.server_capacity",
        rx.input(
            name="capacity",
            type="number",
            default_value=row.capacity.to_string(),
            width="8em",
            id="server-capacity-input",
            auto_focus=True,
        ),
        rx.button(t("common.save"), type="submit", size="2", id="server-capacity-save"),
        ServersState.capacity_error,
        "server-capacity-error",
        ServersState.save_capacity,
    )


def _key_editor() -> rx.Component:
    return _inline_editor(
        "settings.server_new_key",
        rx.input(
            name="api_key",
            type="password",
            auto_complete="off",
            width="16em",
            max_width="100%",
            id="server-key-input",
            auto_focus=True,
        ),
        rx.button(
            rx.cond(ServersState.saving_key, rx.spinner(size="1")),
            t("common.save"),
            type="submit",
            disabled=ServersState.saving_key,
            id="server-key-save",
        ),
        ServersState.key_error,
        "server-key-error",
        ServersState.save_key,
    )


def _actions(row: rx.Var[ServerRow]) -> rx.Component:
    probe = rx.button(
        rx.cond(ServersState.probing_id == row.id, rx.spinner(size="1"), rx.icon("activity", size=14)),
        t("settings.server_probe"),
        size="1",
        variant="soft",
        disabled=ServersState.probing_id != "",
        on_click=ServersState.probe(row.id),
        class_name="server-probe",
    )
    own = rx.fragment(
        state_button(row, "active", "play", "settings.server_activate", "grass", ServersState.set_state),
        state_button(row, "draining", "arrow-down-to-line", "settings.server_drain", "amber", ServersState.set_state),
        state_button(row, "disabled", "circle-pause", "settings.server_disable", "gray", ServersState.set_state),
        rx.button(
            rx.icon("gauge", size=14),
            t("settings.server_edit_capacity"),
            size="1",
            variant="soft",
            on_click=ServersState.edit_capacity(row.id),
            class_name="server-edit-capacity",
        ),
        rx.button(
            rx.icon("key-round", size=14),
            t("settings.server_change_key"),
            size="1",
            variant="soft",
            on_click=ServersState.edit_key(row.id),
            class_name="server-change-key",
        ),
        rx.button(
            rx.icon("trash-2", size=14),
            t("settings.server_delete"),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=ServersState.ask_delete(row.id),
            class_name="server-delete",
        ),
    )
    return rx.cond(
        AuthState.is_admin,
        rx.vstack(
            rx.hstack(probe, rx.cond(row.own, own), wrap="wrap", spacing="2"),
            rx.cond(ServersState.capacity_edit_id == row.id, _capacity_editor(row)),
            rx.cond(ServersState.key_edit_id == row.id, _key_editor()),
            spacing="3",
            width="100%",
        ),
    )


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
