"""Instance (WhatsApp number) widgets shared by `/` and `/instances`."""

from __future__ import annotations

import reflex as rx

from mirage_app.states.ui import t

STATUS_COLORS = {
    "connected": "grass",
    "connecting": "amber",
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
