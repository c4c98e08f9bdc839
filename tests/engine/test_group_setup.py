"""Creating a warming group: one creation at a time per conversation, idempotent, and no database lock is held
while Evolution creates the group (issue 15 review)."""

from __future__ import annotations

from mirage_app.core.redis import get_redis
from mirage_app.engine import groups
from mirage_app.services import conversations
from tests.engine.conftest import connect_numbers


def test_one_creation_at_a_time_then_created_once(engine, admin_actor):
    tenant, clock = admin_actor.tenant_id, engine.clock
    numbers = connect_numbers(admin_actor, engine.sim, ["5511930000001", "5511930000002", "5511930000003"], clock)
    conv = conversations.create_conversation(admin_actor, "Turma do café", "group", clock=clock)
    for number_id in numbers:
        conversations.add_participant(admin_actor, conv.id, number_id=number_id, clock=clock)
    claim = f"mirage:group-setup:{conv.id}"
    get_redis().set(claim, "another worker", ex=groups.CLAIM_SECONDS)
    assert groups.setup_group(tenant, conv.id) == groups.BUSY
    assert conversations.group_status(admin_actor, conv.id).state == "pending"
    get_redis().delete(claim)

    assert groups.setup_group(tenant, conv.id) == groups.CREATED
    assert not get_redis().exists(claim)  # released on the way out
    status = conversations.group_status(admin_actor, conv.id)
    assert (status.state, status.members) == ("active", 3)
    assert groups.setup_group(tenant, conv.id) == groups.EXISTS
