"""A reach-out restriction over a warped week (the simulator's `restricted` knob, FrozenClock, jobs in-process):
the rule infers it from the ERROR pattern, the restricted number never opens a new contact until its end time
while a chat already under way continues; and the monthly allowance of unanswered first messages stops new
outreach with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import outreach_scheduler, sending
from mirage_app.services import outreach, restrictions
from tests.engine.conftest import new_contact, new_policy, outreach_setup, tick_policies

STRANGERS = [f"551197788{i:04d}" for i in range(1, 7)]
KNOWN = "5511977880100"


def _to(engine, phone: str) -> list:
    return [m for m in engine.sim.messages(from_me=True) if m.peer_phone == phone.lstrip("+")]


def _session(tenant, number_id) -> str:
    with tenant_session(tenant) as s:
        return s.execute(text("SELECT session_id FROM numbers WHERE id = :n"), {"n": number_id}).scalar()


def _statuses(tenant, kind: str) -> list[str]:
    with tenant_session(tenant) as s:
        return list(
            s.execute(
                text("SELECT status::text FROM messages WHERE meta->>'kind' = :k ORDER BY created_at"), {"k": kind}
            ).scalars()
        )


@pytest.fixture
def announced(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(restrictions, "on_restriction", lambda *args: calls.append(args))
    return calls


def test_an_inferred_restriction_stops_new_contacts_until_its_end_while_a_chat_continues(
    engine, admin_actor, announced
):
    tenant = admin_actor.tenant_id
    [number] = outreach_setup(admin_actor, engine, ["5511900001601"])
    engine.sim.add_human(KNOWN, "Conhecida", reply_probability=0.0, optout_probability=0.0)
    for index, phone in enumerate(STRANGERS):
        engine.sim.add_human(phone, f"Pessoa {index}", reply_probability=0.0, optout_probability=0.0)
    known = new_contact(admin_actor, f"+{KNOWN}", "Conhecida")
    strangers = [new_contact(admin_actor, f"+{p}", f"Pessoa {i}") for i, p in enumerate(STRANGERS)]
    policy = new_policy(admin_actor, number, max_rounds_per_contact=3, dayparts=["morning", "afternoon", "evening"])
    outreach.add_targets(admin_actor, policy.id, [known.id], priority=10)
    assert tick_policies(engine, (tenant, policy)) == ["opener"]  # a chat under way before the restriction

    engine.sim.set_faults(restricted=[_session(tenant, number)])
    outreach.add_targets(admin_actor, policy.id, [c.id for c in strangers])
    for _ in range(3):  # three first messages: WhatsApp accepts each (201 PENDING), then only ERROR arrives
        engine.clock.advance(timedelta(minutes=5))
        assert tick_policies(engine, (tenant, policy)) == ["opener"]
    assert _statuses(tenant, "opener") == ["read", "failed", "failed", "failed"]

    [found] = restrictions.sweep_tenant(tenant, engine.clock)
    assert found.number_id == number
    assert announced == [(tenant, number, found.restriction_id, found.ends_at)]
    view = restrictions.active_restrictions(admin_actor, engine.clock)[number]
    assert (view.source, view.kind, view.ends_at_estimated) == ("inferred", "reach_out", True)
    assert (view.evidence["new_errors"], view.evidence["new_acked"]) == (3, 1)  # her opener arrived
    assert restrictions.sweep_tenant(tenant, engine.clock) == []  # recorded once
    contacted = {m.peer_phone for m in engine.sim.messages(from_me=True)}

    # The chat under way continues: she answers, the number answers her.
    engine.sim.inject_inbound(_session(tenant, number), KNOWN, "Oi! Quem é?")
    engine.sim.wait_idle(5)
    engine.driver.settle()
    assert len(_to(engine, KNOWN)) == 2 and _statuses(tenant, "follow_up") == ["read"]

    # Until its end the number opens no new chat, tick after tick, day and night.
    while engine.clock.now() + timedelta(hours=1) < found.ends_at:
        engine.clock.advance(timedelta(hours=1))
        outcome = tick_policies(engine, (tenant, policy))
        assert outcome[0] in ("number_restricted", "outside_dayparts")
        assert {m.peer_phone for m in engine.sim.messages(from_me=True)} - {KNOWN} <= contacted
    with tenant_session(tenant) as s:
        wait = s.execute(text("SELECT wait_reason FROM outreach_policies WHERE id = :p"), {"p": policy.id}).scalar()
    assert wait in ("number_restricted", "outside_dayparts")

    # Once it has ended (and WhatsApp lifted it), new contacts are written to again.
    engine.sim.set_faults(restricted=[])
    while True:
        engine.clock.advance(timedelta(hours=1))
        if tick_policies(engine, (tenant, policy)) == ["opener"]:
            break
    assert engine.clock.now() >= found.ends_at
    assert _statuses(tenant, "opener")[-1] == "read"
    assert engine.driver.failed_jobs() == []


def test_errors_on_every_send_are_not_a_restriction(engine, admin_actor, announced):
    """ERROR on warm chats as well (the missing-token case of Evolution #2597): no restriction is inferred."""
    tenant = admin_actor.tenant_id
    [number] = outreach_setup(admin_actor, engine, ["5511900001602"])
    engine.sim.add_human(KNOWN, "Conhecida", reply_probability=0.0, optout_probability=0.0)
    with tenant_session(tenant) as s:
        for index in range(3):
            for kind, status in (("opener", "failed"), ("follow_up", "failed")):
                s.execute(
                    text(
                        "INSERT INTO messages (tenant_id, from_number_id, direction, body, status, meta, wa_msg_id, "
                        "created_at, sent_at) VALUES (:t, :n, 'out', 'oi', CAST(:st AS message_status), "
                        "CAST(:meta AS jsonb), :wa, :now, :now)"
                    ),
                    {"t": tenant, "n": number, "st": status, "meta": f'{{"kind": "{kind}"}}',
                     "wa": f"3EB0{kind}{index}{number.hex[:8]}", "now": engine.clock.now()},
                )  # fmt: skip
        s.commit()
    assert restrictions.sweep_tenant(tenant, engine.clock) == []
    assert announced == []


def test_the_monthly_allowance_of_unanswered_first_messages_stops_new_outreach(engine, admin_actor):
    tenant = admin_actor.tenant_id
    [number] = outreach_setup(admin_actor, engine, ["5511900001603"])
    for index, phone in enumerate(STRANGERS[:4]):
        engine.sim.add_human(phone, f"Pessoa {index}", reply_probability=0.0, optout_probability=0.0)
    people = [new_contact(admin_actor, f"+{p}", f"Pessoa {i}") for i, p in enumerate(STRANGERS[:4])]
    assert restrictions.set_allowance(admin_actor, 2, engine.clock).left == 2
    policy = new_policy(admin_actor, number, max_rounds_per_contact=1)
    outreach.add_targets(admin_actor, policy.id, [c.id for c in people])
    assert tick_policies(engine, (tenant, policy)) == ["opener"]
    engine.clock.advance(timedelta(minutes=5))
    assert tick_policies(engine, (tenant, policy)) == ["opener"]
    engine.clock.advance(timedelta(minutes=5))
    assert tick_policies(engine, (tenant, policy)) == ["first_message_allowance"]
    allowance = restrictions.get_allowance(admin_actor, engine.clock)
    assert (allowance.unanswered, allowance.left) == (2, 0)
    with tenant_session(tenant) as s:
        row = s.execute(
            text("SELECT wait_reason, wait_until FROM outreach_policies WHERE id = :p"), {"p": policy.id}
        ).one()
    assert row.wait_reason == "first_message_allowance:2/2" and row.wait_until == allowance.month_ends_at

    # An opener queued by other means is refused at the send guard, and its target goes back to pending.
    with tenant_session(tenant) as s:
        target = s.execute(
            text("SELECT id, contact_id FROM outreach_targets WHERE policy_id = :p AND status = 'pending' LIMIT 1"),
            {"p": policy.id},
        ).one()
        s.execute(
            text("UPDATE outreach_targets SET status = 'in_progress', rounds_done = 1 WHERE id = :t"), {"t": target.id}
        )
        forced = s.execute(
            text(
                "INSERT INTO messages (tenant_id, from_number_id, contact_id, direction, body, meta, status, "
                "created_at, send_after) VALUES (:t, :n, :c, 'out', 'Oi!', CAST(:meta AS jsonb), 'queued', :now, :now) "
                "RETURNING id"
            ),
            {"t": tenant, "n": number, "c": target.contact_id, "now": engine.clock.now(),
             "meta": f'{{"app_origin": "outreach", "kind": "opener", "round": 1, '
                     f'"outreach_policy_id": "{policy.id}", "outreach_target_id": "{target.id}"}}'},
        ).scalar()  # fmt: skip
        s.commit()
    outcome = sending.process(tenant, forced)
    assert (outcome.state, outcome.reason) == ("failed", "first_message_allowance")
    engine.clock.advance(timedelta(minutes=1))
    outreach_scheduler.tick(engine.clock)  # its sweep gives the target back
    engine.driver.settle()
    with tenant_session(tenant) as s:
        status = s.execute(text("SELECT status::text FROM outreach_targets WHERE id = :t"), {"t": target.id}).scalar()
    assert status == "pending"
    assert len({m.peer_phone for m in engine.sim.messages(from_me=True)}) == 2

    # Next month the allowance is whole again.
    engine.clock.advance(allowance.month_ends_at - engine.clock.now() + timedelta(hours=10))
    assert [tick_policies(engine, (tenant, policy))[0] for _ in range(2)] == ["opener", "opener"]
    assert len({m.peer_phone for m in engine.sim.messages(from_me=True)}) == 4
