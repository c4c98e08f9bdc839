"""A person's right to erasure (LGPD Art. 18): one contact's personal data removed on request, admin with MFA.

In one transaction: the contact leaves its conversations and its row is deleted (its outreach targets go with it);
its messages (and inbound ones from its number before it was a contact) keep only what the caps and the metrics
count (direction, status, times, non-personal engine markers), their text and links cleared; rounds it took part
in keep its seat without its name or number; raw webhook
payloads that carry its number are blanked; audit entries about it lose their before/after; its consent history
keeps the events but loses the number and free-text source (`mirage_consent_erase`, the only change the database
allows there) and gains an `erased` event. The suppression list then keeps only a keyed hash of the number
(`core.security.number_hash`): contact creation, CSV import and the send guard refuse it, so the person is never
contacted again. The erasure is audited with counts only, never the erased data.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.core.security import number_hash
from mirage_app.engine import consent_history
from mirage_app.services.contacts.data_rights import AUDIT_WHERE, MESSAGES_WHERE, person_scope
from mirage_app.services.contacts.records import get_row, leave_conversations, removal_impact

ERASED_REASON = "erased"
# The meta keys an erased message keeps: engine bookkeeping (caps, metrics, "already handled"), never the person's
# words, name or number.
KEPT_META = ("app_origin", "kind", "send_key", "outreach_policy_id", "outreach_target_id", "round", "turn",
             "reply_latency_s", "outreach_handled", "optout_check", "origin")  # fmt: skip
_KEPT_META_SQL = ", ".join(f"'{key}', m.meta->'{key}'" for key in KEPT_META)

_MESSAGES = text(
    f"""
    UPDATE messages m SET body = '', contact_id = NULL, ref_wa_msg_id = NULL,
           meta = jsonb_strip_nulls(jsonb_build_object({_KEPT_META_SQL})) || '{{"erased": true}}'::jsonb,
           status = CASE WHEN m.status = 'queued' THEN 'failed' ELSE m.status END,
           error = CASE WHEN m.status = 'queued' THEN 'contact_erased' ELSE m.error END,
           send_after = CASE WHEN m.status = 'queued' THEN NULL ELSE m.send_after END,
           updated_at = :now
    WHERE {MESSAGES_WHERE}
    """
)
_LOCK_MESSAGES = text(f"SELECT m.id FROM messages m WHERE {MESSAGES_WHERE} ORDER BY m.id FOR UPDATE")
# A round's frozen participant list names a human participant (label, number): they become `{kind, erased}`.
_ROUNDS = text(
    """
    UPDATE rounds r SET participants = (
        SELECT jsonb_agg(CASE WHEN x.p->>'contact_id' = :cs OR CAST(x.p AS text) ~ :pattern
                              THEN jsonb_build_object('kind', x.p->'kind', 'erased', true) ELSE x.p END
                         ORDER BY x.ord)
        FROM jsonb_array_elements(r.participants) WITH ORDINALITY AS x(p, ord))
    WHERE jsonb_typeof(r.participants) = 'array'
      AND (r.participants @> jsonb_build_array(jsonb_build_object('contact_id', CAST(:cs AS text)))
           OR CAST(r.participants AS text) ~ :pattern)
    """
)
_WEBHOOKS = text(
    "UPDATE webhook_events SET payload = '{\"erased\": true}'::jsonb, error = NULL "
    "WHERE CAST(payload AS text) ~ :pattern OR CAST(error AS text) ~ :pattern"
)
_AUDIT = text(
    "UPDATE audit_log a SET before = '{}'::jsonb, after = '{\"erased\": true}'::jsonb, "
    "entity_id = CASE WHEN a.entity_id = :n THEN NULL ELSE a.entity_id END "
    f"WHERE {AUDIT_WHERE}"
)
# An existing suppression keeps its date (the metrics count opt-outs by it); the number in it becomes its hash.
_HASH_KNOWN = text("SELECT EXISTS (SELECT 1 FROM suppression WHERE number_hash = :h)")
_DROP_NUMBER = text("DELETE FROM suppression WHERE wa_number = :n")
_NUMBER_TO_HASH = text(
    "UPDATE suppression SET wa_number = NULL, number_hash = :h, contact_id = NULL, reason = :r WHERE wa_number = :n"
)
_SUPPRESS_HASH = text(
    "INSERT INTO suppression (id, tenant_id, wa_number, number_hash, contact_id, reason, created_at) "
    "VALUES (gen_random_uuid(), :t, NULL, :h, NULL, :r, :now) ON CONFLICT (tenant_id, number_hash) DO NOTHING"
)


@dataclass(frozen=True)
class ErasureReport:
    contact_id: uuid.UUID
    messages: int
    webhook_events: int
    audit_entries: int
    consent_events: int

    def as_dict(self) -> dict[str, int | str]:
        return {**asdict(self), "contact_id": str(self.contact_id)}


def erasure_impact(actor: Actor, contact_id: uuid.UUID | str) -> Impact:
    """What erasing would do, for the confirmation dialog: the delete's own effects (conversations left, targets
    deleted), the messages whose text is cleared, and the number kept only as a hash on the suppression list."""
    authorize(actor, Action.contacts_erase)
    with tenant_session(actor.tenant_id) as s:
        contact = get_row(s, contact_id)
        scope = person_scope(s, contact.id)
        deleted = removal_impact(s, contact)
        messages = s.execute(text(f"SELECT count(*) FROM messages m WHERE {MESSAGES_WHERE}"),
                             {"c": scope.contact_id, "n": scope.wa_number}).scalar()  # fmt: skip
    dependents = [d for d in deleted.dependents if d.kind != "message"]
    if messages:
        dependents.append(Dependent("erased_message", str(messages), Effect.deleted))
    dependents.append(Dependent("erased_number", contact.wa_number, Effect.kept))
    return Impact(deleted.name, tuple(dependents))


def erase_person(actor: Actor, contact_id: uuid.UUID | str, *, clock: Clock = system_clock) -> ErasureReport:
    """Erase one contact's personal data (see the module docstring). Another tenant's id is NotFound."""
    authorize(actor, Action.contacts_erase)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        scope = person_scope(s, contact_id)
        params = {"c": scope.contact_id, "n": scope.wa_number, "ids": scope.ids, "pattern": scope.pattern,
                  "now": now}  # fmt: skip
        # Their messages first, then the contact: the send pipeline locks in that order (its claim, then the
        # guard's FOR SHARE of the contact), so an erasure waits for a send in flight instead of deadlocking.
        s.execute(_LOCK_MESSAGES, params)
        contact = get_row(s, scope.contact_id, lock=True)
        leave_conversations(s, contact, clock)
        messages = s.execute(_MESSAGES, params).rowcount
        s.execute(_ROUNDS, {**params, "cs": str(scope.contact_id)})
        webhooks = s.execute(_WEBHOOKS, params).rowcount
        entries = s.execute(_AUDIT, params).rowcount
        consent_history.act_as(s, actor.label)
        consents = consent_history.erase(s, actor.tenant_id, scope.contact_id, now)
        _keep_only_the_hash(s, actor.tenant_id, scope.wa_number, now)
        s.delete(contact)  # its outreach targets go with it (ON DELETE CASCADE)
        s.flush()
        report = ErasureReport(scope.contact_id, messages, webhooks, entries, consents)
        audit.record(s, actor, "contact.erase", "contact", scope.contact_id, after=report.as_dict(), clock=clock)
        s.commit()
    return report


def _keep_only_the_hash(s, tenant_id: uuid.UUID, e164: str, now: datetime) -> None:
    """The suppression list keeps the person as a keyed hash of the number, never the number itself."""
    hashed = {"t": tenant_id, "n": e164, "h": number_hash(e164), "r": ERASED_REASON, "now": now}
    if s.execute(_HASH_KNOWN, hashed).scalar():  # erased before (then suppressed again by number)
        s.execute(_DROP_NUMBER, hashed)
    elif s.execute(_NUMBER_TO_HASH, hashed).rowcount == 0:
        s.execute(_SUPPRESS_HASH, hashed)
