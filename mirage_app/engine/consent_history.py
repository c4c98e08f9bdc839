"""The append-only consent history (LGPD Art. 8), so consent can be proven later. The database writes it: a
trigger on `contacts` (alembic 0024) appends a row whenever a contact is stored with, or changed to, a grant or a
revocation, with its basis, source and time, and the actor the writer named for its transaction (`act_as`). The
database refuses any UPDATE or DELETE of these rows (alembic 0021, 0024); an erasure only blanks the person's
number and free-text source (`mirage_consent_erase`) and appends its own mark (`erase`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

REVOKED = "revoked"
ERASED = "erased"
SYSTEM = "system"
CONTACT = "contact"  # the person themselves (an opt-out message)

_ACT_AS = text("SELECT set_config('mirage.actor', :actor, true)")
_ERASED = text(
    "INSERT INTO consent_events (tenant_id, contact_id, event, at, actor) "
    "VALUES (:t, :c, :e, :at, mirage_consent_actor())"
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


def act_as(s, actor: str) -> None:
    """Name who changes consent in the caller's transaction (the history's `actor`; unnamed: "system")."""
    s.execute(_ACT_AS, {"actor": actor or SYSTEM})


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


def erase(s, tenant_id: uuid.UUID, contact_id: uuid.UUID, at: datetime) -> int:
    """Blank the number and the source of a contact's rows (the only change the database allows) and mark the
    erasure in the history, by the transaction's actor; how many rows were blanked."""
    blanked = int(s.execute(text("SELECT mirage_consent_erase(:c)"), {"c": contact_id}).scalar() or 0)
    s.execute(_ERASED, {"t": tenant_id, "c": contact_id, "e": ERASED, "at": at})
    return blanked
