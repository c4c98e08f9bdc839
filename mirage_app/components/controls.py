"""Small controls several pages share: a pager under tables and the actions row of an editor dialog."""

from __future__ import annotations

import reflex as rx

from mirage_app.states.ui import t


def pager(total: rx.Var, label_key: str, on_previous, on_next) -> rx.Component:
    return rx.hstack(
        rx.text(total, " ", t(label_key), size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), on_click=on_previous, variant="soft", size="1"),
        rx.button(rx.icon("chevron-right", size=16), on_click=on_next, variant="soft", size="1"),
        width="100%",
    )


def dialog_actions(on_save, save_id: str) -> rx.Component:
    """Cancel (closes the dialog) and Save (runs `on_save`), right-aligned."""
    return rx.hstack(
        rx.dialog.close(rx.button(t("common.cancel"), variant="soft", color_scheme="gray")),
        rx.button(t("common.save"), on_click=on_save, id=save_id),
        justify="end",
        width="100%",
    )
