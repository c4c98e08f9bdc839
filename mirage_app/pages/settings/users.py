"""The users tab: invite people, change roles, end a user's sessions, deactivate, revoke pending invitations."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.field_errors import outline
from mirage_app.components.notice import notice
from mirage_app.pages.settings.cards import danger_button, locked, settings_card
from mirage_app.states.settings import SettingsState, UserRow
from mirage_app.states.ui import t

ROLES = ["admin", "operator", "viewer"]


def _role_items() -> list[rx.Component]:
    return [rx.select.item(t(f"role.{role}"), value=role) for role in ROLES]


def _role_select(row: rx.Var[UserRow]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=t("settings.role")),
        rx.select.content(*_role_items()),
        value=row.role,
        on_change=lambda role: SettingsState.change_role(row.id, role),
        size="1",
        disabled=~row.active | locked(),
    )


def users_card() -> rx.Component:
    invite_form = rx.form(
        rx.hstack(
            rx.input(
                name="email",
                input_mode="email",
                placeholder=t("settings.email_placeholder"),
                id="invite-email",
                width="min(260px, 100%)",
                disabled=locked(),
                **outline(SettingsState.error_field, "email"),
            ),
            rx.select.root(
                rx.select.trigger(id="invite-role", aria_label=t("settings.role")),
                rx.select.content(*_role_items()),
                name="role",
                default_value="operator",
                disabled=locked(),
            ),
            rx.button(
                rx.icon("send", size=16), t("settings.invite"), type="submit", id="invite-send", disabled=locked()
            ),
            wrap="wrap",
        ),
        on_submit=SettingsState.invite,
    )
    link = rx.cond(
        SettingsState.invite_link != "",
        notice(
            "link", rx.vstack(rx.text(t("settings.invite_link")), rx.code(SettingsState.invite_link, id="invite-link"))
        ),
    )
    users_table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k))
                    for k in ("settings.email", "settings.role", "settings.mfa_short", "settings.last_login", "")
                ]
            )
        ),
        rx.table.body(
            rx.foreach(
                SettingsState.user_rows,
                lambda u: rx.table.row(
                    rx.table.cell(
                        rx.vstack(rx.text(u.email), rx.text(u.name, size="1", color_scheme="gray"), spacing="0")
                    ),
                    rx.table.cell(_role_select(u)),
                    rx.table.cell(rx.cond(u.mfa_enabled, "✓", "—")),
                    rx.table.cell(u.last_login),
                    rx.table.cell(
                        rx.cond(
                            u.active,
                            rx.hstack(
                                danger_button(
                                    "settings.end_sessions", "sessions_of:" + u.id, class_name="user-end-sessions"
                                ),
                                danger_button("settings.deactivate", "user:" + u.id, class_name="user-deactivate"),
                                spacing="2",
                                wrap="wrap",
                            ),
                            rx.badge(t("settings.inactive"), color_scheme="gray"),
                        )
                    ),
                ),
            )
        ),
        width="100%",
        id="users-table",
    )
    invitations = rx.cond(
        SettingsState.invitation_rows.length() > 0,
        rx.vstack(
            rx.text(t("settings.invitations"), weight="medium"),
            rx.foreach(
                SettingsState.invitation_rows,
                lambda i: rx.hstack(
                    rx.text(i.email),
                    rx.badge(i.role),
                    rx.badge(i.status_label, variant="outline"),
                    rx.text(i.expires, size="1", color_scheme="gray"),
                    rx.spacer(),
                    rx.cond(
                        i.status == "pending",
                        danger_button("settings.revoke", "invitation:" + i.id, class_name="invitation-revoke"),
                    ),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
            ),
            width="100%",
        ),
    )
    return settings_card(
        "settings.users",
        invite_form,
        field_error(SettingsState.invite_error, "invite-error"),
        link,
        rx.box(users_table, class_name="table-scroll"),
        invitations,
    )
