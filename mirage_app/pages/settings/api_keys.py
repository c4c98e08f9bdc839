"""The API keys tab: create a key (its secret is shown once), see when each was used, revoke."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.field_errors import outline
from mirage_app.components.notice import notice
from mirage_app.pages.settings.cards import danger_button, locked, settings_card
from mirage_app.states.settings import ApiKeyRow, SettingsState
from mirage_app.states.ui import t


def _key_row(k: rx.Var[ApiKeyRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(k.name),
        rx.table.cell(rx.code(k.display)),
        rx.table.cell(k.created),
        rx.table.cell(k.last_used),
        rx.table.cell(
            rx.cond(
                k.revoked,
                rx.badge(t("settings.revoked"), color_scheme="gray"),
                danger_button("settings.revoke", "key:" + k.id, class_name="key-revoke"),
            )
        ),
    )


def api_keys_card() -> rx.Component:
    return settings_card(
        "settings.api_keys",
        rx.text(t("settings.api_keys_hint"), size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="name",
                    placeholder=t("settings.key_name"),
                    id="key-name",
                    disabled=locked(),
                    **outline(SettingsState.error_field, "name"),
                ),
                rx.button(
                    rx.icon("key-round", size=16),
                    t("settings.create_key"),
                    type="submit",
                    id="key-create",
                    disabled=locked(),
                ),
                wrap="wrap",
            ),
            on_submit=SettingsState.create_key,
        ),
        field_error(SettingsState.key_error, "key-error"),
        rx.cond(
            SettingsState.new_key != "",
            notice(
                "key",
                rx.vstack(rx.text(t("settings.key_once")), rx.code(SettingsState.new_key, id="new-api-key")),
                color="amber",
            ),
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(t(k))
                            for k in ("settings.key_name", "settings.key", "settings.created", "settings.last_used", "")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(SettingsState.key_rows, _key_row)),
                width="100%",
                id="keys-table",
            ),
            class_name="table-scroll",
        ),
    )
