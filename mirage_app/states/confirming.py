"""The ask / cancel / confirm of every destructive action, written once: a page state mixes in `ConfirmDelete` and
defines only what differs (which impact to read, how to word it, what to delete).

The dialog itself is `components.confirm.confirm_dialog(State.confirm, State.delete, State.cancel_delete, prefix)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from mirage_app.base.impact import Impact
from mirage_app.i18n import formats
from mirage_app.states.auth import Outcome


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
    or any other `confirm.verb.<verb>` key of the catalogs (remove, revoke, deactivate...)."""
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


class ConfirmDelete(rx.State, mixin=True):
    """`ask_delete(id)` reads what the delete would do and opens the dialog; `delete()` runs it on the id asked
    about (the service applies the same rule again); `cancel_delete()` closes the dialog."""

    confirm: ConfirmView = ConfirmView()

    def _impact(self, target_id: str) -> Outcome[Impact]:
        """The service's `<thing>_impact`, through `self._call`."""
        raise NotImplementedError

    def _view(self, impact: Impact, target_id: str) -> ConfirmView:
        return confirm_view(self.tr, impact, target_id)

    def _delete(self, target_id: str):
        """Delete (or archive) `target_id`, reload the page's rows and return the feedback."""
        raise NotImplementedError

    @rx.event
    def ask_delete(self, target_id: str):
        impact = self._impact(target_id)
        if not impact.ok:
            return impact.feedback
        self.confirm = self._view(impact.value, target_id)
        return None

    @rx.event
    def cancel_delete(self):
        self.confirm = ConfirmView()

    @rx.event
    def delete(self):
        target_id, self.confirm = self.confirm.target_id, ConfirmView()
        return self._delete(target_id)
