"""Deleting or archiving a number, and QR attempts that end without a scan, against the Evolution simulator."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, PermissionDenied
from mirage_app.base.impact import Effect
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.models import (
    Conversation,
    ConversationParticipant,
    Message,
    MessageDirection,
    MessageStatus,
    Number,
    NumberStatus,
    OutreachPolicy,
    ParticipantKind,
    UserRole,
)
from mirage_app.services import instances, number_lifecycle


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _number(actor, label, phone):
    view = instances.create_instance(actor, label)
    with tenant_session(actor.tenant_id) as s:
        server = s.get(Number, view.id).server_id
    from mirage_app.engine.evolution_gateway import simulator_scan

    base = _server_url(actor, server)
    simulator_scan(base, view.session_id, phone)
    assert _wait(lambda: _row(actor, view.id).status == NumberStatus.connected)
    return view.id


def _server_url(actor, server_id):
    with tenant_session(actor.tenant_id) as s:
        return s.execute(text("SELECT base_url FROM evolution_servers WHERE id = :id"), {"id": server_id}).scalar()


def _row(actor, number_id) -> Number:
    with tenant_session(actor.tenant_id) as s:
        return s.get(Number, number_id)


def _conversation(actor, name, number_ids, active=True):
    with tenant_session(actor.tenant_id) as s:
        conv = Conversation(tenant_id=actor.tenant_id, name=name, active=active)
        s.add(conv)
        s.flush()
        for i, n in enumerate(number_ids):
            s.add(
                ConversationParticipant(
                    tenant_id=actor.tenant_id, conversation_id=conv.id, kind=ParticipantKind.bot, number_id=n,
                    start_order=i,
                )
            )  # fmt: skip
        s.commit()
        return conv.id


def _active(actor, table, row_id):
    with tenant_session(actor.tenant_id) as s:
        return s.execute(text(f"SELECT active FROM {table} WHERE id = :id"), {"id": row_id}).scalar()


def test_a_number_with_history_is_archived_and_what_depends_on_it_is_told_and_kept_whole(simulator, admin_actor):
    a = _number(admin_actor, "Vendas A", "5511970000001")
    b = _number(admin_actor, "Vendas B", "5511970000002")
    c = _number(admin_actor, "Vendas C", "5511970000003")
    pair = _conversation(admin_actor, "Par A-B", [a, b])
    trio = _conversation(admin_actor, "Trio", [a, b, c])
    with tenant_session(admin_actor.tenant_id) as s:
        policy = OutreachPolicy(tenant_id=admin_actor.tenant_id, number_id=a, active=True)
        s.add(policy)
        s.add(Message(tenant_id=admin_actor.tenant_id, from_number_id=a, to_number_id=b, body="oi",
                      status=MessageStatus.read, direction=MessageDirection.outbound))  # fmt: skip
        queued = Message(tenant_id=admin_actor.tenant_id, from_number_id=a, to_number_id=b, body="depois",
                         status=MessageStatus.queued, direction=MessageDirection.outbound)  # fmt: skip
        s.add(queued)
        s.commit()
        policy_id, queued_id = policy.id, queued.id

    impact = number_lifecycle.number_impact(admin_actor, a)
    assert impact.archive and not impact.blocked
    effects = {(d.kind, d.name): d.effect for d in impact.dependents}
    assert effects[("conversation_seat", "Par A-B")] is Effect.deactivated  # one participant left: it stops
    assert effects[("conversation_seat", "Trio")] is Effect.detached  # two left: it goes on without A
    assert effects[("sending_policy", "Vendas A")] is Effect.deactivated
    assert effects[("number_history", "2")] is Effect.kept

    done = number_lifecycle.delete_number(admin_actor, a)
    assert done == impact
    row = _row(admin_actor, a)
    assert row.archived_at is not None and row.status == NumberStatus.disconnected and row.server_id is None
    assert not _active(admin_actor, "conversations", pair) and _active(admin_actor, "conversations", trio)
    assert not _active(admin_actor, "outreach_policies", policy_id)
    with tenant_session(admin_actor.tenant_id) as s:
        assert s.get(Message, queued_id).status == MessageStatus.failed  # it would never go out
        secret = s.execute(text("SELECT webhook_secret_hash FROM sessions WHERE number_id = :n"), {"n": a}).scalar()
        assert secret is None  # its webhooks are refused: nothing brings it back to "connected"
        assert (
            s.execute(text("SELECT count(*) FROM conversation_participants WHERE number_id = :n"), {"n": a}).scalar()
            == 0
        )
    assert a not in {v.id for v in instances.list_instances(admin_actor)}
    assert [v.id for v in instances.list_archived(admin_actor)] == [a]
    assert len(instances.recent_messages(admin_actor, a)) == 2  # history stays readable
    assert _row(admin_actor, a).session_id not in simulator.state.core.instances  # gone at Evolution
    with pytest.raises(Conflict):
        instances.reconnect(admin_actor, a)
    with pytest.raises(Conflict):
        number_lifecycle.delete_number(admin_actor, a)


def test_a_number_without_history_is_erased(simulator, admin_actor):
    view = instances.create_instance(admin_actor, "Nunca usado")
    impact = number_lifecycle.number_impact(admin_actor, view.id)
    assert not impact.archive and impact.dependents == ()
    number_lifecycle.delete_number(admin_actor, view.id)
    assert _row(admin_actor, view.id) is None


def test_a_server_that_is_down_does_not_keep_the_number(simulator, admin_actor):
    a = _number(admin_actor, "Servidor fora", "5511970000009")
    with tenant_session(admin_actor.tenant_id) as s:
        s.add(Message(tenant_id=admin_actor.tenant_id, from_number_id=a, body="oi", status=MessageStatus.read,
                      direction=MessageDirection.outbound))  # fmt: skip
        s.commit()
    simulator.set_faults(error_5xx_rate=1.0)
    try:
        number_lifecycle.delete_number(admin_actor, a)
    finally:
        simulator.set_faults(error_5xx_rate=0.0)
    assert _row(admin_actor, a).archived_at is not None


def test_viewers_cannot_delete_or_cancel(simulator, admin_actor):
    view = instances.create_instance(admin_actor, "Somente leitura")
    viewer = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.viewer, label="v@test")
    number_lifecycle.number_impact(viewer, view.id)  # reading what a delete would do is fine
    for call in (number_lifecycle.delete_number, number_lifecycle.cancel_attempt):
        with pytest.raises(PermissionDenied):
            call(viewer, view.id)
    assert _row(admin_actor, view.id).status == NumberStatus.connecting


def test_closing_the_qr_dialog_ends_the_attempt(simulator, admin_actor):
    view = instances.create_instance(admin_actor, "Fechou o QR")
    number_lifecycle.cancel_attempt(admin_actor, view.id)
    row = _row(admin_actor, view.id)
    assert row.status == NumberStatus.disconnected and row.disconnect_reason == number_lifecycle.QR_CANCELLED
    again = instances.reconnect(admin_actor, view.id)  # Connect works again
    assert again.qr_code


def test_an_unscanned_attempt_expires_with_the_clock(simulator, admin_actor, clock):
    view = instances.create_instance(admin_actor, "Esquecido")
    assert number_lifecycle.expire_attempts(admin_actor, clock) == 0
    clock.advance(number_lifecycle.QR_ATTEMPT_TTL - timedelta(seconds=30))
    assert number_lifecycle.expire_attempts(admin_actor, clock) == 0
    assert _row(admin_actor, view.id).status == NumberStatus.connecting
    clock.advance(timedelta(minutes=1))
    assert number_lifecycle.expire_attempts(admin_actor, clock) == 1
    row = _row(admin_actor, view.id)
    assert row.status == NumberStatus.disconnected and row.disconnect_reason == number_lifecycle.QR_EXPIRED


def test_a_paired_number_reconnecting_by_itself_never_expires(simulator, admin_actor, clock):
    a = _number(admin_actor, "Religando", "5511970000010")
    with tenant_session(admin_actor.tenant_id) as s:
        s.execute(text("UPDATE numbers SET status = 'connecting' WHERE id = :n"), {"n": a})
        s.commit()
    clock.advance(timedelta(hours=1))
    number_lifecycle.expire_attempts(admin_actor, clock)
    assert _row(admin_actor, a).status == NumberStatus.connecting


def test_warm_up_day_follows_the_history(simulator, admin_actor, clock):
    a = _number(admin_actor, "Com uma semana", "5511970000011")
    b = _number(admin_actor, "Novo", "5511970000012")
    now = clock.now()
    with tenant_session(admin_actor.tenant_id) as s:
        for back in range(1, 8):  # a week of sends, one a day, up to yesterday
            at = now - timedelta(days=back)
            s.add(Message(tenant_id=admin_actor.tenant_id, from_number_id=a, to_number_id=b, body="oi",
                          status=MessageStatus.read, direction=MessageDirection.outbound, sent_at=at,
                          created_at=at))  # fmt: skip
        s.commit()
    views = {v.id: v for v in instances.list_instances(admin_actor, clock)}
    assert views[a].warm_day == 8 and views[b].warm_day == 1
    assert _row(admin_actor, a).active_days == 7  # the engine's caps read the same count


def test_demo_history_sets_the_warm_up_day_the_engine_reads(simulator, admin_actor):
    from mirage_app.services.demo_data import load_demo_data

    load_demo_data(admin_actor)
    with tenant_session(admin_actor.tenant_id) as s:  # read before any list: the stored counter itself
        stored = s.execute(text("SELECT label, active_days FROM numbers ORDER BY label")).all()
    assert stored and all(r.active_days > 7 for r in stored), stored
    assert all(v.warmed_up for v in instances.list_instances(admin_actor))
