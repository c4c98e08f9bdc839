"""`/contacts`: external contacts with consent, tags and notes; CSV import with progress and a per-row error
report; CSV export and a person's data rights (`contact_rights`: export, erase), admin with MFA."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.base.permissions import Action
from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.controls import dialog_actions
from mirage_app.components.field_errors import field_message, outline
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.i18n import formats
from mirage_app.logic.form_fields import named_error
from mirage_app.logic.optout import suppression_source
from mirage_app.pages.contact_rights import erase_dialog, rights_error, rights_menu
from mirage_app.services import contacts
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.ui import t

PAGE_SIZE = 50
CONSENT_FILTERS = ["", "granted", "unknown", "revoked", "suppressed", "contactable"]
# The form field each service field is shown beside, and its label.
FIELD_OF = {"consent_status": "consent", "consent_basis": "basis", "consent_source": "source"}
LABELS = {
    "wa_number": "contacts.number",
    "display_name": "contacts.name",
    "tags": "contacts.tags",
    "notes": "contacts.notes",
    "consent": "contacts.consent",
    "basis": "contacts.basis",
    "source": "contacts.source",
}


@dataclass(frozen=True)
class ContactRow:
    id: str
    name: str
    number: str
    tags: str  # comma-separated, for display
    consent: str  # granted | unknown | revoked | suppressed
    consent_label: str
    record: str  # "Consentimento · formulário do site · desde 29 nov" ("" when there is no consent record)


@dataclass(frozen=True)
class ContactForm:
    """The editor, as typed; `id` is "" for a new contact."""

    id: str = ""
    wa_number: str = ""
    display_name: str = ""
    tags: str = ""
    notes: str = ""
    consent: str = "unknown"
    basis: str = "consent"
    source: str = ""
    recorded: str = ""  # consent, basis and source as saved: consent is recorded again only when they change

    @classmethod
    def of(cls, view: contacts.ContactView) -> ContactForm:
        return cls(
            id=str(view.id),
            wa_number=view.wa_number,
            display_name=view.display_name,
            tags=", ".join(view.tags),
            notes=view.notes,
            consent=view.consent_status,
            basis=view.consent_basis or "consent",
            source=view.consent_source or "",
            recorded=f"{view.consent_status}|{view.consent_basis or 'consent'}|{view.consent_source or ''}",
        )

    @property
    def consent_changed(self) -> bool:
        return f"{self.consent}|{self.basis}|{self.source}" != self.recorded


@dataclass(frozen=True)
class ImportErrorRow:
    line: int
    reason: str
    raw: str


def import_reason(tr: dict[str, str], error: contacts.ImportRowError) -> str:
    """A bad row's reason in the page's language, its placeholders filled (the phone's fault in words too)."""
    params = dict(error.params)
    if "detail" in params and error.reason == "invalid_phone":
        params["detail"] = formats.label(tr, "phone.reason", params["detail"])
    text = tr.get(f"contacts.import.{error.reason}")
    if text is None:
        return error.message
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return error.message


def source_text(tr: dict[str, str], source: str) -> str:
    """A consent source as people read it: what a suppression wrote ("optout:SAIR", "operator") in words, a
    person's own words as they are."""
    written = suppression_source(source)
    if written is None:
        return source
    kind, keyword = written
    return tr[f"contacts.source.{kind}"].format(keyword=keyword)


class ContactsState(ConfirmDelete, AuthState):
    rows: list[ContactRow] = []
    total: int = 0
    page: int = 0
    search: str = ""
    consent_filter: str = ""
    loaded: bool = False
    # editor
    editing: bool = False
    form: ContactForm = ContactForm()
    form_error: str = ""
    error_field: str = ""  # the form field the last save failure named ("" for none)
    # import
    importing: bool = False
    import_progress: int = 0
    import_summary: str = ""
    import_errors: list[ImportErrorRow] = []

    @rx.var
    def count_text(self) -> str:
        return formats.count(self.tr, "contacts.count", self.total)

    @rx.var
    def can_export(self) -> bool:
        return Action.contacts_export.value in self.permissions

    @rx.event
    def load(self, _tick=None):
        listed = self._call(
            contacts.list_contacts,
            search=self.search or None,
            consent=self.consent_filter or None,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )
        if not listed.ok:
            return listed.feedback
        self.total, self.loaded = listed.value.total, True
        self.rows = [self._contact_row(c) for c in listed.value.items]
        return None

    def _contact_row(self, c: contacts.ContactView) -> ContactRow:
        consent = "suppressed" if c.suppressed else c.consent_status
        record = [
            formats.label(self.tr, "basis", c.consent_basis) if c.consent_basis else "",
            source_text(self.tr, c.consent_source or ""),
            self.tr["contacts.consented_on"].format(day=formats.day(c.consent_at, self.lang, self.tenant_tz, year=True))
            if c.consent_at
            else "",
        ]
        return ContactRow(
            id=str(c.id),
            name=c.display_name or "—",
            number=c.wa_number,
            tags=", ".join(c.tags),
            consent=consent,
            consent_label=formats.label(self.tr, "consent", consent),
            record=" · ".join(part for part in record if part),
        )

    @rx.event
    def set_search(self, value: str):
        self.search, self.page = value, 0
        return self.load()

    @rx.event
    def set_consent_filter(self, value: str):
        self.consent_filter, self.page = value, 0
        return self.load()

    @rx.event
    def next_page(self):
        if (self.page + 1) * PAGE_SIZE < self.total:
            self.page += 1
        return self.load()

    @rx.event
    def previous_page(self):
        self.page = max(0, self.page - 1)
        return self.load()

    # -- editor --------------------------------------------------------------------------------------
    @rx.event
    def new(self):
        self.form, self.form_error, self.error_field, self.editing = ContactForm(), "", "", True

    @rx.event
    def edit(self, contact_id: str):
        found = self._call(contacts.get_contact, contact_id)
        if not found.ok:
            return found.feedback
        self.form, self.form_error, self.error_field, self.editing = ContactForm.of(found.value), "", "", True
        return None

    @rx.event
    def set_editing(self, is_open: bool):
        self.editing = is_open

    @rx.event
    def set_field(self, name: str, value: str):
        self.form = replace(self.form, **{name: value})

    @rx.event
    def save(self):
        form = self.form
        recorded = form.consent != "unknown"  # granted or revoked: basis and source as in a CSV row

        def write(actor):
            if not form.id:
                contacts.create_contact(
                    actor,
                    form.wa_number,
                    form.display_name,
                    tags=form.tags,
                    notes=form.notes,
                    consent_status=form.consent if recorded else None,
                    consent_basis=form.basis if recorded else None,
                    consent_source=form.source if recorded else None,
                )
                return
            contacts.update_contact(actor, form.id, display_name=form.display_name, tags=form.tags, notes=form.notes)
            if not form.consent_changed:
                return
            if form.consent == "granted":
                contacts.set_consent(actor, form.id, basis=form.basis, source=form.source)
            elif form.consent == "revoked":
                contacts.revoke_consent(actor, form.id, source=form.source or None)

        saved = self._call(write, error_to="form_error", success="contacts.saved")
        self.error_field, self.form_error = named_error(self.tr, LABELS, saved.error_field, self.form_error, FIELD_OF)
        if saved.ok:
            self.editing = False
            self.load()
        return saved.feedback

    def _impact(self, target_id: str):
        """An active conversation blocks the delete; messages stay."""
        return self._call(contacts.contact_impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(contacts.delete_contact, target_id, success="contacts.deleted")
        self.load()
        return deleted.feedback

    # -- import / export -----------------------------------------------------------------------------
    _pending_csv: bytes = b""  # backend-only: the uploaded file, handed to the background import

    @rx.event
    async def import_files(self, files: list[rx.UploadFile]):
        """Uploads cannot run in the background: read the file here, import it in `run_import`."""
        if self.importing or not files:
            return None
        self._pending_csv = await files[0].read()
        self.importing, self.import_progress, self.import_summary, self.import_errors = True, 0, "", []
        return ContactsState.run_import

    @rx.event(background=True)
    async def run_import(self):
        async with self:
            data, self._pending_csv = self._pending_csv, b""
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue = asyncio.Queue()

        def progress(done: int, total: int) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, int(100 * done / max(total, 1)))

        task = asyncio.create_task(self._call_in_thread(contacts.import_csv, data, progress=progress))
        while not task.done() or not updates.empty():
            try:
                pct = await asyncio.wait_for(updates.get(), timeout=0.3)
            except TimeoutError:
                continue
            async with self:
                self.import_progress = pct
        imported = task.result()
        async with self:
            self.importing = False
            if not imported.ok:
                return imported.feedback
            report = imported.value
            self.import_progress = 100
            self.import_summary = self.tr["contacts.import_summary"].format(
                imported=report.imported, updated=report.updated, duplicates=report.duplicates, failed=report.failed
            )
            self.import_errors = [ImportErrorRow(e.line, import_reason(self.tr, e), e.raw) for e in report.errors]
            self.load()
            return rx.toast.success(self.import_summary)

    @rx.event
    def export(self):
        exported = self._call(contacts.export_csv)
        if not exported.ok:
            return exported.feedback
        return rx.download(data=exported.value, filename="mirage-contacts.csv")


def _field(label_key: str, name: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="1", weight="medium"),
        rx.input(
            value=getattr(ContactsState.form, name),
            on_change=lambda v: ContactsState.set_field(name, v),
            id=f"contact-{name}",
            width="100%",
            **outline(ContactsState.error_field, name),
            **props,
        ),
        field_message(ContactsState.error_field, ContactsState.form_error, name, f"contact-{name}-error"),
        spacing="1",
        width="100%",
    )


def _editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(ContactsState.form.id == "", t("contacts.new"), t("contacts.edit"))),
            rx.vstack(
                rx.grid(
                    _field(
                        "contacts.number",
                        "wa_number",
                        disabled=ContactsState.form.id != "",
                        placeholder="+55 11 98765-4321",
                    ),
                    _field("contacts.name", "display_name"),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                _field("contacts.tags", "tags", placeholder="clientes, sp"),
                _field("contacts.notes", "notes"),
                rx.text(t("contacts.consent"), size="1", weight="medium"),
                rx.segmented_control.root(
                    rx.segmented_control.item(t("consent.unknown"), value="unknown"),
                    rx.segmented_control.item(t("consent.granted"), value="granted"),
                    rx.segmented_control.item(t("consent.revoked"), value="revoked"),
                    value=ContactsState.form.consent,
                    on_change=lambda v: ContactsState.set_field("consent", v),
                    id="contact-consent",
                ),
                field_message(ContactsState.error_field, ContactsState.form_error, "consent", "contact-consent-error"),
                rx.grid(
                    rx.vstack(
                        rx.text(t("contacts.basis"), size="1", weight="medium"),
                        rx.select.root(
                            rx.select.trigger(width="100%", id="contact-basis"),
                            rx.select.content(
                                *[rx.select.item(t(f"basis.{b}"), value=b) for b in contacts.CONSENT_BASES]
                            ),
                            value=ContactsState.form.basis,
                            on_change=lambda v: ContactsState.set_field("basis", v),
                            disabled=ContactsState.form.consent == "unknown",
                        ),
                        field_message(
                            ContactsState.error_field, ContactsState.form_error, "basis", "contact-basis-error"
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    _field(
                        "contacts.source",
                        "source",
                        placeholder=t("contacts.source_placeholder"),
                        disabled=ContactsState.form.consent == "unknown",
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.text(t("contacts.basis_hint"), size="1", color_scheme="gray"),
                rx.cond(ContactsState.error_field == "", field_error(ContactsState.form_error, "contact-error")),
                dialog_actions(ContactsState.save, "contact-save"),
                spacing="3",
                width="100%",
            ),
            max_width="620px",
        ),
        open=ContactsState.editing,
        on_open_change=ContactsState.set_editing,
    )


def _import_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.upload(
                    rx.hstack(
                        rx.icon("file-up", size=18), rx.text(t("contacts.import_drop"), size="2"), align="center"
                    ),
                    id="csv-upload",
                    accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                    max_files=1,
                    on_drop=ContactsState.import_files(rx.upload_files(upload_id="csv-upload")),
                    border="1px dashed var(--slate-7)",
                    padding="0.75em 1em",
                    border_radius="10px",
                ),
                rx.text(t("contacts.import_hint"), size="1", color_scheme="gray"),
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                ContactsState.importing,
                rx.progress(value=ContactsState.import_progress, max=100, width="100%", id="import-progress"),
            ),
            rx.cond(
                ContactsState.import_summary != "",
                rx.callout(
                    ContactsState.import_summary, icon="check", color_scheme="grass", size="1", id="import-summary"
                ),
            ),
            rx.cond(
                ContactsState.import_errors.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("contacts.line")),
                            rx.table.column_header_cell(t("contacts.reason")),
                            rx.table.column_header_cell(t("contacts.row")),
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            ContactsState.import_errors,
                            lambda e: rx.table.row(
                                rx.table.cell(e.line),
                                rx.table.cell(e.reason),
                                rx.table.cell(rx.code(e.raw, size="1")),
                            ),
                        )
                    ),
                    size="1",
                    width="100%",
                    id="import-errors",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def _row(r: rx.Var[ContactRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium"),
                rx.text(r.number, size="1", color_scheme="gray", class_name="mono"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(r.tags, size="1")),
        rx.table.cell(
            rx.badge(
                r.consent_label,
                color_scheme=rx.match(
                    r.consent, ("granted", "grass"), ("revoked", "red"), ("suppressed", "orange"), "gray"
                ),
                variant="soft",
            )
        ),
        rx.table.cell(rx.text(r.record, size="1", color_scheme="gray"), min_width="200px"),  # phones scroll
        rx.table.cell(
            rx.cond(
                AuthState.can_manage,
                rx.hstack(
                    rx.icon_button(
                        rx.icon("pencil", size=14),
                        size="1",
                        variant="ghost",
                        on_click=ContactsState.edit(r.id),
                        aria_label=t("common.edit"),
                    ),
                    rx.icon_button(
                        rx.icon("trash-2", size=14),
                        size="1",
                        variant="ghost",
                        color_scheme="red",
                        on_click=ContactsState.ask_delete(r.id),
                        aria_label=t("common.delete"),
                        class_name="contact-delete",
                    ),
                    rights_menu(r.id),
                ),
            )
        ),
    )


@app_page("/contacts", "Contacts", on_load=ContactsState.load)
def contacts_page() -> rx.Component:
    toolbar = rx.hstack(
        rx.input(
            placeholder=t("contacts.search"),
            value=ContactsState.search,
            on_change=ContactsState.set_search,
            debounce_timeout=300,
            id="contact-search",
            width="260px",
        ),
        rx.el.select(
            *[rx.el.option(t(f"consent.filter.{c or 'all'}"), value=c) for c in CONSENT_FILTERS],
            value=ContactsState.consent_filter,
            on_change=ContactsState.set_consent_filter,
            class_name="native-select native-select-sm",
            aria_label=t("contacts.consent"),
        ),
        rx.spacer(),
        rx.cond(
            ContactsState.can_export,
            rx.button(
                rx.icon("download", size=16),
                t("contacts.export"),
                variant="soft",
                on_click=ContactsState.export,
                id="contact-export",
            ),
        ),
        rx.cond(
            AuthState.can_manage,
            rx.button(rx.icon("plus", size=16), t("contacts.new"), on_click=ContactsState.new, id="contact-new"),
        ),
        width="100%",
        wrap="wrap",
    )
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k))
                    for k in ("contacts.contact", "contacts.tags", "contacts.consent", "contacts.record", "")
                ]
            )
        ),
        rx.table.body(rx.foreach(ContactsState.rows, _row)),
        width="100%",
        id="contacts-table",
    )
    paging = rx.hstack(
        rx.text(ContactsState.count_text, size="2", color_scheme="gray", id="contacts-count"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), on_click=ContactsState.previous_page, variant="soft", size="1"),
        rx.button(rx.icon("chevron-right", size=16), on_click=ContactsState.next_page, variant="soft", size="1"),
        width="100%",
    )
    return page_layout(
        "page.contacts.title",
        "page.contacts.subtitle",
        rx.vstack(
            toolbar,
            rx.cond(AuthState.can_manage, _import_card()),
            rights_error(),
            rx.cond(
                ContactsState.rows.length() > 0,
                rx.vstack(table, paging, width="100%"),
                rx.cond(ContactsState.loaded, empty_state("contact", "contacts.empty_title", "contacts.empty_hint")),
            ),
            spacing="4",
            width="100%",
        ),
        _editor(),
        confirm_dialog(ContactsState.confirm, ContactsState.delete, ContactsState.cancel_delete, "contact-delete"),
        erase_dialog(ContactsState.load),
    )
