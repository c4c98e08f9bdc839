"""The emergency stop: the red banner on every page while it is on (with Resume for admins), and the switch that
asks for a reason before it stops every send."""

from __future__ import annotations

import reflex as rx

from mirage_app.states.auth import AuthState
from mirage_app.states.emergency_stop import EmergencyStopState
from mirage_app.states.ui import t


def emergency_banner() -> rx.Component:
    return rx.cond(
        EmergencyStopState.stop_banner != "",
        rx.hstack(
            rx.icon("octagon-x", size=18),
            rx.text(EmergencyStopState.stop_banner, weight="medium", size="2", flex="1", min_width="0"),
            rx.cond(
                AuthState.is_admin,
                rx.button(
                    rx.icon("play", size=14),
                    t("emergency.resume"),
                    size="1",
                    variant="surface",
                    color_scheme="gray",
                    high_contrast=True,
                    on_click=EmergencyStopState.resume,
                    id="emergency-resume",
                ),
            ),
            align="center",
            wrap="wrap",
            spacing="3",
            width="100%",
            padding="0.75em 1em",
            margin_bottom="1em",
            border_radius="var(--radius-3)",
            background_color="var(--red-9)",
            color="white",
            role="alert",
            id="emergency-banner",
        ),
    )


def emergency_switch() -> rx.Component:
    """Admins only (the service checks it again); hidden while the stop is on (the banner offers Resume)."""
    return rx.cond(
        AuthState.is_admin & (EmergencyStopState.stop_banner == ""),
        rx.fragment(
            rx.button(
                rx.icon("octagon-x", size=16),
                t("emergency.stop"),
                color_scheme="red",
                variant="outline",
                on_click=EmergencyStopState.ask_stop,
                id="emergency-stop",
            ),
            _dialog(),
        ),
    )


def _dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(t("emergency.confirm_title")),
            rx.alert_dialog.description(t("emergency.confirm_body"), size="2"),
            rx.vstack(
                rx.text(t("emergency.reason"), size="2", weight="medium", as_="label", html_for="emergency-reason"),
                rx.input(
                    value=EmergencyStopState.stop_reason,
                    on_change=EmergencyStopState.set_stop_reason,
                    id="emergency-reason",
                    width="100%",
                    color_scheme=rx.cond(EmergencyStopState.stop_error != "", "red", "gray"),
                    aria_invalid=rx.cond(EmergencyStopState.stop_error != "", "true", "false"),
                ),
                rx.cond(  # the reason is the dialog's only field: every refusal is about it
                    EmergencyStopState.stop_error != "",
                    rx.text(
                        EmergencyStopState.stop_error,
                        size="1",
                        color_scheme="red",
                        class_name="field-error",
                        id="emergency-reason-error",
                    ),
                ),
                spacing="1",
                width="100%",
                padding_y="0.75em",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(t("common.cancel"), variant="soft", color_scheme="gray")),
                rx.button(
                    t("emergency.stop"),
                    color_scheme="red",
                    on_click=EmergencyStopState.confirm_stop,
                    id="emergency-stop-confirm",
                ),
                justify="end",
                spacing="3",
                width="100%",
            ),
            max_width="480px",
            id="emergency-stop-dialog",
        ),
        open=EmergencyStopState.stop_dialog_open,
        on_open_change=EmergencyStopState.set_stop_dialog_open,
    )
