"""CSV import of contacts, with its per-row error report and progress callback.

`,` or `;` (detected), pt-BR / English header aliases, one savepoint per row (a bad row is reported with its line
number as the operator sees it, header = line 1, and never half-written), numbers repeated in the file are
reported as duplicates, numbers already known update the existing contact. Consent columns follow the same rules
as `consent.py`: a suppressed number cannot be granted consent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import ValidationFailed, message_for
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import consent_history
from mirage_app.engine.suppression import erased_among
from mirage_app.logic.optout import fold
from mirage_app.logic.phone import InvalidPhone, normalise_e164
from mirage_app.models import ConsentStatus, Contact, Tenant
from mirage_app.services import plan_limits
from mirage_app.services.contacts.validation import (
    CONSENT_CLOCK_SKEW,
    clean_basis,
    clean_name,
    clean_notes,
    clean_source,
    clean_tags,
    split_tags,
)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
IMPORT_BATCH = 500  # rows per transaction (each row has its own savepoint inside it)


@dataclass
class ImportRowError:
    line: int
    reason: str  # short code; "contacts.import.<reason>" is its i18n key
    raw: str  # the row as it was in the file (trimmed to 500 characters)
    message: str = ""  # English text of the reason
    params: dict[str, str] = field(default_factory=dict)  # what fills the reason's text (value, detail)

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
    """The same rule as a contact typed in the form (`validation.clean_basis`)."""
    if not fold(value):
        return None
    try:
        return clean_basis(value)
    except ValidationFailed:
        raise _RowError("basis_invalid", value=value) from None


def _checked(clean, value: str, reason: str):
    """A field through the form's own cleaner; its failure becomes the row's `reason`."""
    try:
        return clean(value)
    except ValidationFailed:
        raise _RowError(reason) from None


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
    if parsed > now + CONSENT_CLOCK_SKEW:
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
        row.name = _checked(clean_name, data["name"], "name_too_long")
    if data.get("tags"):
        try:
            row.tags = clean_tags(split_tags(data["tags"]))
        except ValidationFailed as exc:
            raise _RowError("too_many_tags" if exc.code == "contacts.too_many_tags" else "tag_invalid") from None
    if data.get("notes"):
        row.notes = _checked(clean_notes, data["notes"], "notes_too_long")
    row.consent = _parse_consent(data.get("consent", ""))
    row.basis = _parse_basis(data.get("basis", ""))
    row.source = _checked(lambda v: clean_source(v, required=False), data.get("source", ""), "source_too_long")
    row.consent_at = _parse_at(data.get("consent_at", ""), tz, now)
    return row


def _row_error(line: int, raw: str, reason: str, **params: Any) -> ImportRowError:
    return ImportRowError(line, reason, raw, message_for(f"contacts.import.{reason}", params), params)


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
            consent_history.act_as(s, actor.label)  # the rows' consent goes to the history by the importer
            numbers = [r.phone for r in parsed]
            existing = {c.wa_number: c for c in s.exec(select(Contact).where(col(Contact.wa_number).in_(numbers)))}
            suppressed = set(
                s.execute(text("SELECT wa_number FROM suppression WHERE wa_number = ANY(:n)"), {"n": numbers}).scalars()
            )
            room = plan_limits.room_for(s, "contacts", clock=clock)
            erased = erased_among(s, numbers)
            for row in parsed:
                if row.phone in erased:  # the person asked to be erased (LGPD): never stored again
                    report.errors.append(_row_error(row.line, row.raw, "erased"))
                    continue
                try:
                    new_contact = room is not None and row.phone not in existing
                    if new_contact and room.left <= 0:
                        raise _RowError("plan_limit", limit=room.limit)
                    with s.begin_nested():
                        created = _apply_row(s, actor, row, existing.get(row.phone), row.phone in suppressed,
                                             default_source, now)  # fmt: skip
                    if new_contact:
                        room.left -= 1  # only a row that was stored takes a place of the plan
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
