"""The security tab: the password, and MFA enrolment with its recovery codes."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.field_errors import outline
from mirage_app.components.notice import notice
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.settings import SettingsState
from mirage_app.states.ui import t


def _first_run_next_step() -> rx.Component:
    """The first-run admin has chosen a password: what to do next, rather than staying on Settings."""
    return notice(
        "circle-check",
        rx.vstack(
            rx.text(t("settings.first_run_done"), weight="medium"),
            rx.hstack(
                rx.link(
                    rx.button(rx.icon("smartphone", size=16), t("settings.first_run_connect")),
                    href="/instances",
                    id="first-run-connect",
                ),
                rx.link(
                    rx.button(rx.icon("layout-dashboard", size=16), t("common.go_home"), variant="soft"),
                    href="/",
                    id="first-run-overview",
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
        ),
        color="grass",
        id="first-run-next",
    )


def _password_input(name: str, placeholder_key: str, input_id: str, auto_complete: str) -> rx.Component:
    return rx.input(
        name=name,
        type="password",
        placeholder=t(placeholder_key),
        aria_label=t(placeholder_key),
        id=input_id,
        width="100%",
        auto_complete=auto_complete,
        **outline(SettingsState.error_field, name),
    )


def password_card() -> rx.Component:
    return settings_card(
        "settings.password",
        rx.cond(SettingsState.first_run, rx.callout(t("settings.first_run"), icon="key-round", color_scheme="amber")),
        rx.cond(SettingsState.first_password_chosen, _first_run_next_step()),
        rx.form(
            rx.vstack(
                _password_input(
                    "current_password", "settings.current_password", "current-password", "current-password"
                ),
                _password_input("new_password", "settings.new_password", "new-password", "new-password"),
                rx.text(t("settings.password_rules"), size="1", color_scheme="gray", id="password-rules"),
                _password_input("confirm", "invite.confirm", "confirm-password", "new-password"),
                field_error(SettingsState.password_error, "password-error"),
                rx.button(t("settings.change_password"), type="submit", id="change-password"),
                spacing="2",
                width="100%",
                max_width="420px",
            ),
            on_submit=SettingsState.change_password,
        ),
    )


def mfa_card() -> rx.Component:
    enrol = rx.cond(
        SettingsState.mfa_qr != "",
        rx.vstack(
            rx.text(t("settings.mfa_scan"), size="2"),
            rx.hstack(
                rx.image(src=SettingsState.mfa_qr, width="180px", height="180px", class_name="qr", id="mfa-qr"),
                rx.vstack(
                    rx.text(t("settings.mfa_manual"), size="1", color_scheme="gray"),
                    rx.code(SettingsState.mfa_secret, id="mfa-secret", size="2"),
                    rx.form(
                        rx.hstack(
                            rx.input(name="code", placeholder="123456", id="mfa-code", auto_complete="one-time-code"),
                            rx.button(t("login.verify"), type="submit", id="mfa-confirm"),
                        ),
                        on_submit=SettingsState.confirm_mfa,
                    ),
                    field_error(SettingsState.mfa_error, "mfa-error"),
                    spacing="2",
                ),
                spacing="5",
                align="center",
                wrap="wrap",
            ),
        ),
        rx.button(
            rx.icon("shield-plus", size=16), t("settings.mfa_enable"), on_click=SettingsState.start_mfa, id="mfa-start"
        ),
    )
    manage = rx.vstack(
        rx.hstack(
            rx.badge(t("settings.mfa_active"), color_scheme="grass", id="mfa-status"),
            rx.text(t("settings.recovery_left"), ": ", SettingsState.recovery_left, size="2"),
        ),
        rx.form(
            rx.hstack(
                rx.input(name="code", placeholder=t("login.code"), id="mfa-manage-code"),
                rx.button(t("settings.regenerate_codes"), type="submit", variant="soft"),
            ),
            on_submit=SettingsState.regenerate_codes,
        ),
        rx.form(
            rx.hstack(
                rx.input(name="code", placeholder=t("login.code"), id="mfa-disable-code"),
                rx.button(t("settings.mfa_disable"), type="submit", color_scheme="red", variant="soft"),
            ),
            on_submit=SettingsState.disable_mfa,
        ),
        field_error(SettingsState.mfa_error, "mfa-error"),
        spacing="2",
    )
    codes = rx.cond(
        SettingsState.recovery_codes.length() > 0,
        notice(
            "key",
            rx.vstack(
                rx.text(t("settings.recovery_once"), weight="medium"),
                rx.grid(
                    rx.foreach(SettingsState.recovery_codes, lambda c: rx.code(c, class_name="recovery-code")),
                    columns="2",
                    spacing="2",
                    id="recovery-codes",
                ),
            ),
            color="amber",
        ),
    )
    return settings_card(
        "settings.mfa",
        rx.text(t("settings.mfa_hint"), size="2", color_scheme="gray"),
        rx.cond(AuthState.mfa_enabled, manage, enrol),
        codes,
    )
