"""Who takes part in a conversation: our numbers (bots) and consenting contacts (humans), their start order, and
the pairings of numbers for pair mode.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.round_state import PAIRING_ORDER  # pages list pairings in the scheduler's order
from mirage_app.models import Contact, Conversation, ConversationParticipant, Pairing, ParticipantKind
from mirage_app.services.conversations.records import is_ready, load_conversation, mark_changed, parse_uuid, stop
from mirage_app.services.instances import get_number


@dataclass(frozen=True)
class ParticipantView:
    id: uuid.UUID
    kind: str  # bot | human
    number_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    label: str
    wa_number: str | None
    status: str  # number status, or the contact's consent status
    role: str
    start_order: int


@dataclass(frozen=True)
class PairingView:
    id: uuid.UUID
    number_a_id: uuid.UUID
    number_b_id: uuid.UUID
    label_a: str
    label_b: str


def list_participants(actor: Actor, conversation_id: Any) -> list[ParticipantView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        return _participants(s, conv.id)


def _participants(s, conversation_id: uuid.UUID) -> list[ParticipantView]:
    rows = s.execute(
        text(
            "SELECT p.id, p.kind::text AS kind, p.number_id, p.contact_id, p.role, p.start_order, "
            "COALESCE(n.label, c.display_name, c.wa_number, '') AS label, COALESCE(n.wa_number, c.wa_number) AS wa, "
            "COALESCE(n.status::text, c.consent_status::text, '') AS status "
            "FROM conversation_participants p LEFT JOIN numbers n ON n.id = p.number_id "
            "LEFT JOIN contacts c ON c.id = p.contact_id WHERE p.conversation_id = :c ORDER BY p.start_order, p.id"
        ),
        {"c": conversation_id},
    ).all()
    return [
        ParticipantView(r.id, r.kind, r.number_id, r.contact_id, r.label, r.wa, r.status, r.role, r.start_order)
        for r in rows
    ]


def add_participant(
    actor: Actor,
    conversation_id: Any,
    *,
    number_id: Any = None,
    contact_id: Any = None,
    role: str = "member",
    start_order: int | None = None,
    clock: Clock = system_clock,
) -> ParticipantView:
    """Add one of our numbers (a bot) or a consenting contact (a human); appended unless `start_order` says."""
    authorize(actor, Action.conversations_manage)
    if (number_id is None) == (contact_id is None):
        raise ValidationFailed("participants.one_of", field="number_id")
    role = str(role or "member").strip()[:40] or "member"
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        if number_id is not None:
            key = get_number(s, number_id, field="number_id").id
            dup = ConversationParticipant.number_id == key
            kind = ParticipantKind.bot
        else:
            key = parse_uuid(contact_id)
            contact = s.get(Contact, key) if key else None
            if contact is None:
                raise NotFound("contacts.not_found", field="contact_id")
            if str(contact.consent_status) != "granted" or contact.opted_out_at is not None:
                raise ValidationFailed("participants.no_consent", field="contact_id")
            dup = ConversationParticipant.contact_id == key
            kind = ParticipantKind.human
        if s.exec(
            select(ConversationParticipant.id).where(ConversationParticipant.conversation_id == conv.id, dup)
        ).first():
            raise Conflict("participants.duplicate", field="number_id" if number_id is not None else "contact_id")
        if start_order is None:
            current = s.exec(
                select(func.max(ConversationParticipant.start_order)).where(
                    ConversationParticipant.conversation_id == conv.id
                )
            ).one()
            start_order = 0 if current is None else current + 1
        elif isinstance(start_order, bool) or not isinstance(start_order, int) or start_order < 0:
            raise ValidationFailed("participants.order_invalid", field="start_order")
        p = ConversationParticipant(
            tenant_id=actor.tenant_id,
            conversation_id=conv.id,
            kind=kind,
            number_id=key if kind == ParticipantKind.bot else None,
            contact_id=key if kind == ParticipantKind.human else None,
            role=role,
            start_order=start_order,
        )
        s.add(p)
        mark_changed(conv, clock)
        s.add(conv)
        s.flush()
        audit.record(
            s, actor, "conversation.participant_add", "conversation", conv.id,
            after={"participant": str(p.id), "kind": kind.value, "ref": str(key)},
        )  # fmt: skip
        s.commit()
        return next(v for v in _participants(s, conv.id) if v.id == p.id)


def _participant(s, conv: Conversation, participant_id: Any) -> ConversationParticipant:
    key = parse_uuid(participant_id)
    p = s.get(ConversationParticipant, key) if key else None
    if p is None or p.conversation_id != conv.id:
        raise NotFound("participants.not_found")
    return p


def _pairings_of(s, conv: Conversation, p: ConversationParticipant) -> list[Pairing]:
    if p.number_id is None:
        return []
    return list(
        s.exec(
            select(Pairing).where(
                Pairing.conversation_id == conv.id,
                (Pairing.number_a_id == p.number_id) | (Pairing.number_b_id == p.number_id),
            )
        ).all()
    )


def seat_impact(s, conv: Conversation, p: ConversationParticipant) -> Impact:
    """What taking the participant out would do, read without changing anything: its number's pairings go, and an
    active conversation left unable to run (fewer than two people, no pairs...) is switched off."""
    pairings = _pairings_of(s, conv, p)
    label = next((v.label for v in _participants(s, conv.id) if v.id == p.id), "")
    dependents = [Dependent("pairing", str(len(pairings)), Effect.deleted)] if pairings else []
    if conv.active and not is_ready(s, conv, leaving=p):
        dependents.append(Dependent("conversation", conv.name, Effect.deactivated))
    return Impact(label, tuple(dependents))


def stops_conversation(impact: Impact) -> bool:
    """The seat's impact says its conversation is switched off (see `seat_impact`)."""
    return any(d.kind == "conversation" and d.effect is Effect.deactivated for d in impact.dependents)


def take_out(s, conv: Conversation, p: ConversationParticipant, clock: Clock) -> Impact:
    """Remove the participant and its number's pairings (flushed, not committed) and apply `seat_impact`: a
    conversation that can no longer run stops like a deactivated one (its running round is aborted)."""
    impact = seat_impact(s, conv, p)
    for pairing in _pairings_of(s, conv, p):
        s.delete(pairing)
    s.delete(p)
    s.flush()
    if stops_conversation(impact):
        stop(s, conv, clock)
    return impact


def participant_impact(actor: Actor, conversation_id: Any, participant_id: Any) -> Impact:
    """What removing the participant would do (`seat_impact`)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        return seat_impact(s, conv, _participant(s, conv, participant_id))


def remove_participant(actor: Actor, conversation_id: Any, participant_id: Any, clock: Clock = system_clock) -> Impact:
    """Remove a participant (and any pairing of that number in this conversation); an active conversation that
    can no longer run without it is switched off. Returns what was done."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        p = _participant(s, conv, participant_id)
        impact = take_out(s, conv, p, clock)
        mark_changed(conv, clock)
        s.add(conv)
        audit.record(
            s, actor, "conversation.participant_remove", "conversation", conv.id, before={"participant": str(p.id)}
        )
        s.commit()
        return impact


def reorder_participants(actor: Actor, conversation_id: Any, participant_ids: list[Any], clock: Clock = system_clock):
    """Set the start order: `participant_ids` lists every participant once, first speaker first."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        people = {
            p.id: p
            for p in s.exec(
                select(ConversationParticipant).where(ConversationParticipant.conversation_id == conv.id)
            ).all()
        }
        order = [parse_uuid(x) for x in participant_ids]
        if len(order) != len(people) or set(order) != set(people):
            raise ValidationFailed("participants.order_invalid", field="participant_ids")
        for index, pid in enumerate(order):
            people[pid].start_order = index
            s.add(people[pid])
        mark_changed(conv, clock)
        s.add(conv)
        audit.record(
            s,
            actor,
            "conversation.participant_order",
            "conversation",
            conv.id,
            after={"order": [str(x) for x in order]},
        )
        s.commit()
        return _participants(s, conv.id)


def list_pairings(actor: Actor, conversation_id: Any) -> list[PairingView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        return _pairings(s, conv.id)


def _pairings(s, conversation_id: uuid.UUID) -> list[PairingView]:
    rows = s.execute(
        text(
            "SELECT p.id, p.number_a_id, p.number_b_id, a.label AS la, b.label AS lb FROM pairings p "
            "JOIN numbers a ON a.id = p.number_a_id JOIN numbers b ON b.id = p.number_b_id "
            f"WHERE p.conversation_id = :c ORDER BY {PAIRING_ORDER}"
        ),
        {"c": conversation_id},
    ).all()
    return [PairingView(r.id, r.number_a_id, r.number_b_id, r.la, r.lb) for r in rows]


def set_pairings(
    actor: Actor, conversation_id: Any, pairs: list[tuple[Any, Any]], clock: Clock = system_clock
) -> list[PairingView]:
    """Replace the pairings (pair mode): each pair is two different numbers that are participants; the first of a
    pair opens the first round, then they alternate."""
    authorize(actor, Action.conversations_manage)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        members = set(
            s.exec(
                select(ConversationParticipant.number_id).where(
                    ConversationParticipant.conversation_id == conv.id,
                    col(ConversationParticipant.number_id).is_not(None),
                )
            ).all()
        )
        seen = set()
        clean = []
        for index, pair in enumerate(pairs):
            try:
                a, b = (parse_uuid(x) for x in pair)
            except (TypeError, ValueError):
                raise ValidationFailed("pairings.invalid", field=f"pairs.{index}") from None
            if a is None or b is None or a == b or a not in members or b not in members:
                raise ValidationFailed("pairings.invalid", field=f"pairs.{index}")
            if frozenset((a, b)) in seen:
                raise ValidationFailed("pairings.duplicate", field=f"pairs.{index}")
            seen.add(frozenset((a, b)))
            clean.append((a, b))
        before = [(str(p.number_a_id), str(p.number_b_id)) for p in _pairings(s, conv.id)]
        for old in s.exec(select(Pairing).where(Pairing.conversation_id == conv.id)).all():
            s.delete(old)
        s.flush()
        for a, b in clean:
            s.add(Pairing(tenant_id=actor.tenant_id, conversation_id=conv.id, number_a_id=a, number_b_id=b))
        conv.round_cursor = 0
        mark_changed(conv, clock)
        s.add(conv)
        audit.record(
            s, actor, "conversation.pairings", "conversation", conv.id,
            before={"pairs": before}, after={"pairs": [(str(a), str(b)) for a, b in clean]},
        )  # fmt: skip
        s.commit()
        return _pairings(s, conv.id)
