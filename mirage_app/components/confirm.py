"""The one confirmation dialog for every destructive action: what will happen, to what, and a clear way out.

A page state keeps a `ConfirmView` (filled from the service's `Impact` by `confirm_view`) and opens the dialog by
setting it; Confirm runs the page's own handler, which calls the service (the service applies the rule again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from mirage_app.base.impact import Impact
from mirage_app.i18n import formats
from mirage_app.states.ui import t


@dataclass(frozen=True)
class ConfirmView:
    open: bool = False
    target_id: str = ""
    title: str = ""
    lines: list[str] = field(default_factory=list)  # one sentence per dependent, translated
    blocked: bool = False  # the action is refused until the blocking dependents are cleared
    archive: bool = False  # history is kept: "cannot be undone" would not be true
    confirm_label: str = ""  # "Excluir" / "Arquivar"


def confirm_view(tr: dict[str, str], impact: Impact, target_id: str, verb: str = "delete") -> ConfirmView:
    """The dialog's text for an impact, in the page's language. `verb` is "delete" (archive when history exists)
    or any `confirm.verb.<verb>` key (disconnect, remove...)."""
    verb = "archive" if impact.archive and verb == "delete" else verb
    # A kind may word an effect its own way ("impact.target.deleted": "{name} contacts leave the queue.").
    lines = [
        (
            tr.get(f"impact.{d.kind}.{d.effect.value}") or tr.get(f"impact.effect.{d.effect.value}", "{kind}: {name}")
        ).format(kind=formats.label(tr, "impact.kind", d.kind), name=d.name)
        for d in impact.dependents
    ]
    title = tr.get(f"confirm.title.{verb}", "{name}").format(name=impact.name)
    return ConfirmView(
        open=True,
        target_id=target_id,
        title=title,
        lines=lines,
        blocked=impact.blocked,
        archive=impact.archive,
        confirm_label=tr.get(f"confirm.verb.{verb}", verb),
    )


def confirm_dialog(view: rx.Var, on_confirm, on_cancel, id_prefix: str) -> rx.Component:
    """`view` is the page state's `ConfirmView` var; `on_cancel` must close it (set it back to `ConfirmView()`)."""
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
                    rx.button(t("common.cancel"), variant="soft", color_scheme="gray", on_click=on_cancel),
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
    )
