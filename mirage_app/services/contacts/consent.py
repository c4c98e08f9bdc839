"""Recording a contact's consent (LGPD): status (granted / revoked) with its legal basis, source (how it was
collected) and date. Only `granted` contacts that are not suppressed are ever messaged (checked again by the send
pipeline, see `engine.contact_guard`); a suppressed or opted-out number cannot be given consent again here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from mirage_app.base import audit
from mirage_app.base.errors import Conflict
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import consent_history
from mirage_app.engine.suppression import suppressed_in
from mirage_app.models import ConsentStatus
from mirage_app.services.contacts.records import (
    ContactView,
    audit_snapshot,
    get_row,
    load_view,
)
from mirage_app.services.contacts.validation import clean_basis, clean_consent_at, clean_source


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
    basis_value = clean_basis(basis)
    source_value = clean_source(source, required=True)
    at_value = clean_consent_at(at, now)
    with tenant_session(actor.tenant_id) as s:
        consent_history.act_as(s, actor.label)
        contact = get_row(s, contact_id, lock=True)
        if suppressed_in(s, contact.wa_number) or contact.opted_out_at is not None:
            raise Conflict("contacts.suppressed", field="consent_status")
        before = audit_snapshot(contact)
        contact.consent_status = ConsentStatus.granted
        contact.consent_basis = basis_value
        contact.consent_source = source_value
        contact.consent_at = at_value
        contact.updated_at = now
        s.add(contact)
        audit.record(
            s, actor, "contact.consent_grant", "contact", contact.id, before, audit_snapshot(contact), clock=clock
        )
        s.commit()
        return load_view(s, contact.id)


def revoke_consent(
    actor: Actor, contact_id: uuid.UUID | str, *, source: str | None = None, clock: Clock = system_clock
) -> ContactView:
    """Consent withdrawn (e.g. the person asked by phone): no outreach to this contact from now on. The number
    is not put on the suppression list (use `suppress` for "never again")."""
    authorize(actor, Action.contacts_manage)
    now = clock.now()
    source_value = clean_source(source, required=False)
    with tenant_session(actor.tenant_id) as s:
        consent_history.act_as(s, actor.label)
        contact = get_row(s, contact_id, lock=True)
        before = audit_snapshot(contact)
        contact.consent_status = ConsentStatus.revoked
        contact.consent_source = source_value  # how it was withdrawn, if the operator said; the status says the rest
        contact.consent_at = now
        contact.updated_at = now
        s.add(contact)
        audit.record(
            s, actor, "contact.consent_revoke", "contact", contact.id, before, audit_snapshot(contact), clock=clock
        )
        s.commit()
        return load_view(s, contact.id)
