"""Instance (WhatsApp number) widgets shared by `/` and `/instances`."""

from __future__ import annotations

import reflex as rx

from mirage_app.states.ui import t

STATUS_COLORS = {
    "connected": "grass",
    "connecting": "amber",
    "creating": "amber",
    "disconnected": "gray",
    "error": "red",
    "paused": "orange",
}


def status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    """Status with its colour; `label` is already translated by the page state."""
    return rx.badge(
        rx.box(class_name=rx.cond(status == "connected", "dot dot-ok", "dot dot-idle")),
        label,
        color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"),
        variant="soft",
        class_name="status-badge",
    )


def stat(label_key: str, value: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="1", color_scheme="gray"),
        rx.text(value, size="4", weight="bold"),
        spacing="0",
    )


def server_line(row: rx.Var) -> rx.Component:
    """The Evolution server a number lives on, and — when that server is down, unlicensed or refuses the key —
    a badge that says so: the number is fine, its sends wait for the server (not a WhatsApp disconnect or ban)."""
    return rx.cond(
        row.server_name != "",
        rx.hstack(
            rx.icon("server", size=14),
            rx.text(row.server_name, size="1", color_scheme="gray", class_name="instance-server"),
            rx.cond(
                row.server_held,
                rx.tooltip(
                    rx.badge(
                        rx.icon("server-off", size=12),
                        row.server_health_label,
                        color_scheme=rx.cond(row.server_health == "license_required", "orange", "red"),
                        variant="outline",
                        class_name="server-held-badge",
                    ),
                    content=t("instances.server_held_hint"),
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
    )
