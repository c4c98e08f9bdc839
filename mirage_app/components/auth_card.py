"""The centred card used by the sign-in and invitation pages."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.layout import language_select


def field_error(message: rx.Var, element_id: str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", size="1", width="100%", id=element_id),
    )


def auth_card(title: rx.Var, subtitle: rx.Var, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.box(class_name="brand-mark"), rx.heading("Mirage", size="6"), align="center", spacing="3"),
                rx.heading(title, size="5", id="page-title"),
                rx.text(subtitle, color_scheme="gray", size="2"),
                *children,
                rx.box(language_select(), width="100%", padding_top="0.5em"),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="min(420px, 92vw)",
        ),
        min_height="100vh",
        class_name="auth-bg",
    )
