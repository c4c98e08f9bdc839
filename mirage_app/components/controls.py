"""Small controls several pages share: a pager under tables, the actions row of an editor dialog and the notice
above a form its reader may not change."""

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


def read_only_notice(can_change: rx.Var, text_key: str, element_id: str) -> rx.Component:
    """Said once above a form whose inputs are disabled for the signed-in role, so nobody hunts for why."""
    return rx.cond(~can_change, rx.callout(t(text_key), icon="eye", color_scheme="gray", size="1", id=element_id))


def dialog_actions(on_save, save_id: str) -> rx.Component:
    """Cancel (closes the dialog) and Save (runs `on_save`), right-aligned."""
    return rx.hstack(
        rx.dialog.close(rx.button(t("common.cancel"), variant="soft", color_scheme="gray")),
        rx.button(t("common.save"), on_click=on_save, id=save_id),
        justify="end",
        width="100%",
    )
