"""Deleting or archiving a number, and QR attempts that end without a scan, against the Evolution simulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, PermissionDenied
from mirage_app.base.impact import Effect
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.engine.runtime import EngineRuntime, use_runtime
from mirage_app.models import (
    Message,
    MessageDirection,
    MessageStatus,
    Number,
    NumberStatus,
    OutreachPolicy,
    Round,
    RoundState,
    Tenant,
    UserRole,
)
from mirage_app.services import conversations, instances, number_activity, number_lifecycle, outreach
from tests.conftest import wait_for
from workers import jobs
from workers.scheduler import PERIODIC_JOBS


def _number(actor, label, phone):
    view = instances.create_instance(actor, label)
    with tenant_session(actor.tenant_id) as s:
        server = s.get(Number, view.id).server_id
    from mirage_app.engine.evolution_gateway import simulator_scan

    base = _server_url(actor, server)
    simulator_scan(base, view.session_id, phone)
    assert wait_for(lambda: _row(actor, view.id).status == NumberStatus.connected)
    return view.id


def _server_url(actor, server_id):
    with tenant_session(actor.tenant_id) as s:
        return s.execute(text("SELECT base_url FROM evolution_servers WHERE id = :id"), {"id": server_id}).scalar()


def _row(actor, number_id) -> Number:
    with tenant_session(actor.tenant_id) as s:
        return s.get(Number, number_id)


def _conversation(actor, name, number_ids, active=True):
    """Made as an operator makes it, so it is really ready to run (participants, schedule) when activated."""
    conv = conversations.create_conversation(actor, name, mode="round_robin")
    for n in number_ids:
        conversations.add_participant(actor, conv.id, number_id=n)
    if active:
        conversations.activate(actor, conv.id)
    return conv.id


def _running_round(actor, conversation_id, from_number, to_number) -> tuple:
    """A round under way with one turn still queued: what deleting a participant must abort."""
    with tenant_session(actor.tenant_id) as s:
        r = Round(tenant_id=actor.tenant_id, conversation_id=conversation_id, state=RoundState.running,
                  window_key="test", started_at=datetime.now(UTC))  # fmt: skip
        s.add(r)
        s.flush()
        turn = Message(tenant_id=actor.tenant_id, conversation_id=conversation_id, round_id=r.id,
                       from_number_id=from_number, to_number_id=to_number, body="vez", status=MessageStatus.queued,
                       direction=MessageDirection.outbound)  # fmt: skip
        s.add(turn)
        s.commit()
        return r.id, turn.id


def _active(actor, table, row_id):
    with tenant_session(actor.tenant_id) as s:
        return s.execute(text(f"SELECT active FROM {table} WHERE id = :id"), {"id": row_id}).scalar()


def test_a_number_with_history_is_archived_and_what_depends_on_it_is_told_and_kept_whole(simulator, admin_actor):
    a = _number(admin_actor, "Vendas A", "5511970000001")
    b = _number(admin_actor, "Vendas B", "5511970000002")
    c = _number(admin_actor, "Vendas C", "5511970000003")
    pair = _conversation(admin_actor, "Par A-B", [a, b])
    trio = _conversation(admin_actor, "Trio", [a, b, c])
    round_id, turn_id = _running_round(admin_actor, pair, b, a)
    with tenant_session(admin_actor.tenant_id) as s:
        policy = OutreachPolicy(tenant_id=admin_actor.tenant_id, number_id=a, active=True)
        idle = OutreachPolicy(tenant_id=admin_actor.tenant_id, number_id=a, active=False)
        s.add_all([policy, idle])
        s.add(Message(tenant_id=admin_actor.tenant_id, from_number_id=a, to_number_id=b, body="oi",
                      status=MessageStatus.read, direction=MessageDirection.outbound))  # fmt: skip
        queued = Message(tenant_id=admin_actor.tenant_id, from_number_id=a, to_number_id=b, body="depois",
                         status=MessageStatus.queued, direction=MessageDirection.outbound)  # fmt: skip
        s.add(queued)
        s.commit()
        policy_id, idle_id, queued_id = policy.id, idle.id, queued.id

    impact = number_lifecycle.number_impact(admin_actor, a)
    assert impact.archive and not impact.blocked
    effects = {(d.kind, d.name): d.effect for d in impact.dependents}
    assert effects[("conversation_seat", "Par A-B")] is Effect.deactivated  # one participant left: it stops
    assert effects[("conversation_seat", "Trio")] is Effect.detached  # two left: it goes on without A
    policies = sorted(d.effect for d in impact.dependents if d.kind == "sending_policy")
    assert policies == [Effect.deactivated, Effect.kept]  # archived with it; the active one switched off
    assert effects[("number_history", "3")] is Effect.kept  # its messages, the round's queued turn included

    done = number_lifecycle.delete_number(admin_actor, a)
    assert done == impact
    row = _row(admin_actor, a)
    assert row.archived_at is not None and row.status == NumberStatus.disconnected and row.server_id is None
    assert not _active(admin_actor, "conversations", pair) and _active(admin_actor, "conversations", trio)
    with tenant_session(admin_actor.tenant_id) as s:
        # stopped as a deactivated conversation is: its running round aborted and its queued turn failed
        assert s.get(Round, round_id).state == RoundState.aborted
        turn = s.get(Message, turn_id)
        assert turn.status == MessageStatus.failed and turn.error == "round_aborted"
        queued = s.get(Message, queued_id)
        assert queued.status == MessageStatus.failed and queued.error == "number_archived"  # it would never go out
        assert queued.send_after is None and queued.wait_reason is None
        for pid in (policy_id, idle_id):  # archived with the number: out of the lists, never active again
            row = s.get(OutreachPolicy, pid)
            assert not row.active and row.archived_at is not None
        secret = s.execute(text("SELECT webhook_secret_hash FROM sessions WHERE number_id = :n"), {"n": a}).scalar()
        assert secret is None  # its webhooks are refused: nothing brings it back to "connected"
        assert (
            s.execute(text("SELECT count(*) FROM conversation_participants WHERE number_id = :n"), {"n": a}).scalar()
            == 0
        )
    assert a not in {v.id for v in instances.list_instances(admin_actor)}
    assert [v.id for v in instances.list_archived(admin_actor)] == [a]
    assert len(instances.recent_messages(admin_actor, a)) == 3  # history stays readable
    assert _row(admin_actor, a).session_id not in simulator.state.core.instances  # gone at Evolution
    assert outreach.list_policies(admin_actor) == []
    for refused in (
        lambda: instances.reconnect(admin_actor, a),
        lambda: number_lifecycle.delete_number(admin_actor, a),
        lambda: outreach.activate_policy(admin_actor, policy_id),
        lambda: outreach.create_policy(admin_actor, number_id=str(a)),
        lambda: conversations.add_participant(admin_actor, trio, number_id=a),
    ):
        with pytest.raises(Conflict) as err:
            refused()
        assert err.value.code in ("instances.archived", "outreach.policy_archived")


def test_a_number_without_history_is_erased(simulator, admin_actor):
    view = instances.create_instance(admin_actor, "Nunca usado")
    impact = number_lifecycle.number_impact(admin_actor, view.id)
    assert not impact.archive and impact.dependents == ()
    number_lifecycle.delete_number(admin_actor, view.id)
    assert _row(admin_actor, view.id) is None


def test_a_policy_that_never_sent_does_not_make_history(simulator, admin_actor):
    view = instances.create_instance(admin_actor, "Só política")
    policy = outreach.create_policy(admin_actor, number_id=str(view.id))
    impact = number_lifecycle.number_impact(admin_actor, view.id)
    assert not impact.archive
    assert [(d.kind, d.effect) for d in impact.dependents] == [("sending_policy", Effect.deleted)]
    assert number_lifecycle.delete_number(admin_actor, view.id) == impact
    assert _row(admin_actor, view.id) is None
    with tenant_session(admin_actor.tenant_id) as s:  # gone with the number
        assert s.get(OutreachPolicy, policy.id) is None


def test_two_deletes_at_once_archive_the_number_once(simulator, admin_actor):
    a = _number(admin_actor, "Duas vezes", "5511970000013")
    with tenant_session(admin_actor.tenant_id) as s:
        s.add(Message(tenant_id=admin_actor.tenant_id, from_number_id=a, body="oi", status=MessageStatus.read,
                      direction=MessageDirection.outbound))  # fmt: skip
        s.commit()

    def delete():
        try:
            return number_lifecycle.delete_number(admin_actor, a).archive
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(2) as pool:
        results = sorted(map(str, pool.map(lambda _: delete(), range(2))))
    assert results == ["True", "instances.archived"]
    with tenant_session(admin_actor.tenant_id) as s:
        audits = s.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'instance.archive' AND entity_id = :n"), {"n": str(a)}
        ).scalar()
    assert audits == 1


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
    """The periodic `qr-expire` job, run as the worker runs it (its clock from the engine runtime)."""
    job = next(j for j in PERIODIC_JOBS if j.name == "qr-expire")
    assert job.func == "workers.jobs.expire_qr_attempts" and job.every_seconds == 60
    view = instances.create_instance(admin_actor, "Esquecido")
    with use_runtime(EngineRuntime(clock=clock)):
        jobs.expire_qr_attempts()
        assert _row(admin_actor, view.id).status == NumberStatus.connecting
        clock.advance(number_lifecycle.QR_ATTEMPT_TTL - timedelta(seconds=30))
        jobs.expire_qr_attempts()
        assert _row(admin_actor, view.id).status == NumberStatus.connecting
        instances.list_instances(admin_actor, clock)  # reading the list changes nothing, however late
        assert _row(admin_actor, view.id).status == NumberStatus.connecting
        clock.advance(timedelta(minutes=1))
        assert jobs.expire_qr_attempts() >= 1  # other tenants' forgotten attempts may end in the same run
    row = _row(admin_actor, view.id)
    assert row.status == NumberStatus.disconnected and row.disconnect_reason == number_lifecycle.QR_EXPIRED


def test_a_paired_number_reconnecting_by_itself_never_expires(simulator, admin_actor, clock):
    a = _number(admin_actor, "Religando", "5511970000010")
    with tenant_session(admin_actor.tenant_id) as s:
        s.execute(text("UPDATE numbers SET status = 'connecting' WHERE id = :n"), {"n": a})
        s.commit()
    clock.advance(timedelta(hours=1))
    number_lifecycle.expire_attempts(admin_actor.tenant_id, clock)
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
    instances.list_instances(admin_actor, clock)
    assert _row(admin_actor, a).active_days == 0  # a read writes nothing: the history went in behind the pipeline
    with tenant_session(admin_actor.tenant_id) as s:  # as the demo data does after writing its history
        tz = s.get(Tenant, admin_actor.tenant_id).timezone
        number_activity.sync_active_days(s, tz, now, number_activity.policy_of(s))
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
