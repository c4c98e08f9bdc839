"""A persona's habits (logic.actions.Habits) as percent sliders with their number beside, each with its help text
and, after a refused save, its own error under it."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.event import EventSpec

from mirage_app.components.field_errors import field_message, outline
from mirage_app.logic.actions import Habits
from mirage_app.states.ui import t


def _habit(
    name: str,
    typed: rx.Var,
    slider: rx.Var,
    error_field: rx.Var,
    error: rx.Var,
    on_change: Callable[[str, rx.Var], EventSpec],
) -> rx.Component:
    field = f"habits.{name}"
    return rx.vstack(
        rx.hstack(
            rx.text(t(f"habits.{name}"), size="2", weight="medium"),
            rx.spacer(),
            rx.input(
                value=typed[name],
                on_change=lambda v: on_change(name, v),
                type="number",
                min=0,
                max=100,
                step=1,
                width="5.5rem",
                size="1",
                id=f"habit-{name}",
                aria_label=t(f"habits.{name}"),
                **outline(error_field, field),
            ),
            rx.text("%", size="1", color_scheme="gray"),
            align="center",
            width="100%",
            spacing="1",
        ),
        rx.slider(
            value=[slider[name]],
            min=0,
            max=100,
            step=1,
            size="1",
            on_change=lambda v: on_change(name, v),
            aria_label=t(f"habits.{name}"),
        ),
        rx.text(t(f"habits.{name}.help"), size="1", color_scheme="gray"),
        field_message(error_field, error, field, f"habit-{name}-error"),
        spacing="1",
        width="100%",
        class_name="habit",
    )


def habits_section(
    typed: rx.Var,
    slider: rx.Var,
    error_field: rx.Var,
    error: rx.Var,
    on_change: Callable[[str, rx.Var], EventSpec],
) -> rx.Component:
    """`typed`: habit → percent as typed; `slider`: habit → the same as a number (0 while it is not one)."""
    return rx.card(
        rx.vstack(
            rx.text(t("habits.title"), weight="medium"),
            rx.text(t("habits.hint"), size="1", color_scheme="gray"),
            rx.grid(
                *[_habit(n, typed, slider, error_field, error, on_change) for n in Habits.names()],
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="persona-habits",
    )
