"""Contact field rules: the limits, and one cleaner per field (number, name, tags, notes, consent status, legal
basis, source, consent date) that returns the stored form or raises `ValidationFailed` with the field's i18n code.
Every number is kept in ONE canonical E.164 form (Brazilian mobiles with the ninth digit, see `logic.phone`), so a
person is never two contacts and an opt-out always matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from mirage_app.base.errors import ValidationFailed
from mirage_app.logic.optout import fold
from mirage_app.logic.phone import InvalidPhone, normalise_e164
from mirage_app.models import ConsentStatus

CONSENT_BASES: tuple[str, ...] = ("consent", "legitimate_interest", "contract", "legal_obligation")
# How a legal basis may be written (folded: lower case, no accents, "_" as a space), in a form or a CSV column.
BASIS_SPELLINGS = {
    "consent": "consent", "consentimento": "consent",
    "legitimate interest": "legitimate_interest", "interesse legitimo": "legitimate_interest",
    "legitimo interesse": "legitimate_interest",
    "contract": "contract", "contrato": "contract", "execucao de contrato": "contract",
    "legal obligation": "legal_obligation", "obrigacao legal": "legal_obligation",
}  # fmt: skip
CONSENT_FILTERS: tuple[str, ...] = ("granted", "revoked", "unknown", "suppressed", "contactable")
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_NAME = 120
MAX_NOTES = 2000
MAX_SOURCE = 200
MAX_PAGE = 500
CONSENT_CLOCK_SKEW = timedelta(minutes=5)  # a consent date this far ahead of our clock is still accepted


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "leave this field as it is" in `update_contact`

_TAG_FORBIDDEN = re.compile(r"[,;|]")


def normalise_phone(raw: str, *, field_name: str = "wa_number") -> str:
    try:
        return normalise_e164(str(raw or ""))
    except InvalidPhone as exc:
        raise ValidationFailed("contacts.phone_invalid", field=field_name, reason=exc.reason) from exc


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


def clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if len(name) > MAX_NAME:
        raise ValidationFailed("contacts.name_too_long", field="display_name")
    return name


def clean_notes(value: Any) -> str:
    notes = str(value or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationFailed("contacts.notes_too_long", field="notes")
    return notes


def clean_status(value: str | None) -> ConsentStatus | None:
    if value in (None, ""):
        return None
    try:
        return ConsentStatus(str(value))
    except ValueError:
        raise ValidationFailed("contacts.consent_invalid", field="consent_status") from None


def clean_basis(value: Any) -> str:
    """The stored code of a legal basis, from its code or its name in either language ("Legítimo interesse")."""
    basis = BASIS_SPELLINGS.get(fold(str(value or "")))
    if basis is None:
        raise ValidationFailed("contacts.basis_invalid", field="consent_basis")
    return basis


def clean_source(value: Any, *, required: bool) -> str | None:
    source = " ".join(str(value or "").split())
    if not source:
        if required:
            raise ValidationFailed("contacts.source_required", field="consent_source")
        return None
    if len(source) > MAX_SOURCE:
        raise ValidationFailed("contacts.source_too_long", field="consent_source")
    return source


def clean_consent_at(value: datetime | None, now: datetime) -> datetime:
    """When consent was given: default now, naive means UTC, not (much) in the future."""
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value > now + CONSENT_CLOCK_SKEW:
        raise ValidationFailed("contacts.consent_at_future", field="consent_at")
    return value
