"""The one confirmation dialog for every destructive action: what will happen, to what, and a clear way out.

A page state mixes in `states.confirming.ConfirmDelete` (its `ConfirmView`, filled from the service's `Impact`, opens
the dialog); Confirm runs the page's delete, which calls the service (the service applies the rule again).
"""

from __future__ import annotations

import reflex as rx

from mirage_app.states.ui import t


def confirm_dialog(view: rx.Var, on_confirm, on_cancel, id_prefix: str) -> rx.Component:
    """`view` is the page state's `ConfirmView` var; `on_cancel` must close it (set it back to `ConfirmView()`): Cancel
    and Escape both call it (so does Confirm, after `on_confirm`)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(view.title),
            rx.alert_dialog.description(
                rx.cond(
                    view.blocked,
                    t("confirm.blocked"),
                    rx.cond(view.archive, t("confirm.archive_note"), t("confirm.irreversible")),
                ),
                size="2",
            ),
            rx.cond(
                view.lines.length() > 0,
                rx.vstack(
                    rx.foreach(view.lines, lambda line: rx.text("• ", line, size="2")),
                    spacing="1",
                    padding_y="0.75em",
                    id=f"{id_prefix}-impact",
                ),
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(t("common.cancel"), variant="soft", color_scheme="gray"),
                ),
                rx.cond(
                    view.blocked,
                    rx.fragment(),
                    rx.alert_dialog.action(
                        rx.button(
                            view.confirm_label, color_scheme="red", on_click=on_confirm, id=f"{id_prefix}-confirm"
                        ),
                    ),
                ),
                justify="end",
                spacing="3",
                width="100%",
            ),
            max_width="480px",
            id=f"{id_prefix}-dialog",
        ),
        open=view.open,
        # Nothing opens it from the browser (there is no trigger): a change is always a close.
        on_open_change=lambda _is_open: on_cancel,
    )
