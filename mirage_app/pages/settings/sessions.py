"""The security tab's sessions card: where the person is signed in, and ending any session but this one."""

from __future__ import annotations

import reflex as rx

from mirage_app.pages.settings.cards import danger_button, settings_card
from mirage_app.states.settings import SessionRow, SettingsState
from mirage_app.states.ui import t

COLUMNS = (
    "settings.session_browser",
    "settings.session_ip",
    "settings.session_started",
    "settings.session_last_seen",
    "",
)


def _session_row(row: rx.Var[SessionRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.browser),
        rx.table.cell(rx.code(row.ip, variant="ghost")),
        rx.table.cell(row.started),
        rx.table.cell(row.last_seen),
        rx.table.cell(
            rx.cond(
                row.current,
                rx.badge(t("settings.session_current"), color_scheme="grass", class_name="session-current"),
                danger_button(
                    "settings.session_revoke", "session:" + row.id, needs_mfa=False, class_name="session-revoke"
                ),
            )
        ),
        class_name="session-row",
    )


def sessions_card() -> rx.Component:
    others = SettingsState.session_rows.length() > 1  # the current session is always listed
    return settings_card(
        "settings.sessions",
        rx.text(t("settings.sessions_hint"), size="2", color_scheme="gray"),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(k) if k else "") for k in COLUMNS])),
                rx.table.body(rx.foreach(SettingsState.session_rows, _session_row)),
                width="100%",
                id="sessions-table",
            ),
            class_name="table-scroll",
        ),
        rx.cond(
            others,
            rx.button(
                rx.icon("log-out", size=16),
                t("settings.sessions_revoke_others"),
                variant="soft",
                color_scheme="red",
                on_click=SettingsState.ask_delete("other_sessions:"),
                id="sessions-revoke-others",
                align_self="start",
            ),
            rx.text(t("settings.sessions_only_this"), size="2", color_scheme="gray", id="sessions-only-this"),
        ),
        id="sessions-card",
    )
