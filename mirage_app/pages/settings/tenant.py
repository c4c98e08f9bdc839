"""The tenant tab: timezone and language, pacing, quiet hours, warm-up — the defaults every conversation uses —
and how long raw webhook payloads and message bodies are kept."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.controls import read_only_notice
from mirage_app.components.field_errors import outline
from mirage_app.pages.settings.cards import settings_card
from mirage_app.states.auth import AuthState
from mirage_app.states.settings import SettingsState
from mirage_app.states.ui import t


def _tenant_input(key: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(f"tenant.{key}"), size="2", weight="medium"),
        rx.input(
            value=getattr(SettingsState.tenant, key),
            on_change=lambda v: SettingsState.set_tenant_field(key, v),
            id=f"tenant-{key}",
            disabled=~AuthState.is_admin,  # only admins change the tenant's defaults; the others read them
            aria_label=t(f"tenant.{key}"),
            **outline(SettingsState.error_field, key),
            **props,
        ),
        spacing="1",
    )


def _tenant_switch(key: str) -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=getattr(SettingsState.tenant, key),
            id=f"tenant-{key}",
            on_change=lambda v: SettingsState.set_tenant_field(key, v),
            disabled=~AuthState.is_admin,
        ),
        rx.text(t(f"tenant.{key}"), size="2"),
        align="center",
    )


def tenant_card() -> rx.Component:
    return settings_card(
        "settings.tab.tenant",
        rx.text(t("settings.tenant_hint"), size="2", color_scheme="gray"),
        read_only_notice(AuthState.is_admin, "settings.tenant_read_only", "tenant-read-only"),
        rx.grid(
            _tenant_input("timezone"),
            _tenant_input("locale"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        rx.heading(t("tenant.pacing"), size="3"),
        rx.grid(
            _tenant_input("min_delay_s", type="number"),
            _tenant_input("max_delay_s", type="number"),
            _tenant_input("hourly_burst_limit", type="number"),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
        rx.hstack(
            _tenant_switch("humanize"),
            _tenant_switch("allow_bot_to_bot"),
            _tenant_switch("quiet_hours_enabled"),
            spacing="6",
            wrap="wrap",
        ),
        rx.cond(
            SettingsState.tenant.quiet_hours_enabled,
            rx.grid(
                _tenant_input("quiet_start", type="time"),
                _tenant_input("quiet_end", type="time"),
                columns="2",
                spacing="4",
                width="100%",
            ),
        ),
        rx.heading(t("tenant.warmup"), size="3"),
        rx.text(t("tenant.warmup_hint"), size="1", color_scheme="gray"),
        rx.grid(
            _tenant_input("day1", type="number"),
            _tenant_input("growth", type="number", step="0.1"),
            _tenant_input("first_week_cap", type="number"),
            _tenant_input("max_daily", type="number"),
            _tenant_input("settle_hours_after_pairing", type="number"),
            columns=rx.breakpoints(initial="2", sm="5"),
            spacing="4",
            width="100%",
        ),
        rx.heading(t("tenant.retention"), size="3"),
        rx.text(t("tenant.retention_hint"), size="1", color_scheme="gray"),
        rx.grid(
            _tenant_input("webhook_retention_days", type="number"),
            _tenant_input("body_retention_days", type="number"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        rx.callout(t("tenant.safety_hint"), icon="shield", color_scheme="gray", size="1"),
        field_error(SettingsState.tenant_error, "tenant-error"),
        rx.cond(AuthState.is_admin, rx.button(t("common.save"), on_click=SettingsState.save_tenant, id="tenant-save")),
    )
