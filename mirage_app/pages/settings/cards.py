"""What every settings tab is built from: a titled card, and the gate in front of admin-only tabs."""

from __future__ import annotations

import reflex as rx

from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t


def settings_card(title_key: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(t(title_key), size="4"), *children, spacing="3", width="100%"), **props)


def admin_only(component: rx.Component) -> rx.Component:
    """Users and API keys: admins with MFA on see the tab; others see why not."""
    return rx.cond(
        AuthState.is_admin,
        rx.cond(
            AuthState.mfa_enabled,
            component,
            rx.callout(t("permission.mfa_required"), icon="shield-alert", color_scheme="amber"),
        ),
        rx.callout(t("permission.role"), icon="lock", color_scheme="gray"),
    )
