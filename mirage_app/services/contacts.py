"""External contacts: CRUD, tags, notes, consent records, the tenant-wide suppression list, CSV import and export.

Shared by the `/contacts` page and `/api/contacts`. Every number is stored in ONE canonical E.164 form (Brazilian
mobiles with the ninth digit, see `logic.phone`), so a person is never two contacts and an opt-out always matches.

Consent (LGPD): status (unknown / granted / revoked) + legal basis + source (how it was collected) + timestamp.
Only `granted` contacts that are not suppressed are ever messaged (checked again by the send pipeline, see
`services.contact_guard`). A suppressed number (opted out, or blocked by an operator) cannot be given consent
again by an operator or an import; lifting a suppression is an admin-with-MFA action.

CSV import: `,` or `;` (detected), pt-BR / English header aliases, one savepoint per row (a bad row is reported
with its line number as the operator sees it, header = line 1, and never half-written), numbers repeated in the
file are reported as duplicates, numbers already known update the existing contact.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed, message_for
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.suppression import apply_suppression
from mirage_app.logic.optout import fold
from mirage_app.logic.phone import InvalidPhone, normalise_e164
from mirage_app.models import ConsentStatus, Contact, Suppression, Tenant

CONSENT_BASES: tuple[str, ...] = ("consent", "legitimate_interest", "contract", "legal_obligation")
CONSENT_FILTERS: tuple[str, ...] = ("granted", "revoked", "unknown", "suppressed", "contactable")
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_NAME = 120
MAX_NOTES = 2000
MAX_SOURCE = 200
MAX_PAGE = 500
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
IMPORT_BATCH = 500  # rows per transaction (each row has its own savepoint inside it)
_CLOCK_SKEW = timedelta(minutes=5)  # a consent date this far ahead of our clock is still accepted
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
)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# -- views ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactView:
    id: uuid.UUID
    wa_number: str
    display_name: str
    tags: list[str]
    notes: str
    consent_status: str
    consent_basis: str | None
    consent_source: str | None
    consent_at: datetime | None
    opted_out_at: datetime | None
    suppressed: bool
    suppression_reason: str | None
    created_at: datetime
    updated_at: datetime | None

    @property
    def contactable(self) -> bool:
        """May outreach message this contact (consent granted, not suppressed)?"""
        return self.consent_status == ConsentStatus.granted.value and not self.suppressed and not self.opted_out_at

    def as_api(self) -> dict[str, Any]:
        out = asdict(self)
        out["id"] = str(self.id)
        for key in ("consent_at", "opted_out_at", "created_at", "updated_at"):
            out[key] = out[key].isoformat() if out[key] else None
        out["contactable"] = self.contactable
        return out


@dataclass(frozen=True)
class ContactPage:
    items: list[ContactView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class SuppressionView:
    wa_number: str
    reason: str
    contact_id: uuid.UUID | None
    display_name: str | None
    created_at: datetime


@dataclass
class ImportRowError:
    line: int
    reason: str  # short code; "contacts.import.<reason>" is its i18n key
    raw: str  # the row as it was in the file (trimmed to 500 characters)
    message: str = ""  # English text of the reason

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportReport:
    imported: int = 0  # new contacts
    updated: int = 0  # existing contacts updated from the file
    duplicates: int = 0  # rows whose number appeared earlier in the same file (skipped)
    errors: list[ImportRowError] = field(default_factory=list)
    duplicate_rows: list[dict[str, Any]] = field(default_factory=list)  # [{line, first_line, wa_number}]
    total_rows: int = 0
    delimiter: str = ","
    columns: dict[str, str] = field(default_factory=dict)  # file header → field it was read as

    @property
    def failed(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "total_rows": self.total_rows,
            "delimiter": self.delimiter,
            "columns": dict(self.columns),
            "errors": [e.as_dict() for e in self.errors],
            "duplicate_rows": list(self.duplicate_rows),
        }


# -- validation helpers -----------------------------------------------------------------------------------------


def normalise_phone(raw: str, *, field_name: str = "wa_number") -> str:
    try:
        return normalise_e164(str(raw or ""))
    except InvalidPhone as exc:
        raise ValidationFailed("contacts.phone_invalid", field=field_name, reason=exc.reason) from exc


_TAG_FORBIDDEN = re.compile(r"[,;|]")


def clean_tags(tags: Iterable[str] | str | None, *, field_name: str = "tags") -> list[str]:
    """Trimmed, single-spaced, de-duplicated case-insensitively (first spelling kept), in the given order."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = split_tags(tags)
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        value = " ".join(str(tag or "").split())
        if not value:
            continue
        if len(value) > MAX_TAG_LENGTH or _TAG_FORBIDDEN.search(value):
            raise ValidationFailed("contacts.tag_invalid", field=field_name)
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    if len(out) > MAX_TAGS:
        raise ValidationFailed("contacts.too_many_tags", field=field_name)
    return out


def split_tags(value: str) -> list[str]:
    return [part for part in re.split(r"[|;,]", value or "") if part.strip()]


def _clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if len(name) > MAX_NAME:
        raise ValidationFailed("contacts.name_too_long", field="display_name")
    return name


def _clean_notes(value: Any) -> str:
    notes = str(value or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationFailed("contacts.notes_too_long", field="notes")
    return notes


def _clean_basis(value: Any) -> str:
    basis = str(value or "").strip().lower()
    if basis not in CONSENT_BASES:
        raise ValidationFailed("contacts.basis_invalid", field="consent_basis")
    return basis


def _clean_source(value: Any, *, required: bool) -> str | None:
    source = " ".join(str(value or "").split())
    if not source:
        if required:
            raise ValidationFailed("contacts.source_required", field="consent_source")
        return None
    if len(source) > MAX_SOURCE:
        raise ValidationFailed("contacts.source_too_long", field="consent_source")
    return source


def _clean_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value > now + _CLOCK_SKEW:
        raise ValidationFailed("contacts.consent_at_future", field="consent_at")
    return value


# -- reading ----------------------------------------------------------------------------------------------------

_VIEW_SQL = """
    SELECT c.id, c.wa_number, c.display_name, c.tags, c.notes, c.consent_status::text AS consent_status,
           c.consent_basis, c.consent_source, c.consent_at, c.opted_out_at, c.created_at, c.updated_at,
           su.reason AS suppression_reason, (su.id IS NOT NULL) AS suppressed
    FROM contacts c
    LEFT JOIN suppression su ON su.wa_number = c.wa_number
"""


def _view(row: Any) -> ContactView:
    return ContactView(
        id=row.id,
        wa_number=row.wa_number,
        display_name=row.display_name,
        tags=list(row.tags or []),
        notes=row.notes,
        consent_status=row.consent_status,
        consent_basis=row.consent_basis,
        consent_source=row.consent_source,
        consent_at=row.consent_at,
        opted_out_at=row.opted_out_at,
        suppressed=bool(row.suppressed),
        suppression_reason=row.suppression_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _uuid(value: uuid.UUID | str, code: str = "contacts.not_found") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(code) from None


def _load(s, contact_id: uuid.UUID | str) -> ContactView:
    row = s.execute(text(_VIEW_SQL + " WHERE c.id = :id"), {"id": _uuid(contact_id)}).first()
    if row is None:  # another tenant's id looks exactly like a missing one (RLS)
        raise NotFound("contacts.not_found")
    return _view(row)


def _get_row(s, contact_id: uuid.UUID | str, *, lock: bool = False) -> Contact:
    statement = select(Contact).where(Contact.id == _uuid(contact_id))
    if lock:
        statement = statement.with_for_update()
    contact = s.exec(statement).first()
    if contact is None:
        raise NotFound("contacts.not_found")
    return contact


_SORTS = {
    "created_at": "c.created_at",
    "name": "lower(c.display_name)",
    "display_name": "lower(c.display_name)",
    "wa_number": "c.wa_number",
    "consent_at": "c.consent_at",
    "updated_at": "COALESCE(c.updated_at, c.created_at)",
}


def list_contacts(
    actor: Actor,
    *,
    search: str | None = None,
    tag: str | None = None,
    tags: Iterable[str] | None = None,
    consent: str | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: str = "created_at",
    descending: bool = True,
) -> ContactPage:
    """A page of contacts. `search` matches name, number (digits, any spelling) or notes; `tag` / `tags` keep
    contacts having all of them (case-insensitive); `consent` is granted / revoked / unknown / suppressed /
    contactable (granted and not suppressed)."""
    authorize(actor, Action.data_read)
    where, params = ["true"], {}
    if search and search.strip():
        term = search.strip()
        params["q"] = f"%{_like_escape(term)}%"
        clauses = ["c.display_name ILIKE :q", "c.notes ILIKE :q", "array_to_string(c.tags, ' ') ILIKE :q"]
        digits = re.sub(r"\D", "", term)
        if len(digits) >= 3:
            params["digits"] = f"%{digits}%"
            clauses.append("c.wa_number LIKE :digits")
            try:  # "11 8765-4321" (no 9) still finds the canonical "+5511987654321"
                params["exact"] = normalise_e164(term)
                clauses.append("c.wa_number = :exact")
            except InvalidPhone:
                pass
        where.append("(" + " OR ".join(clauses) + ")")
    wanted = [*(tags or []), *([tag] if tag else [])]
    for index, value in enumerate(t for t in wanted if t and t.strip()):
        params[f"tag{index}"] = value.strip().casefold()
        where.append(f"EXISTS (SELECT 1 FROM unnest(c.tags) x WHERE lower(x) = :tag{index})")
    if consent:
        if consent not in CONSENT_FILTERS:
            raise ValidationFailed("contacts.filter_invalid", field="consent")
        if consent == "suppressed":
            where.append("(su.id IS NOT NULL OR c.opted_out_at IS NOT NULL)")
        elif consent == "contactable":
            where.append("c.consent_status = 'granted' AND su.id IS NULL AND c.opted_out_at IS NULL")
        else:
            where.append("c.consent_status = CAST(:consent AS consent_status)")
            params["consent"] = consent
    order = _SORTS.get(sort, "c.created_at")
    direction = "DESC" if descending else "ASC"
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    condition = " AND ".join(where)
    with tenant_session(actor.tenant_id) as s:
        total = s.execute(
            text(f"SELECT count(*) FROM contacts c LEFT JOIN suppression su ON su.wa_number = c.wa_number "
                 f"WHERE {condition}"),
            params,
        ).scalar()  # fmt: skip
        rows = s.execute(
            text(f"{_VIEW_SQL} WHERE {condition} ORDER BY {order} {direction} NULLS LAST, c.id LIMIT :lim OFFSET :off"),
            {**params, "lim": limit, "off": offset},
        ).all()
    return ContactPage([_view(r) for r in rows], int(total or 0), limit, offset)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_contact(actor: Actor, contact_id: uuid.UUID | str) -> ContactView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _load(s, contact_id)


def all_tags(actor: Actor) -> list[str]:
    """Every tag in use (for the tag filter), sorted case-insensitively."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(text("SELECT DISTINCT unnest(tags) AS tag FROM contacts")).scalars().all()
    return sorted(set(rows), key=str.casefold)


# -- writing ----------------------------------------------------------------------------------------------------


def _snapshot(c: Contact) -> dict[str, Any]:
    return {
        "wa_number": c.wa_number,
        "display_name": c.display_name,
        "tags": list(c.tags or []),
        "consent_status": c.consent_status.value if hasattr(c.consent_status, "value") else c.consent_status,
        "consent_basis": c.consent_basis,
        "consent_source": c.consent_source,
        "consent_at": c.consent_at,
    }


def _suppressed(s, wa_number: str) -> bool:
    return bool(s.execute(text("SELECT EXISTS (SELECT 1 FROM suppression WHERE wa_number = :n)"), {"n": wa_number})
                .scalar())  # fmt: skip


def create_contact(
    actor: Actor,
    wa_number: str,
    display_name: str = "",
    *,
    tags: Iterable[str] | str | None = None,
    notes: str = "",
    consent_status: str | None = None,
    consent_basis: str | None = None,
    consent_source: str | None = None,
    consent_at: datetime | None = None,
    clock: Clock = system_clock,
) -> ContactView:
    """Create a contact; `consent_status="granted"` records consent at once (basis + source required)."""
    authorize(actor, Action.contacts_manage)
    now = clock.now()
    contact = Contact(
        tenant_id=actor.tenant_id,
        wa_number=normalise_phone(wa_number),
        display_name=_clean_name(display_name),
        tags=clean_tags(tags),
        notes=_clean_notes(notes),
    )
    status = _clean_status(consent_status)
    with tenant_session(actor.tenant_id) as s:
        if s.exec(select(Contact.id).where(Contact.wa_number == contact.wa_number)).first() is not None:
            raise Conflict("contacts.phone_taken", field="wa_number")
        if status == ConsentStatus.granted:
            if _suppressed(s, contact.wa_number):
                raise Conflict("contacts.suppressed", field="consent_status")
            contact.consent_status = ConsentStatus.granted
            contact.consent_basis = _clean_basis(consent_basis or "consent")
            contact.consent_source = _clean_source(consent_source, required=True)
            contact.consent_at = _clean_at(consent_at, now)
        elif status == ConsentStatus.revoked:
            contact.consent_status = ConsentStatus.revoked
            contact.consent_basis = _clean_basis(consent_basis) if consent_basis else None
            contact.consent_source = _clean_source(consent_source, required=False)
            contact.consent_at = _clean_at(consent_at, now)
        contact.created_at = now
        s.add(contact)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("contacts.phone_taken", field="wa_number") from None
        audit.record(s, actor, "contact.create", "contact", contact.id, after=_snapshot(contact), clock=clock)
        s.commit()
        return _load(s, contact.id)


def _clean_status(value: str | None) -> ConsentStatus | None:
    if value in (None, ""):
        return None
    try:
        return ConsentStatus(str(value))
    except ValueError:
        raise ValidationFailed("contacts.consent_invalid", field="consent_status") from None


def update_contact(
    actor: Actor,
    contact_id: uuid.UUID | str,
    *,
    wa_number: str = UNSET,
    display_name: str = UNSET,
    tags: Iterable[str] | str | None = UNSET,
    notes: str = UNSET,
    clock: Clock = system_clock,
) -> ContactView:
    """Change number, name, tags (replaces the list) and/or notes; UNSET fields are left as they are.
    Consent has its own calls (`set_consent`, `revoke_consent`), so it is always recorded with basis and source."""
    authorize(actor, Action.contacts_manage)
    with tenant_session(actor.tenant_id) as s:
        contact = _get_row(s, contact_id, lock=True)
        before = _snapshot(contact)
        if wa_number is not UNSET:
            number = normalise_phone(wa_number)
            if number != contact.wa_number:
                taken = s.exec(select(Contact.id).where(Contact.wa_number == number, Contact.id != contact.id)).first()
                if taken is not None:
                    raise Conflict("contacts.phone_taken", field="wa_number")
                if _suppressed(s, contact.wa_number):
                    # Moving a suppressed contact to another number would drop the opt-out on the way.
                    raise Conflict("contacts.suppressed", field="wa_number")
                contact.wa_number = number
        if display_name is not UNSET:
            contact.display_name = _clean_name(display_name)
        if tags is not UNSET:
            contact.tags = clean_tags(tags)
        if notes is not UNSET:
            contact.notes = _clean_notes(notes)
        contact.updated_at = clock.now()
        s.add(contact)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("contacts.phone_taken", field="wa_number") from None
        audit.record(s, actor, "contact.update", "contact", contact.id, before, _snapshot(contact), clock=clock)
        s.commit()
        return _load(s, contact.id)


def add_tags(actor: Actor, contact_ids: Iterable[uuid.UUID | str], tags: Iterable[str] | str) -> int:
    """Add tags to many contacts (bulk action); returns how many contacts changed."""
    return _retag(actor, contact_ids, clean_tags(tags), add=True)


def remove_tags(actor: Actor, contact_ids: Iterable[uuid.UUID | str], tags: Iterable[str] | str) -> int:
    return _retag(actor, contact_ids, clean_tags(tags), add=False)


def _retag(actor: Actor, contact_ids: Iterable[uuid.UUID | str], tags: list[str], *, add: bool) -> int:
    authorize(actor, Action.contacts_manage)
    ids = [_uuid(i) for i in contact_ids]
    if not ids or not tags:
        return 0
    changed = 0
    with tenant_session(actor.tenant_id) as s:
        for contact in s.exec(select(Contact).where(col(Contact.id).in_(ids)).with_for_update()):
            current = list(contact.tags or [])
            keys = {t.casefold() for t in tags}
            new = clean_tags([*current, *tags]) if add else [t for t in current if t.casefold() not in keys]
            if new != current:
                contact.tags = new
                contact.updated_at = system_clock.now()
                s.add(contact)
                changed += 1
        audit.record(s, actor, "contact.tags_add" if add else "contact.tags_remove", "contact", None,
                     after={"tags": tags, "contacts": len(ids), "changed": changed})  # fmt: skip
        s.commit()
    return changed


def delete_contact(actor: Actor, contact_id: uuid.UUID | str) -> None:
    """Delete a contact (and its outreach targets). A suppression of its number stays: deleting a contact never
    makes an opted-out number reachable again."""
    authorize(actor, Action.contacts_manage)
    with tenant_session(actor.tenant_id) as s:
        contact = _get_row(s, contact_id, lock=True)
        before = _snapshot(contact)
        s.delete(contact)
        audit.record(s, actor, "contact.delete", "contact", contact.id, before=before)
        s.commit()


def set_consent(
    actor: Actor,
    contact_id: uuid.UUID | str,
    *,
    basis: str = "consent",
    source: str,
    at: datetime | None = None,
    clock: Clock = system_clock,
) -> ContactView:
    """Record consent: legal basis (consent / legitimate_interest / contract / legal_obligation), where it was
    collected (`source`, required) and when (`at`, default now). Refused for a suppressed number."""
    authorize(actor, Action.contacts_manage)
    now = clock.now()
    basis_value = _clean_basis(basis)
    source_value = _clean_source(source, required=True)
    at_value = _clean_at(at, now)
    with tenant_session(actor.tenant_id) as s:
        contact = _get_row(s, contact_id, lock=True)
        if _suppressed(s, contact.wa_number) or contact.opted_out_at is not None:
            raise Conflict("contacts.suppressed", field="consent_status")
        before = _snapshot(contact)
        contact.consent_status = ConsentStatus.granted
        contact.consent_basis = basis_value
        contact.consent_source = source_value
        contact.consent_at = at_value
        contact.updated_at = now
        s.add(contact)
        audit.record(s, actor, "contact.consent_grant", "contact", contact.id, before, _snapshot(contact), clock=clock)
        s.commit()
        return _load(s, contact.id)


def revoke_consent(
    actor: Actor, contact_id: uuid.UUID | str, *, source: str | None = None, clock: Clock = system_clock
) -> ContactView:
    """Consent withdrawn (e.g. the person asked by phone): no outreach to this contact from now on. The number
    is not put on the suppression list (use `suppress` for "never again")."""
    authorize(actor, Action.contacts_manage)
    now = clock.now()
    source_value = _clean_source(source, required=False)
    with tenant_session(actor.tenant_id) as s:
        contact = _get_row(s, contact_id, lock=True)
        before = _snapshot(contact)
        contact.consent_status = ConsentStatus.revoked
        contact.consent_source = source_value or "revoked by operator"
        contact.consent_at = now
        contact.updated_at = now
        s.add(contact)
        audit.record(s, actor, "contact.consent_revoke", "contact", contact.id, before, _snapshot(contact), clock=clock)
        s.commit()
        return _load(s, contact.id)


def suppress(actor: Actor, wa_number: str, reason: str = "operator", *, clock: Clock = system_clock) -> SuppressionView:
    """Put a number on the tenant-wide suppression list (no number of the tenant will ever write to it). The
    contact with that number, if any, has its consent revoked and its outreach targets set to opt-out."""
    authorize(actor, Action.contacts_manage)
    number = normalise_phone(wa_number)
    reason = " ".join(str(reason or "operator").split())
    if len(reason) > MAX_SOURCE:
        raise ValidationFailed("contacts.reason_too_long", field="reason")

    with tenant_session(actor.tenant_id) as s:
        result = apply_suppression(s, actor.tenant_id, number, reason=reason, now=clock.now())
        audit.record(s, actor, "contact.suppress", "suppression", number,
                     after={"wa_number": number, "reason": reason, "contact_id": result.contact_id})  # fmt: skip
        s.commit()
        row = s.exec(select(Suppression).where(Suppression.wa_number == number)).one()
        name = s.execute(text("SELECT display_name FROM contacts WHERE wa_number = :n"), {"n": number}).scalar()
        return SuppressionView(row.wa_number, row.reason, row.contact_id, name, row.created_at)


def lift_suppression(actor: Actor, wa_number: str) -> None:
    """Remove a number from the suppression list (e.g. the person asked to be contacted again). Admin with MFA
    only: it re-opens a number that asked not to be contacted. Consent must then be recorded again."""
    authorize(actor, Action.settings_safety_limits_raise)
    number = normalise_phone(wa_number)
    with tenant_session(actor.tenant_id) as s:
        row = s.exec(select(Suppression).where(Suppression.wa_number == number).with_for_update()).first()
        if row is None:
            raise NotFound("contacts.suppression_not_found", field="wa_number")
        before = {"wa_number": row.wa_number, "reason": row.reason, "created_at": row.created_at}
        s.delete(row)
        s.execute(text("UPDATE contacts SET opted_out_at = NULL, updated_at = now() WHERE wa_number = :n"),
                  {"n": number})  # fmt: skip
        audit.record(s, actor, "contact.unsuppress", "suppression", number, before=before)
        s.commit()


def list_suppressions(actor: Actor, *, limit: int = 100, offset: int = 0) -> tuple[list[SuppressionView], int]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        total = s.exec(select(func.count()).select_from(Suppression)).one()
        rows = s.execute(
            text(
                "SELECT su.wa_number, su.reason, su.contact_id, c.display_name, su.created_at FROM suppression su "
                "LEFT JOIN contacts c ON c.wa_number = su.wa_number ORDER BY su.created_at DESC LIMIT :l OFFSET :o"
            ),
            {"l": max(1, min(limit, MAX_PAGE)), "o": max(0, offset)},
        ).all()
    return [SuppressionView(r.wa_number, r.reason, r.contact_id, r.display_name, r.created_at) for r in rows], total


# -- CSV import -------------------------------------------------------------------------------------------------

# Folded header (see logic.optout.fold, spaces → "_") → field.
HEADER_ALIASES: dict[str, str] = {}
for _field, _aliases in {
    "phone": ("telefone", "phone", "whatsapp", "numero", "number", "celular", "mobile", "fone", "tel",
              "wa_number", "phone_number", "numero_whatsapp", "numero_de_telefone", "telefone_celular", "e164"),
    "name": ("nome", "name", "display_name", "contato", "contact", "nome_completo", "full_name"),
    "tags": ("tags", "tag", "etiquetas", "etiqueta", "marcadores", "labels"),
    "consent": ("consentimento", "consent", "consent_status", "opt_in", "optin", "aceite", "autorizacao"),
    "basis": ("base_legal", "basis", "legal_basis", "consent_basis", "base"),
    "source": ("origem", "source", "fonte", "consent_source", "origem_consentimento", "canal"),
    "notes": ("notas", "notes", "observacoes", "observacao", "obs", "nota", "note", "comentarios"),
    "consent_at": ("consent_at", "data_consentimento", "consentimento_em", "consented_at", "consent_date",
                   "data_do_consentimento", "data"),
}.items():  # fmt: skip
    for _alias in _aliases:
        HEADER_ALIASES[_alias] = _field

_YES = {"sim", "s", "yes", "y", "true", "1", "x", "granted", "concedido", "concedida", "consentiu", "aceito",
        "aceitou", "opt in", "optin", "ok", "autorizado", "autorizou", "verdadeiro", "v"}  # fmt: skip
_NO = {"nao", "n", "no", "false", "0", "revoked", "revogado", "revogada", "negado", "recusou", "opt out", "optout",
       "falso", "f"}  # fmt: skip
_UNKNOWN = {"unknown", "desconhecido", "?", "pendente", "pending"}
_BASES = {
    "consent": "consent", "consentimento": "consent",
    "legitimate interest": "legitimate_interest", "legitimate_interest": "legitimate_interest",
    "interesse legitimo": "legitimate_interest", "legitimo interesse": "legitimate_interest",
    "contract": "contract", "contrato": "contract", "execucao de contrato": "contract",
    "legal obligation": "legal_obligation", "obrigacao legal": "legal_obligation",
}  # fmt: skip


def _header_key(name: str) -> str:
    return fold(name).replace(" ", "_")


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("contacts.csv_unreadable", field="file")


def _delimiter(header_line: str) -> str:
    counts = {d: _count_outside_quotes(header_line, d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


@dataclass
class _Row:
    line: int
    raw: str
    phone: str
    name: str | None = None
    tags: list[str] | None = None
    notes: str | None = None
    consent: ConsentStatus | None = None
    basis: str | None = None
    source: str | None = None
    consent_at: datetime | None = None


class _RowError(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def _parse_consent(value: str) -> ConsentStatus | None:
    key = fold(value)
    if not key:
        return None
    if key in _YES:
        return ConsentStatus.granted
    if key in _NO:
        return ConsentStatus.revoked
    if key in _UNKNOWN:
        return ConsentStatus.unknown
    raise _RowError("consent_invalid", value=value)


def _parse_basis(value: str) -> str | None:
    key = fold(value).replace("_", " ")
    if not key:
        return None
    basis = _BASES.get(key) or _BASES.get(key.replace(" ", "_"))
    if basis is None:
        raise _RowError("basis_invalid", value=value)
    return basis


_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def _parse_at(value: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    text_value = value.strip()
    if not text_value:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text_value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise _RowError("consent_at_invalid", value=value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)  # a wall time in the tenant's timezone
    if parsed > now + _CLOCK_SKEW:
        raise _RowError("consent_at_invalid", value=value)
    return parsed.astimezone(UTC)


def _raw(values: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(values)
    return buffer.getvalue()[:500]


def _parse_row(
    line: int, values: list[str], columns: list[str | None], delimiter: str, tz: ZoneInfo, now: datetime
) -> _Row:
    raw = _raw(values, delimiter)
    if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
        raise _RowError("extra_columns")
    data: dict[str, str] = {}
    for column, value in zip(columns, values, strict=False):
        if column is not None and column not in data:
            data[column] = value.strip()
    phone_raw = data.get("phone", "")
    if not phone_raw:
        raise _RowError("missing_phone")
    try:
        phone = normalise_e164(phone_raw)
    except InvalidPhone as exc:
        raise _RowError("invalid_phone", detail=exc.reason) from None
    row = _Row(line=line, raw=raw, phone=phone)
    if data.get("name"):
        name = " ".join(data["name"].split())
        if len(name) > MAX_NAME:
            raise _RowError("name_too_long")
        row.name = name
    if data.get("tags"):
        try:
            row.tags = clean_tags(split_tags(data["tags"]))
        except ValidationFailed as exc:
            raise _RowError("too_many_tags" if exc.code == "contacts.too_many_tags" else "tag_invalid") from None
    if data.get("notes"):
        if len(data["notes"]) > MAX_NOTES:
            raise _RowError("notes_too_long")
        row.notes = data["notes"]
    row.consent = _parse_consent(data.get("consent", ""))
    row.basis = _parse_basis(data.get("basis", ""))
    source = " ".join(data.get("source", "").split())
    if len(source) > MAX_SOURCE:
        raise _RowError("source_too_long")
    row.source = source or None
    row.consent_at = _parse_at(data.get("consent_at", ""), tz, now)
    return row


def _row_error(line: int, raw: str, reason: str, **params: Any) -> ImportRowError:
    return ImportRowError(line, reason, raw, message_for(f"contacts.import.{reason}", params))


def read_csv(data: bytes | str) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """(delimiter, header, [(first line number of the record, values)]) — records spanning several physical lines
    (quoted newlines) are numbered by the line they start on; blank lines are skipped."""
    if isinstance(data, bytes) and len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed("contacts.csv_too_large", field="file", status=413)
    content = _decode(data)
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed("contacts.csv_too_large", field="file", status=413)
    if not content.strip():
        raise ValidationFailed("contacts.csv_empty", field="file")
    first_line = content.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    previous_end = 0
    try:
        for values in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if header is None:
                header = values
                continue
            records.append((start, values))
            if len(records) > MAX_IMPORT_ROWS:
                raise ValidationFailed("contacts.csv_too_large", field="file", status=413)
    except csv.Error:
        raise ValidationFailed("contacts.csv_unreadable", field="file") from None
    if header is None:
        raise ValidationFailed("contacts.csv_empty", field="file")
    return delimiter, header, records


def import_csv(
    actor: Actor,
    data: bytes | str,
    *,
    progress: Callable[[int, int], None] | None = None,
    default_source: str = "csv import",
    clock: Clock = system_clock,
) -> ImportReport:
    """Import contacts from CSV text (see the module docstring). `progress(done, total)` is called as rows are
    processed (at least at the start and the end), e.g. to drive a progress bar.

    A row's consent column (sim/não, yes/no, ...) grants or revokes consent; granted consent takes the row's
    basis (default "consent"), source (default `default_source`) and date (default now). A number already known
    is updated: non-empty values replace, tags are added. Suppressed numbers cannot be granted consent.
    """
    authorize(actor, Action.contacts_manage)
    delimiter, header, records = read_csv(data)
    columns: list[str | None] = [HEADER_ALIASES.get(_header_key(name)) for name in header]
    if "phone" not in columns:
        raise ValidationFailed("contacts.csv_no_phone_column", field="file")
    report = ImportReport(total_rows=len(records), delimiter=delimiter)
    report.columns = {name: col_ for name, col_ in zip(header, columns, strict=False) if col_}
    now = clock.now()
    total = len(records)
    if progress:
        progress(0, total)
    step = max(1, total // 100)
    first_seen: dict[str, int] = {}
    with tenant_session(actor.tenant_id) as s:
        tz = ZoneInfo(s.get(Tenant, actor.tenant_id).timezone)
    done = 0
    for batch_start in range(0, total, IMPORT_BATCH):
        batch = records[batch_start : batch_start + IMPORT_BATCH]
        parsed: list[_Row] = []
        for line, values in batch:
            try:
                row = _parse_row(line, values, columns, delimiter, tz, now)
            except _RowError as exc:
                report.errors.append(_row_error(line, _raw(values, delimiter), exc.reason, **exc.params))
                continue
            if row.phone in first_seen:
                report.duplicates += 1
                report.duplicate_rows.append(
                    {"line": line, "first_line": first_seen[row.phone], "wa_number": row.phone}
                )
                continue
            first_seen[row.phone] = line
            parsed.append(row)
        with tenant_session(actor.tenant_id) as s:
            numbers = [r.phone for r in parsed]
            existing = {c.wa_number: c for c in s.exec(select(Contact).where(col(Contact.wa_number).in_(numbers)))}
            suppressed = set(
                s.execute(text("SELECT wa_number FROM suppression WHERE wa_number = ANY(:n)"), {"n": numbers}).scalars()
            )
            for row in parsed:
                try:
                    with s.begin_nested():
                        created = _apply_row(s, actor, row, existing.get(row.phone), row.phone in suppressed,
                                             default_source, now)  # fmt: skip
                except _RowError as exc:
                    report.errors.append(_row_error(row.line, row.raw, exc.reason, **exc.params))
                    existing.pop(row.phone, None)
                    continue
                except IntegrityError as exc:  # e.g. a concurrent edit created the same number meanwhile
                    report.errors.append(_row_error(row.line, row.raw, "database", detail=type(exc.orig).__name__))
                    existing.pop(row.phone, None)
                    continue
                if created:
                    report.imported += 1
                else:
                    report.updated += 1
            s.commit()
        done += len(batch)
        if progress and (done == total or done % step < len(batch)):
            progress(done, total)
    report.errors.sort(key=lambda e: e.line)
    with tenant_session(actor.tenant_id) as s:
        audit.record(s, actor, "contacts.import", "contact", None,
                     after={k: v for k, v in report.as_dict().items() if k not in ("errors", "duplicate_rows")},
                     clock=clock)  # fmt: skip
        s.commit()
    if progress and total == 0:
        progress(0, 0)
    return report


def _apply_row(
    s, actor: Actor, row: _Row, contact: Contact | None, suppressed: bool, default_source: str, now: datetime
) -> bool:
    """Write one parsed row (inside its savepoint); True when a contact was created."""
    if row.consent == ConsentStatus.granted and (
        suppressed or (contact is not None and contact.opted_out_at is not None)
    ):
        raise _RowError("suppressed")
    created = contact is None
    if created:
        contact = Contact(tenant_id=actor.tenant_id, wa_number=row.phone, created_at=now)
    else:
        contact.updated_at = now
    if row.name is not None:
        contact.display_name = row.name
    elif created:
        contact.display_name = ""
    if row.tags:
        contact.tags = clean_tags([*(contact.tags or []), *row.tags]) if not created else row.tags
    if row.notes is not None:
        contact.notes = row.notes
    if row.consent == ConsentStatus.granted:
        contact.consent_status = ConsentStatus.granted
        contact.consent_basis = row.basis or "consent"
        contact.consent_source = row.source or default_source
        contact.consent_at = row.consent_at or now
    elif row.consent == ConsentStatus.revoked:
        contact.consent_status = ConsentStatus.revoked
        contact.consent_source = row.source or default_source
        contact.consent_at = row.consent_at or now
    elif row.consent == ConsentStatus.unknown and created:
        contact.consent_status = ConsentStatus.unknown
    s.add(contact)
    s.flush()
    return created


# -- CSV export -------------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A text cell, neutralised against spreadsheet formula injection."""
    text_value = "" if value is None else str(value)
    if text_value.startswith(_FORMULA_START):
        return "'" + text_value
    return text_value


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
        rows = s.execute(text(_VIEW_SQL + " ORDER BY c.created_at, c.id"))
        for r in rows:
            v = _view(r)
            writer.writerow(
                [
                    v.wa_number,  # normalised digits with "+": never a formula
                    _cell(v.display_name),
                    _cell("|".join(v.tags)),
                    v.consent_status,
                    v.consent_basis or "",
                    _cell(v.consent_source or ""),
                    v.consent_at.isoformat() if v.consent_at else "",
                    _cell(v.notes),
                    v.opted_out_at.isoformat() if v.opted_out_at else "",
                    "yes" if v.suppressed else "no",
                    v.created_at.isoformat(),
                ]
            )
            count += 1
        audit.record(s, actor, "contacts.export", "contact", None, after={"rows": count}, clock=clock)
        s.commit()
    return buffer.getvalue()
