"""Deleting a persona, a policy or a contact: the impact read before the dialog is the rule the delete applies
(never leave an active object broken; archive where history exists)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, NotFound, PermissionDenied
from mirage_app.base.impact import Effect
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.models import Message, MessageDirection, MessageStatus, Number, Round, RoundState, UserRole
from mirage_app.services import contacts, conversations, outreach, personas
from tests.conftest import make_number


def _actor(tenant, role=UserRole.operator) -> Actor:
    return Actor(tenant_id=tenant, role=role, label=f"{role.value}@test")


@pytest.fixture
def op(tenant_a) -> Actor:
    return _actor(tenant_a)


def _effects(impact) -> list[tuple[str, str, Effect]]:
    return [(d.kind, d.name, d.effect) for d in impact.dependents]


def _message(tenant, number_id, contact_id=None, target_id=None) -> None:
    meta = {"app_origin": "outreach", "outreach_target_id": str(target_id)} if target_id else {}
    with tenant_session(tenant) as s:
        s.execute(
            text(
                "INSERT INTO messages (id, tenant_id, from_number_id, contact_id, direction, body, meta, status, "
                "created_at, sent_at) VALUES (gen_random_uuid(), :t, :n, :c, 'out', 'oi', CAST(:m AS jsonb), "
                "'delivered', now(), now())"
            ),
            {"t": tenant, "n": number_id, "c": contact_id, "m": json.dumps(meta)},
        )
        s.commit()


def test_a_persona_of_an_active_policy_cannot_go_and_numbers_keep_working_without_it(op, tenant_a):
    ana = personas.create_persona(op, name="Ana")
    vendas, suporte = make_number(tenant_a, "Vendas"), make_number(tenant_a, "Suporte")
    with tenant_session(tenant_a) as s:
        s.get(Number, suporte).persona_id = ana.id
        s.commit()
    policy = outreach.create_policy(op, number_id=str(vendas), persona_id=str(ana.id))
    outreach.activate_policy(op, policy.id)

    impact = personas.persona_impact(op, ana.id)
    assert impact.blocked and _effects(impact) == [
        ("policy", "Vendas", Effect.blocks),
        ("number", "Suporte", Effect.detached),
    ]
    with pytest.raises(Conflict) as refused:
        personas.delete_persona(op, ana.id)
    assert refused.value.code == "personas.in_use" and refused.value.params["names"] == "Vendas"
    assert outreach.get_policy(op, policy.id).persona_name == "Ana"  # nothing changed

    outreach.deactivate_policy(op, policy.id)
    assert _effects(personas.persona_impact(op, ana.id))[0] == ("policy", "Vendas", Effect.detached)
    done = personas.delete_persona(op, ana.id)
    assert not done.blocked
    after = outreach.get_policy(op, policy.id)
    assert after.persona_id is None and after.active is False
    with tenant_session(tenant_a) as s:
        assert s.get(Number, suporte).persona_id is None
    with pytest.raises(PermissionDenied):
        personas.delete_persona(_actor(tenant_a, UserRole.viewer), personas.create_persona(op, name="Bia").id)


def test_a_policy_that_wrote_to_contacts_is_archived_one_that_did_not_is_deleted(op, tenant_a):
    number = make_number(tenant_a)
    ana = contacts.create_contact(op, "+5511987650001", "Ana", consent_status="granted", consent_source="site")
    policy = outreach.create_policy(op, number_id=str(number))
    outreach.add_targets(op, policy.id, [ana.id])
    assert _effects(outreach.policy_impact(op, policy.id)) == [("queue", "1", Effect.deleted)]

    target = outreach.list_targets(op, policy_id=policy.id).items[0]
    _message(tenant_a, number, ana.id, target.id)
    outreach.activate_policy(op, policy.id)
    impact = outreach.policy_impact(op, policy.id)
    assert impact.archive and _effects(impact) == [("queue", "1", Effect.kept), ("message", "1", Effect.kept)]
    assert outreach.delete_policy(op, policy.id).archive
    with tenant_session(tenant_a) as s:
        row = s.execute(text("SELECT active, archived_at FROM outreach_policies WHERE id = :p"), {"p": policy.id}).one()
        assert row.active is False and row.archived_at is not None
        assert s.execute(text("SELECT count(*) FROM outreach_targets WHERE policy_id = :p"), {"p": policy.id}).scalar()
    assert outreach.list_policies(op) == [] and outreach.list_targets(op).total == 0
    with pytest.raises(Conflict) as archived:
        outreach.activate_policy(op, policy.id)
    assert archived.value.code == "outreach.policy_archived"
    with pytest.raises(Conflict):  # its queue is history too
        outreach.delete_target(op, target.id)

    fresh = outreach.create_policy(op, number_id=str(number))
    assert not outreach.delete_policy(op, fresh.id).archive
    with tenant_session(tenant_a) as s:
        assert s.execute(text("SELECT count(*) FROM outreach_policies WHERE id = :p"), {"p": fresh.id}).scalar() == 0


def _conversation(op, name, number_ids, contact_id) -> uuid.UUID:
    conv = conversations.create_conversation(op, name, mode="round_robin")
    for n in number_ids:
        conversations.add_participant(op, conv.id, number_id=n)
    conversations.add_participant(op, conv.id, contact_id=contact_id)
    conversations.activate(op, conv.id)
    return conv.id


def test_a_contact_leaves_its_conversations_by_the_participants_rule_and_its_messages_outlive_it(op, tenant_a):
    number, other = make_number(tenant_a, "Vendas"), make_number(tenant_a, "Suporte")
    bia = contacts.create_contact(op, "+5511987650002", "Bia", consent_status="granted", consent_source="site")
    policy = outreach.create_policy(op, number_id=str(number))
    outreach.add_targets(op, policy.id, [bia.id])
    _message(tenant_a, number, bia.id)
    duo = _conversation(op, "Dupla", [number], bia.id)  # one number and Bia: it cannot run without her
    trio = _conversation(op, "Trio", [number, other], bia.id)  # two numbers stay: it goes on
    with tenant_session(tenant_a) as s:
        r = Round(tenant_id=tenant_a, conversation_id=duo, state=RoundState.running, window_key="test",
                  started_at=datetime.now(UTC))  # fmt: skip
        s.add(r)
        s.flush()
        turn = Message(tenant_id=tenant_a, conversation_id=duo, round_id=r.id, from_number_id=number, body="vez",
                       status=MessageStatus.queued, direction=MessageDirection.outbound)  # fmt: skip
        s.add(turn)
        s.commit()
        round_id, turn_id = r.id, turn.id

    impact = contacts.contact_impact(op, bia.id)
    assert not impact.blocked and _effects(impact) == [
        ("conversation", "Dupla", Effect.deactivated),
        ("conversation", "Trio", Effect.detached),
        ("message", "1", Effect.kept),
        ("target", "Vendas", Effect.deleted),
    ]
    assert contacts.delete_contact(op, bia.id) == impact
    assert not conversations.get_conversation(op, duo).active and conversations.get_conversation(op, trio).active
    with tenant_session(tenant_a) as s:  # stopped as a deactivated conversation is
        assert s.get(Round, round_id).state == RoundState.aborted
        assert s.get(Message, turn_id).status == MessageStatus.failed
        assert s.execute(text("SELECT count(*) FROM messages WHERE contact_id IS NULL AND from_number_id = :n "
                              "AND status = 'delivered'"), {"n": number}).scalar() == 1  # fmt: skip
    assert [p.label for p in conversations.list_participants(op, trio)] == ["Vendas", "Suporte"]
    assert outreach.list_targets(op).total == 0
    with pytest.raises(NotFound):
        contacts.contact_impact(op, uuid.uuid4())
