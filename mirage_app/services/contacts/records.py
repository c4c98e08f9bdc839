"""A contact's record: its read views (`ContactView`, a `ContactPage` of them), listing with search / tag / consent
filters, and create / update / retag / delete. Shared by the `/contacts` page and `/api/contacts`; consent has its
own module (`consent.py`) so it is always recorded with basis and source.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import consent_history
from mirage_app.engine.suppression import erased_in, suppressed_in
from mirage_app.logic.phone import InvalidPhone, normalise_e164
from mirage_app.logic.untrusted_input import MAX_OFFSET
from mirage_app.models import ConsentStatus, Contact, Conversation, ConversationParticipant
from mirage_app.services import plan_limits
from mirage_app.services.contacts.validation import (
    CONSENT_FILTERS,
    MAX_PAGE,
    UNSET,
    clean_basis,
    clean_consent_at,
    clean_name,
    clean_notes,
    clean_source,
    clean_status,
    clean_tags,
    normalise_phone,
)
from mirage_app.services.conversations import participants
from mirage_app.services.conversations.records import mark_changed

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


@dataclass(frozen=True)
class ContactPage:
    items: list[ContactView]
    total: int
    limit: int
    offset: int


# -- reading ----------------------------------------------------------------------------------------------------

VIEW_SQL = """
    SELECT c.id, c.wa_number, c.display_name, c.tags, c.notes, c.consent_status::text AS consent_status,
           c.consent_basis, c.consent_source, c.consent_at, c.opted_out_at, c.created_at, c.updated_at,
           su.reason AS suppression_reason, (su.id IS NOT NULL) AS suppressed
    FROM contacts c
    LEFT JOIN suppression su ON su.wa_number = c.wa_number
"""


def view_from_row(row: Any) -> ContactView:
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


def _contact_uuid(value: uuid.UUID | str, code: str = "contacts.not_found") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(code) from None


def load_view(s, contact_id: uuid.UUID | str) -> ContactView:
    row = s.execute(text(VIEW_SQL + " WHERE c.id = :id"), {"id": _contact_uuid(contact_id)}).first()
    if row is None:  # another tenant's id looks exactly like a missing one (RLS)
        raise NotFound("contacts.not_found")
    return view_from_row(row)


def get_row(s, contact_id: uuid.UUID | str, *, lock: bool = False) -> Contact:
    statement = select(Contact).where(Contact.id == _contact_uuid(contact_id))
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
    offset = max(0, min(int(offset), MAX_OFFSET))
    condition = " AND ".join(where)
    with tenant_session(actor.tenant_id) as s:
        total = s.execute(
            text(f"SELECT count(*) FROM contacts c LEFT JOIN suppression su ON su.wa_number = c.wa_number "
                 f"WHERE {condition}"),
            params,
        ).scalar()  # fmt: skip
        rows = s.execute(
            text(f"{VIEW_SQL} WHERE {condition} ORDER BY {order} {direction} NULLS LAST, c.id LIMIT :lim OFFSET :off"),
            {**params, "lim": limit, "off": offset},
        ).all()
    return ContactPage([view_from_row(r) for r in rows], int(total or 0), limit, offset)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_contact(actor: Actor, contact_id: uuid.UUID | str) -> ContactView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return load_view(s, contact_id)


def all_tags(actor: Actor) -> list[str]:
    """Every tag in use (for the tag filter), sorted case-insensitively."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(text("SELECT DISTINCT unnest(tags) AS tag FROM contacts")).scalars().all()
    return sorted(set(rows), key=str.casefold)


# -- writing ----------------------------------------------------------------------------------------------------


def audit_snapshot(c: Contact) -> dict[str, Any]:
    return {
        "wa_number": c.wa_number,
        "display_name": c.display_name,
        "tags": list(c.tags or []),
        "consent_status": c.consent_status.value if hasattr(c.consent_status, "value") else c.consent_status,
        "consent_basis": c.consent_basis,
        "consent_source": c.consent_source,
        "consent_at": c.consent_at,
    }


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
        display_name=clean_name(display_name),
        tags=clean_tags(tags),
        notes=clean_notes(notes),
    )
    status = clean_status(consent_status)
    with tenant_session(actor.tenant_id) as s:
        if s.exec(select(Contact.id).where(Contact.wa_number == contact.wa_number)).first() is not None:
            raise Conflict("contacts.phone_taken", field="wa_number")
        if erased_in(s, contact.wa_number):  # the person asked to be erased: never stored again
            raise Conflict("contacts.erased", field="wa_number")
        plan_limits.ensure_room(s, "contacts", clock=clock)
        if status == ConsentStatus.granted:
            if suppressed_in(s, contact.wa_number):
                raise Conflict("contacts.suppressed", field="consent_status")
            contact.consent_status = ConsentStatus.granted
            contact.consent_basis = clean_basis(consent_basis or "consent")
            contact.consent_source = clean_source(consent_source, required=True)
            contact.consent_at = clean_consent_at(consent_at, now)
        elif status == ConsentStatus.revoked:
            contact.consent_status = ConsentStatus.revoked
            contact.consent_basis = clean_basis(consent_basis) if consent_basis else None
            contact.consent_source = clean_source(consent_source, required=False)
            contact.consent_at = clean_consent_at(consent_at, now)
        contact.created_at = now
        consent_history.act_as(s, actor.label)
        s.add(contact)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("contacts.phone_taken", field="wa_number") from None
        audit.record(s, actor, "contact.create", "contact", contact.id, after=audit_snapshot(contact), clock=clock)
        s.commit()
        return load_view(s, contact.id)


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
        contact = get_row(s, contact_id, lock=True)
        before = audit_snapshot(contact)
        if wa_number is not UNSET:
            number = normalise_phone(wa_number)
            if number != contact.wa_number:
                taken = s.exec(select(Contact.id).where(Contact.wa_number == number, Contact.id != contact.id)).first()
                if taken is not None:
                    raise Conflict("contacts.phone_taken", field="wa_number")
                if erased_in(s, number):
                    raise Conflict("contacts.erased", field="wa_number")
                if suppressed_in(s, contact.wa_number):
                    # Moving a suppressed contact to another number would drop the opt-out on the way.
                    raise Conflict("contacts.suppressed", field="wa_number")
                contact.wa_number = number
        if display_name is not UNSET:
            contact.display_name = clean_name(display_name)
        if tags is not UNSET:
            contact.tags = clean_tags(tags)
        if notes is not UNSET:
            contact.notes = clean_notes(notes)
        contact.updated_at = clock.now()
        s.add(contact)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("contacts.phone_taken", field="wa_number") from None
        audit.record(s, actor, "contact.update", "contact", contact.id, before, audit_snapshot(contact), clock=clock)
        s.commit()
        return load_view(s, contact.id)


def add_tags(actor: Actor, contact_ids: Iterable[uuid.UUID | str], tags: Iterable[str] | str) -> int:
    """Add tags to many contacts (bulk action); returns how many contacts changed."""
    return _retag(actor, contact_ids, clean_tags(tags), add=True)


def remove_tags(actor: Actor, contact_ids: Iterable[uuid.UUID | str], tags: Iterable[str] | str) -> int:
    return _retag(actor, contact_ids, clean_tags(tags), add=False)


def _retag(actor: Actor, contact_ids: Iterable[uuid.UUID | str], tags: list[str], *, add: bool) -> int:
    authorize(actor, Action.contacts_manage)
    ids = [_contact_uuid(i) for i in contact_ids]
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


_DEPENDENTS_SQL = text(
    """
    SELECT 'target' AS kind, n.label AS name, 1 AS n
    FROM outreach_targets t JOIN outreach_policies p ON p.id = t.policy_id JOIN numbers n ON n.id = p.number_id
    WHERE t.contact_id = :c
    UNION ALL
    SELECT 'message', '', count(*) FROM messages m WHERE m.contact_id = :c HAVING count(*) > 0
    ORDER BY 1, 2
    """
)
_SEATS = (
    select(ConversationParticipant, Conversation)
    .join(Conversation, col(Conversation.id) == ConversationParticipant.conversation_id)
    .order_by(col(Conversation.name), col(Conversation.id))
)


def _seats(s, contact: Contact) -> list[tuple[ConversationParticipant, Conversation]]:
    return list(s.exec(_SEATS.where(ConversationParticipant.contact_id == contact.id)).all())


def removal_impact(s, contact: Contact) -> Impact:
    """The contact leaves its conversations by the participants' own rule (`participants.seat_impact`: one that
    can no longer run without it is switched off). Its outreach targets go with it; messages already exchanged
    stay in the history and the metrics, no longer linked to a name. A suppression of the number always stays (an
    opt-out is never undone)."""
    dependents = []
    for seat, conv in _seats(s, contact):
        stops = participants.stops_conversation(participants.seat_impact(s, conv, seat))
        dependents.append(Dependent("conversation", conv.name, Effect.deactivated if stops else Effect.detached))
    for row in s.execute(_DEPENDENTS_SQL, {"c": contact.id}):
        if row.kind == "target":
            dependents.append(Dependent("target", row.name, Effect.deleted))
        else:
            dependents.append(Dependent("message", str(row.n), Effect.kept))
    return Impact(contact.display_name or contact.wa_number, tuple(dependents))


def leave_conversations(s, contact: Contact, clock: Clock) -> None:
    """Take the contact out of every conversation it sits in (by the participants' own rule, see `removal_impact`)."""
    for seat, conv in _seats(s, contact):
        participants.take_out(s, conv, seat, clock)
        mark_changed(conv, clock)
        s.add(conv)


def contact_impact(actor: Actor, contact_id: uuid.UUID | str) -> Impact:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return removal_impact(s, get_row(s, contact_id))


def delete_contact(actor: Actor, contact_id: uuid.UUID | str, clock: Clock = system_clock) -> Impact:
    """Delete a contact and its outreach targets; it leaves its conversations first (`removal_impact`: one that can no
    longer run stops, its running round aborted). Messages stay, unlinked; a suppression of its number stays:
    deleting a contact never makes an opted-out number reachable again. Returns what was done."""
    authorize(actor, Action.contacts_manage)
    with tenant_session(actor.tenant_id) as s:
        contact = get_row(s, contact_id, lock=True)
        impact = removal_impact(s, contact)
        leave_conversations(s, contact, clock)
        before = audit_snapshot(contact)
        s.delete(contact)
        audit.record(s, actor, "contact.delete", "contact", contact.id, before=before)
        s.commit()
    return impact
