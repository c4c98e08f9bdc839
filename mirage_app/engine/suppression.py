"""The tenant's suppression list: a number that opted out is never contacted again.

One path adds a number, whoever asks (an inbound opt-out or an operator on the contacts page): the contact's consent
is revoked, its outreach targets are opted out and its queued outreach sends are cancelled, in the caller's
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.core.security import number_hash
from mirage_app.engine import consent_history
from mirage_app.engine.outreach_sends import IS_OUTREACH_SEND
from mirage_app.logic.phone import InvalidPhone, normalise_e164


@dataclass(frozen=True)
class SuppressionResult:
    suppression_id: uuid.UUID | None  # set when this call added the number (None: it was already suppressed)
    contact_id: uuid.UUID | None
    targets_opted_out: int
    sends_cancelled: int


def is_suppressed(tenant_id: uuid.UUID | str, wa_number: str) -> bool:
    """Is this number (any spelling) on the tenant's suppression list?"""
    try:
        e164 = normalise_e164(wa_number)
    except InvalidPhone:
        return False
    with tenant_session(tenant_id) as s:
        return suppressed_in(s, e164)


def suppressed_in(s, e164: str) -> bool:
    """The same question inside the caller's transaction, for a number already in E.164: on the list by number,
    or by the keyed hash an erasure left (`erased_in`)."""
    return bool(
        s.execute(
            text("SELECT EXISTS (SELECT 1 FROM suppression WHERE wa_number = :n OR number_hash = :h)"),
            {"n": e164, "h": number_hash(e164)},
        ).scalar()
    )


def erased_among(s, numbers: list[str]) -> set[str]:
    """Those of `numbers` (E.164) whose person was erased (LGPD): their number stays refused, kept only as a hash."""
    hashes = {number_hash(n): n for n in numbers}
    found = s.execute(text("SELECT number_hash FROM suppression WHERE number_hash = ANY(:h)"), {"h": list(hashes)})
    return {hashes[h] for h in found.scalars()}


def erased_in(s, e164: str) -> bool:
    """Was the person with this number erased?"""
    return bool(erased_among(s, [e164]))


def apply_suppression(
    s,
    tenant_id: uuid.UUID,
    wa_number: str,
    *,
    reason: str,
    now: datetime,
    contact_id: uuid.UUID | None = None,
    actor: str = consent_history.SYSTEM,
) -> SuppressionResult:
    """Suppress `wa_number` tenant-wide, inside the caller's transaction: the contact row is locked and updated
    first (the send guard reads it FOR SHARE, so the two serialise), consent revoked with `reason` as its source,
    every target opted out, queued outreach sends cancelled. The revocation goes to the consent history (the
    contacts trigger) by `actor`."""
    # FOR NO KEY UPDATE: waits for (and blocks) the send guard's FOR SHARE, but not the foreign-key checks of
    # inserts referencing the contact, so a concurrent tick or reply holding a target lock cannot deadlock with us.
    contact = s.execute(
        text(
            "SELECT id, consent_status::text AS consent, opted_out_at FROM contacts WHERE wa_number = :n "
            "FOR NO KEY UPDATE"
        ),
        {"n": wa_number},
    ).first()
    cid = contact.id if contact is not None else contact_id
    if contact is not None and (contact.consent != consent_history.REVOKED or contact.opted_out_at is None):
        # A new revocation, saying how it came (the reason) and when: the history takes it from the row.
        consent_history.act_as(s, actor)
        s.execute(
            text(
                "UPDATE contacts SET consent_status = 'revoked', consent_source = :r, consent_at = :now, "
                "opted_out_at = COALESCE(opted_out_at, :now), updated_at = :now WHERE id = :c"
            ),
            {"c": cid, "r": reason[:200], "now": now},
        )
    suppression_id = s.execute(
        text(
            "INSERT INTO suppression (id, tenant_id, wa_number, contact_id, reason, created_at) "
            "VALUES (gen_random_uuid(), :t, :n, :c, :r, :now) ON CONFLICT (tenant_id, wa_number) DO NOTHING "
            "RETURNING id"
        ),
        {"t": tenant_id, "n": wa_number, "c": cid, "r": reason[:200], "now": now},
    ).scalar()
    targets = cancelled = 0
    if cid is not None:
        targets = s.execute(
            text(
                "UPDATE outreach_targets SET status = 'optout', updated_at = :now "
                "WHERE contact_id = :c AND status <> 'optout'"
            ),
            {"c": cid, "now": now},
        ).rowcount
        cancelled = s.execute(
            text(
                # SKIP LOCKED: a send attempt holding its row is about to run the guard, which refuses it.
                "UPDATE messages SET status = 'failed', error = 'contact_suppressed', send_after = NULL, "
                "updated_at = :now WHERE id IN (SELECT id FROM messages WHERE contact_id = :c "
                f"AND status = 'queued' AND dispatched_at IS NULL AND {IS_OUTREACH_SEND} FOR UPDATE SKIP LOCKED)"
            ),
            {"c": cid, "now": now},
        ).rowcount
    return SuppressionResult(suppression_id, cid, targets, cancelled)
