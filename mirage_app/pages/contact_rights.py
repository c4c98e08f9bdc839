"""A person's data rights on `/contacts` (LGPD Art. 18), for an admin whose session passed MFA: a menu on each
contact row downloads everything held about them (JSON, or a zip of one CSV per section) or erases it behind the
shared confirmation dialog. The services check the role again; failures show inline above the table and as a
toast, successes as a toast.
"""

from __future__ import annotations

import json

import reflex as rx

from mirage_app.base.impact import Impact
from mirage_app.base.permissions import Action
from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.services import contacts
from mirage_app.states.auth import AuthState, Outcome
from mirage_app.states.confirming import ConfirmDelete, ConfirmView, confirm_view
from mirage_app.states.ui import t


class ContactRightsState(ConfirmDelete, AuthState):
    rights_error: str = ""  # the last export / erase failure, shown inline above the table

    @rx.var
    def can_use_rights(self) -> bool:
        return Action.contacts_export.value in self.permissions or Action.contacts_erase.value in self.permissions

    @rx.var
    def can_erase(self) -> bool:
        return Action.contacts_erase.value in self.permissions

    @rx.event
    def export_json(self, contact_id: str):
        exported = self._call(contacts.export_person, contact_id, success="contacts.rights.exported",
                              error_to="rights_error")  # fmt: skip
        if not exported.ok:
            return exported.feedback
        data = exported.value
        body = json.dumps(data.as_json(), ensure_ascii=False, indent=2)
        return [
            rx.download(data=body, filename=f"{data.filename}.json", mime_type="application/json"),
            exported.feedback,
        ]

    @rx.event
    def export_zip(self, contact_id: str):
        exported = self._call(contacts.export_person, contact_id, success="contacts.rights.exported",
                              error_to="rights_error")  # fmt: skip
        if not exported.ok:
            return exported.feedback
        data = exported.value
        return [
            rx.download(data=data.as_zip(), filename=f"{data.filename}.zip", mime_type="application/zip"),
            exported.feedback,
        ]

    # The erase goes through the shared confirmation: ask_delete reads `erasure_impact`, delete erases.
    def _impact(self, target_id: str) -> Outcome[Impact]:
        return self._call(contacts.erasure_impact, target_id, error_to="rights_error")

    def _view(self, impact: Impact, target_id: str) -> ConfirmView:
        return confirm_view(self.tr, impact, target_id, verb="erase")

    def _delete(self, target_id: str):
        erased = self._call(contacts.erase_person, target_id, success="contacts.rights.erased",
                            error_to="rights_error")  # fmt: skip
        return erased.feedback


def rights_menu(contact_id: rx.Var) -> rx.Component:
    """The row's data-rights menu (rendered only for an admin with MFA)."""
    return rx.cond(
        ContactRightsState.can_use_rights,
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("shield-check", size=14),
                    size="1",
                    variant="ghost",
                    aria_label=t("contacts.rights"),
                    class_name="contact-rights",
                ),
            ),
            rx.menu.content(
                rx.menu.item(
                    rx.icon("file-json", size=14),
                    t("contacts.rights.export_json"),
                    on_click=ContactRightsState.export_json(contact_id),
                    class_name="contact-export-json",
                ),
                rx.menu.item(
                    rx.icon("file-archive", size=14),
                    t("contacts.rights.export_csv"),
                    on_click=ContactRightsState.export_zip(contact_id),
                    class_name="contact-export-zip",
                ),
                rx.cond(
                    ContactRightsState.can_erase,
                    rx.fragment(
                        rx.menu.separator(),
                        rx.menu.item(
                            rx.icon("user-x", size=14),
                            t("contacts.rights.erase"),
                            color_scheme="red",
                            on_click=ContactRightsState.ask_delete(contact_id),
                            class_name="contact-erase",
                        ),
                    ),
                ),
            ),
        ),
    )


def rights_error() -> rx.Component:
    return field_error(ContactRightsState.rights_error, "contact-rights-error")


def erase_dialog(reload: rx.EventHandler) -> rx.Component:
    """The confirmation of an erasure; `reload` (the page's own load) runs after it, so the row goes away."""
    return confirm_dialog(
        ContactRightsState.confirm,
        [ContactRightsState.delete, reload],
        ContactRightsState.cancel_delete,
        "contact-erase",
    )
