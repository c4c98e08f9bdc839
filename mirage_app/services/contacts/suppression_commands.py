"""The operator's commands on the tenant-wide suppression list: suppress a number, lift a suppression (admin with
MFA) and page through the list. The list itself, and the one path that adds to it, live in `engine.suppression`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import func, select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.suppression import apply_suppression
from mirage_app.logic.optout import OPERATOR_SOURCE
from mirage_app.models import Suppression
from mirage_app.services.contacts.validation import MAX_PAGE, MAX_SOURCE, normalise_phone


@dataclass(frozen=True)
class SuppressionView:
    wa_number: str | None  # None for an erased person: only the keyed hash of their number is kept
    reason: str
    contact_id: uuid.UUID | None
    display_name: str | None
    created_at: datetime


def suppress(
    actor: Actor, wa_number: str, reason: str = OPERATOR_SOURCE, *, clock: Clock = system_clock
) -> SuppressionView:
    """Put a number on the tenant-wide suppression list (no number of the tenant will ever write to it). The
    contact with that number, if any, has its consent revoked and its outreach targets set to opt-out."""
    authorize(actor, Action.contacts_manage)
    number = normalise_phone(wa_number)
    reason = " ".join(str(reason or OPERATOR_SOURCE).split())
    if len(reason) > MAX_SOURCE:
        raise ValidationFailed("contacts.reason_too_long", field="reason")

    with tenant_session(actor.tenant_id) as s:
        result = apply_suppression(s, actor.tenant_id, number, reason=reason, now=clock.now(), actor=actor.label)
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
