"""The append-only consent history (LGPD Art. 8): every path that grants or revokes a contact's consent writes one
row here, in its own transaction, so consent can be proven later. The database refuses any UPDATE or DELETE of
these rows (alembic 0021); an erasure only blanks the person's number and free-text source
(`mirage_consent_erase`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

GRANTED = "granted"
REVOKED = "revoked"
ERASED = "erased"
SYSTEM = "system"
CONTACT = "contact"  # the person themselves (an opt-out message)

_INSERT = text(
    "INSERT INTO consent_events (tenant_id, contact_id, wa_number, event, basis, source, at, actor, recorded_at) "
    "VALUES (:t, :c, :n, :e, :b, :s, :at, :actor, :now)"
)


@dataclass(frozen=True)
class ConsentEntry:
    event: str
    basis: str | None
    source: str | None
    at: datetime
    actor: str
    recorded_at: datetime
    wa_number: str | None


def record(
    s,
    tenant_id: uuid.UUID,
    contact_id: uuid.UUID,
    wa_number: str | None,
    event: str,
    *,
    basis: str | None = None,
    source: str | None = None,
    at: datetime,
    actor: str,
    now: datetime,
) -> None:
    """One history row, in the caller's transaction. `at` is when consent was given or taken (a CSV may date it
    in the past); `now` when it was recorded."""
    s.execute(
        _INSERT,
        {
            "t": tenant_id,
            "c": contact_id,
            "n": wa_number,
            "e": event,
            "b": basis,
            "s": (source or None) and source[:200],
            "at": at,
            "actor": (actor or SYSTEM)[:254],
            "now": now,
        },
    )


def history(s, contact_id: uuid.UUID) -> list[ConsentEntry]:
    """A contact's history, oldest first."""
    rows = s.execute(
        text(
            "SELECT event, basis, source, at, actor, recorded_at, wa_number FROM consent_events "
            "WHERE contact_id = :c ORDER BY recorded_at, at, id"
        ),
        {"c": contact_id},
    ).all()
    return [ConsentEntry(r.event, r.basis, r.source, r.at, r.actor, r.recorded_at, r.wa_number) for r in rows]


def erase(s, contact_id: uuid.UUID) -> int:
    """Blank the number and the source of a contact's rows (the only change the database allows); how many."""
    return int(s.execute(text("SELECT mirage_consent_erase(:c)"), {"c": contact_id}).scalar() or 0)
