"""Errors beside the field they are about: a form's save keeps the field the service named (`Outcome.error_field`),
and that field shows the message under itself with a red outline (the form's callout keeps errors of no field)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def labelled(message: str, label: str) -> str:
    """ "Limite diário: digite um número inteiro de 0 a 500." — the message says which field it is about."""
    return f"{label}: {message}" if label and message else message


def field_message(error_field: rx.Var, error: rx.Var, name: str, element_id: str) -> rx.Component:
    """The message under the input `name` when the last failure named it."""
    return rx.cond(
        (error_field == name) & (error != ""),
        rx.text(error, size="1", color_scheme="red", id=element_id, class_name="field-error"),
    )


def outline(error_field: rx.Var, name: str) -> dict[str, Any]:
    """Props that mark the input `name` when the last failure named it."""
    return {
        "color_scheme": rx.cond(error_field == name, "red", "gray"),
        "aria_invalid": rx.cond(error_field == name, "true", "false"),
        "variant": rx.cond(error_field == name, "soft", "surface"),
    }
