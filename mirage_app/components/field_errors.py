"""Errors beside the field they are about: a form's save keeps the field the service named (`Outcome.error_field`,
worded by `logic.form_fields.named_error`), and that field shows the message under itself with a red outline (the
form's callout keeps errors of no field)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def field_message(error_field: rx.Var, error: rx.Var, name: str, element_id: str) -> rx.Component:
    """The message under the input `name` when the last failure named it."""
    return rx.cond(
        (error_field == name) & (error != ""),
        rx.text(error, size="1", color_scheme="red", id=element_id, class_name="field-error"),
    )


def outline(error_field: rx.Var, name: str | rx.Var, class_name: str = "") -> dict[str, Any]:
    """Props that mark the input `name` (a Var where each row has its own, "sat." + "pause_min") while the last
    failure names it: red tint, red outline (`.input-invalid`, assets/styles.css) and aria-invalid, so the eye and
    a screen reader find it. `class_name`: the input's own classes, kept beside the mark."""
    wrong = error_field == name
    return {
        "class_name": rx.cond(wrong, f"{class_name} input-invalid".strip(), class_name),
        "color_scheme": rx.cond(wrong, "red", "gray"),
        "aria_invalid": rx.cond(wrong, "true", "false"),
        "variant": rx.cond(wrong, "soft", "surface"),
    }
