"""A person's right to see their data (LGPD Art. 18): everything Mirage holds about one contact, by its number, in
one export. Admin with MFA (`contacts.export`), audited (the entry names the contact, not its data).

Sections (`SECTIONS`): the contact record, its consent history, its messages (both ways, and inbound ones from the
number before it was a contact), its outreach targets, its suppression entry and the audit entries about it. Two
forms of the same content: JSON (`PersonalData.as_json`), and a zip with one CSV per section (`as_zip`: CSV cells
are flat, so lists are joined with "|" and objects written as JSON). Times are ISO 8601 in the tenant's zone.

`person_pattern` and `person_scope` are shared with the erasure (`erasure.py`), so it removes exactly what the
export shows.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import consent_history
from mirage_app.i18n.formats import iso_local
from mirage_app.logic.phone import br_variants
from mirage_app.logic.spreadsheet_cells import text_cell
from mirage_app.models import Tenant
from mirage_app.services.contacts.records import get_row, load_view

SECTIONS = ("contact", "consent_history", "messages", "outreach_targets", "suppression", "audit")


@dataclass(frozen=True)
class PersonScope:
    """Who the person is in the database: their contact id, number and the spellings it takes in raw payloads."""

    contact_id: uuid.UUID
    wa_number: str
    pattern: str  # a regular expression matching the number inside a text or a JSON document
    ids: list[str]  # what an audit entry's entity_id may hold for them (contact id, number)


def person_pattern(e164: str) -> str:
    """A regular expression (PostgreSQL `~`) for the number in any stored text: its digits (a WhatsApp JID, or
    E.164 with or without the "+") in every spelling WhatsApp uses (`br_variants`: a Brazilian mobile also without
    its ninth digit), standing alone: a longer number that merely contains those digits is someone else."""
    spellings = "|".join(sorted(variant.removeprefix("+") for variant in br_variants(e164)))
    return f"(^|[^0-9])({spellings})([^0-9]|$)"


def person_scope(s, contact_id: uuid.UUID | str) -> PersonScope:
    contact = get_row(s, contact_id)
    return PersonScope(contact.id, contact.wa_number, person_pattern(contact.wa_number),
                       [str(contact.id), contact.wa_number])  # fmt: skip


# The person's messages: linked to the contact, or from the number before it was one (`meta.peer`).
MESSAGES_WHERE = "(m.contact_id = :c OR m.meta->>'peer' = :n)"
# Audit entries about them: by id (the contact's, or the number a suppression is filed under) or mentioning the number.
_MENTIONS = "CAST(a.before AS text) ~ :pattern OR CAST(a.after AS text) ~ :pattern"
AUDIT_WHERE = f"(a.entity_id = ANY(:ids) OR {_MENTIONS})"

_MESSAGES = text(
    f"""
    SELECT m.id, m.created_at, m.direction::text AS direction, m.kind::text AS kind, m.body, m.status::text AS status,
           m.sent_at, n.label AS our_number_label, n.wa_number AS our_number
    FROM messages m
    LEFT JOIN numbers n ON n.id = CASE WHEN m.direction = 'out' THEN m.from_number_id ELSE m.to_number_id END
    WHERE {MESSAGES_WHERE}
    ORDER BY m.created_at, m.id
    """
)
_TARGETS = text(
    """
    SELECT t.id, t.status::text AS status, t.priority, t.rounds_done, t.last_contact_at, t.created_at,
           n.label AS our_number_label, n.wa_number AS our_number
    FROM outreach_targets t JOIN outreach_policies p ON p.id = t.policy_id JOIN numbers n ON n.id = p.number_id
    WHERE t.contact_id = :c ORDER BY t.created_at, t.id
    """
)
_SUPPRESSION = text("SELECT wa_number, reason, created_at FROM suppression WHERE wa_number = :n OR contact_id = :c")
_AUDIT = text(
    f"SELECT a.at, a.actor, a.action, a.entity, a.entity_id, a.before, a.after FROM audit_log a WHERE {AUDIT_WHERE} "
    "ORDER BY a.at, a.id"
)


@dataclass(frozen=True)
class PersonalData:
    contact_id: uuid.UUID
    wa_number: str
    exported_at: str
    timezone: str
    sections: dict[str, list[dict[str, Any]]]

    def as_json(self) -> dict[str, Any]:
        return {"contact_id": str(self.contact_id), "wa_number": self.wa_number, "exported_at": self.exported_at,
                "timezone": self.timezone, **self.sections}  # fmt: skip

    def as_zip(self) -> bytes:
        """One CSV per section (`<section>.csv`, a header row even when empty)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for section in SECTIONS:
                archive.writestr(f"{section}.csv", section_csv(section, self.sections[section]))
        return buffer.getvalue()

    @property
    def filename(self) -> str:
        digits = re.sub(r"\D", "", self.wa_number)
        return f"mirage-contact-{digits}"


_COLUMNS = {
    "contact": ("id", "wa_number", "display_name", "tags", "notes", "consent_status", "consent_basis",
                "consent_source", "consent_at", "opted_out_at", "suppressed", "suppression_reason", "created_at",
                "updated_at"),
    "consent_history": ("event", "basis", "source", "at", "actor", "recorded_at"),
    "messages": ("id", "created_at", "direction", "kind", "body", "status", "sent_at", "our_number_label",
                 "our_number"),
    "outreach_targets": ("id", "status", "priority", "rounds_done", "last_contact_at", "created_at",
                         "our_number_label", "our_number"),
    "suppression": ("wa_number", "reason", "created_at"),
    "audit": ("at", "actor", "action", "entity", "entity_id", "before", "after"),
}  # fmt: skip


_E164 = re.compile(r"\+\d{8,15}")


def section_csv(section: str, rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = _COLUMNS[section]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_flat(row.get(column)) for column in columns])
    return buffer.getvalue()


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return text_cell("|".join(str(v) for v in value))
    if isinstance(value, dict):
        return text_cell(json.dumps(value, ensure_ascii=False, sort_keys=True))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) or (isinstance(value, str) and _E164.fullmatch(value)):
        return str(value)  # never a formula: as csv_export writes numbers
    return text_cell(value)


def _plain(value: Any, tz: str) -> Any:
    if isinstance(value, datetime):
        return iso_local(value, tz)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _rows(result, tz: str) -> list[dict[str, Any]]:
    return [{k: _plain(v, tz) for k, v in row._mapping.items()} for row in result]


def export_person(actor: Actor, contact_id: uuid.UUID | str, *, clock: Clock = system_clock) -> PersonalData:
    """Everything held about one contact (see the module docstring). Another tenant's id is NotFound."""
    authorize(actor, Action.contacts_export)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        scope = person_scope(s, contact_id)
        tz = s.get(Tenant, actor.tenant_id).timezone
        view = load_view(s, scope.contact_id)
        contact = {k: _plain(v, tz) for k, v in view.__dict__.items()}
        history = [{k: _plain(v, tz) for k, v in entry.__dict__.items() if k != "wa_number"}
                   for entry in consent_history.history(s, scope.contact_id)]  # fmt: skip
        params = {"c": scope.contact_id, "n": scope.wa_number, "ids": scope.ids, "pattern": scope.pattern}
        sections = {
            "contact": [contact],
            "consent_history": history,
            "messages": _rows(s.execute(_MESSAGES, params), tz),
            "outreach_targets": _rows(s.execute(_TARGETS, params), tz),
            "suppression": _rows(s.execute(_SUPPRESSION, params), tz),
            "audit": _rows(s.execute(_AUDIT, params), tz),
        }
        audit.record(s, actor, "contact.data_export", "contact", scope.contact_id,
                     after={section: len(rows) for section, rows in sections.items()}, clock=clock)  # fmt: skip
        s.commit()
    return PersonalData(scope.contact_id, scope.wa_number, iso_local(now, tz), tz, sections)
