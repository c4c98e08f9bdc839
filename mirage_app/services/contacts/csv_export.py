"""Every contact of the tenant as a CSV file (admin with MFA), in a form that imports back as is; text cells are
neutralised against spreadsheet formula injection. Times are ISO 8601 in the tenant's zone (with its offset), and
the last column names that zone.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.i18n.formats import iso_local
from mirage_app.logic.spreadsheet_cells import text_cell
from mirage_app.models import Tenant
from mirage_app.services.contacts.records import VIEW_SQL, view_from_row

EXPORT_COLUMNS = (
    "phone",
    "name",
    "tags",
    "consent",
    "basis",
    "source",
    "consent_at",
    "notes",
    "opted_out_at",
    "suppressed",
    "created_at",
    "timezone",
)


def export_csv(actor: Actor, *, delimiter: str = ",", clock: Clock = system_clock) -> str:
    """Every contact as CSV (admin with MFA: `contacts.export`); the file imports back as is."""
    authorize(actor, Action.contacts_export)
    if delimiter not in (",", ";"):
        delimiter = ","
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    with tenant_session(actor.tenant_id) as s:
        tz = s.get(Tenant, actor.tenant_id).timezone
        rows = s.execute(text(VIEW_SQL + " ORDER BY c.created_at, c.id"))
        for r in rows:
            v = view_from_row(r)
            writer.writerow(
                [
                    v.wa_number,  # normalised digits with "+": never a formula
                    text_cell(v.display_name),
                    text_cell("|".join(v.tags)),
                    v.consent_status,
                    v.consent_basis or "",
                    text_cell(v.consent_source or ""),
                    iso_local(v.consent_at, tz),
                    text_cell(v.notes),
                    iso_local(v.opted_out_at, tz),
                    "yes" if v.suppressed else "no",
                    iso_local(v.created_at, tz),
                    tz,
                ]
            )
            count += 1
        audit.record(s, actor, "contacts.export", "contact", None, after={"rows": count}, clock=clock)
        s.commit()
    return buffer.getvalue()
