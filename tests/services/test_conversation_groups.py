"""Group conversations: their warming group is made with them, holds only the tenant's numbers, and a refused
creation is tried again when the conversation is switched on again (issue 15)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mirage_app.base.errors import ValidationFailed
from mirage_app.core.db import tenant_session
from mirage_app.services import contacts, conversations, instances


def _numbers(actor, n):
    return [instances.create_instance(actor, f"Grupo {i}").id for i in range(n)]


def test_a_group_conversation_gets_a_named_group_of_numbers_only(admin_actor, simulator):
    conv = conversations.create_conversation(admin_actor, "Turma", "group")
    status = conversations.group_status(admin_actor, conv.id)
    assert status.state == "pending" and status.subject and status.description and status.members == 0
    a, b = _numbers(admin_actor, 2)
    for number_id in (a, b):
        conversations.add_participant(admin_actor, conv.id, number_id=number_id)
    assert conversations.group_status(admin_actor, conv.id).members == 2
    contact = contacts.create_contact(
        admin_actor, "+5511977770001", "Zé", consent_status="granted", consent_basis="consent", consent_source="site"
    )
    conversations.add_participant(admin_actor, conv.id, contact_id=contact.id)
    with pytest.raises(ValidationFailed) as refused:
        conversations.activate(admin_actor, conv.id)
    assert refused.value.code == "conversations.group_numbers_only"
    pair = conversations.create_conversation(admin_actor, "Par", "pair")
    assert conversations.group_status(admin_actor, pair.id) is None


def test_a_refused_group_is_tried_again_when_switched_on(admin_actor, simulator):
    conv = conversations.create_conversation(admin_actor, "Turma", "group")
    for number_id in _numbers(admin_actor, 3):
        conversations.add_participant(admin_actor, conv.id, number_id=number_id)
    with tenant_session(admin_actor.tenant_id) as s:
        s.execute(
            text("UPDATE warming_groups SET state = 'failed', error = 'Error: forbidden' WHERE conversation_id = :c"),
            {"c": conv.id},
        )
        s.commit()
    failed = conversations.group_status(admin_actor, conv.id)
    assert (failed.state, failed.error) == ("failed", "Error: forbidden")
    conversations.activate(admin_actor, conv.id)
    again = conversations.group_status(admin_actor, conv.id)
    assert (again.state, again.error, again.members) == ("pending", None, 3)
