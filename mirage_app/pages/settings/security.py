"""The security tab: the password, and MFA enrolment with its recovery codes."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.notice import notice
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.settings import SettingsState
from mirage_app.states.ui import t


def password_card() -> rx.Component:
    return settings_card(
        "settings.password",
        rx.cond(SettingsState.first_run, rx.callout(t("settings.first_run"), icon="key-round", color_scheme="amber")),
        rx.form(
            rx.vstack(
                rx.input(
                    name="current_password",
                    type="password",
                    placeholder=t("settings.current_password"),
                    id="current-password",
                    width="100%",
                    auto_complete="current-password",
                ),
                rx.input(
                    name="new_password",
                    type="password",
                    placeholder=t("settings.new_password"),
                    id="new-password",
                    width="100%",
                    auto_complete="new-password",
                ),
                rx.input(
                    name="confirm",
                    type="password",
                    placeholder=t("invite.confirm"),
                    id="confirm-password",
                    width="100%",
                    auto_complete="new-password",
                ),
                field_error(SettingsState.password_error, "password-error"),
                rx.button(t("settings.change_password"), type="submit", id="change-password"),
                spacing="2",
                width="100%",
                max_width="420px",
            ),
            on_submit=SettingsState.change_password,
            reset_on_submit=True,
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
