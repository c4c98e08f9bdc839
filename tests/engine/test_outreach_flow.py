"""Outreach end to end over the simulator (FrozenClock, jobs run in-process): openers, the exchange up to max
rounds, opt-outs received as real webhooks, and the send guard (consent + suppression) on every number."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import outreach_scheduler, sending, suppression
from mirage_app.services import contacts, outreach
from tests.engine.conftest import new_contact, new_policy, outreach_setup, tick_policies


def _sent_to(engine, phone: str) -> list:
    digits = phone.lstrip("+")
    return [m for m in engine.sim.messages(from_me=True) if m.peer_phone == digits]


def _rows(tenant, sql, **params):
    with tenant_session(tenant) as s:
        return s.execute(text(sql), params).all()


def test_opener_then_replies_up_to_max_rounds_then_done(engine, admin_actor):
    [number] = outreach_setup(admin_actor, engine, ["5511900000101"])
    engine.sim.add_human("5511977770001", "Joana", reply_probability=1.0, optout_probability=0.0)
    joana = new_contact(admin_actor, "+5511977770001", "Joana Prado")
    policy = new_policy(admin_actor, number, max_rounds_per_contact=3)
    outreach.add_targets(admin_actor, policy.id, [joana.id])

    assert tick_policies(engine, (admin_actor.tenant_id, policy)) == ["opener"]
    sent = _sent_to(engine, joana.wa_number)
    assert len(sent) == 3, [m.text for m in sent]  # opener, follow-up, closing: the human answered each
    assert "SAIR" in sent[0].text and "Joana" in sent[0].text
    [target] = outreach.list_targets(admin_actor).items
    assert (target.status, target.rounds_done) == ("done", 3)
    kinds = _rows(admin_actor.tenant_id, "SELECT meta->>'kind' AS k, status::text AS st FROM messages "
                  "WHERE direction = 'out' ORDER BY (meta->>'round')::int")  # fmt: skip
    assert [(r.k, r.st) for r in kinds] == [("opener", "read"), ("follow_up", "read"), ("closing", "read")]
    # Her answer to the closing message gets no reply, and nothing else goes out on later ticks.
    engine.clock.advance(timedelta(minutes=30))
    assert tick_policies(engine, (admin_actor.tenant_id, policy)) == ["no_target"]
    assert len(_sent_to(engine, joana.wa_number)) == 3
    assert engine.driver.failed_jobs() == []


def test_an_optout_to_one_number_stops_every_number_at_once(engine, admin_actor):
    a, b = outreach_setup(admin_actor, engine, ["5511900000201", "5511900000202"])
    engine.sim.add_human("5511977770002", "Rita", reply_probability=0.0, optout_probability=1.0, optout_text="Pare!")
    engine.sim.add_human("5511977770003", "Otto", reply_probability=0.0, optout_probability=0.0)
    rita = new_contact(admin_actor, "+5511977770002", "Rita")
    otto = new_contact(admin_actor, "+5511977770003", "Otto")
    pa = new_policy(admin_actor, a)
    pb = new_policy(admin_actor, b, active=False)
    outreach.add_targets(admin_actor, pa.id, [rita.id])
    outreach.add_targets(admin_actor, pb.id, [rita.id], priority=10)
    outreach.add_targets(admin_actor, pb.id, [otto.id], priority=1)
    engine.sim.set_faults(duplicate_rate=1.0)  # every webhook delivered twice

    assert tick_policies(engine, (admin_actor.tenant_id, pa)) == ["opener"]
    to_rita = _sent_to(engine, rita.wa_number)
    assert len(to_rita) == 2, [m.text for m in to_rita]  # the opener, then ONE confirmation
    assert to_rita[1].text.startswith("Você não receberá mais mensagens")
    assert {m.instance for m in to_rita} == {engine.sim.messages(from_me=True)[0].instance}
    assert suppression.is_suppressed(admin_actor.tenant_id, rita.wa_number)
    assert contacts.get_contact(admin_actor, rita.id).consent_status == "revoked"
    assert {t.status for t in outreach.list_targets(admin_actor, search="Rita").items} == {"optout"}
    [entry] = _rows(admin_actor.tenant_id, "SELECT after FROM audit_log WHERE action = 'contact.optout'")
    assert entry.after["keyword"] == "PARE" and entry.after["number_id"] == str(a)

    # Number B: its policy now runs, Rita (top priority) is skipped for good, Otto is contacted.
    engine.sim.set_faults(duplicate_rate=0.0)
    outreach.activate_policy(admin_actor, pb.id)
    assert tick_policies(engine, (admin_actor.tenant_id, pb)) == ["opener"]
    assert len(_sent_to(engine, otto.wa_number)) == 1
    # She writes "STOP" to number B too: no second confirmation.
    session_b = _rows(admin_actor.tenant_id, "SELECT session_id FROM numbers WHERE id = :b", b=b)[0].session_id
    engine.sim.inject_inbound(session_b, "5511977770002", "STOP")
    engine.sim.wait_idle(5)
    engine.driver.settle()
    # Even a send written by hand from number B (outside outreach) is refused at the claim.
    with tenant_session(admin_actor.tenant_id) as s:
        forced = s.execute(
            text(
                "INSERT INTO messages (tenant_id, from_number_id, contact_id, direction, body, meta, status) "
                "VALUES (:t, :b, :c, 'out', 'Oi Rita!', '{}', 'queued') RETURNING id"
            ),
            {"t": admin_actor.tenant_id, "b": b, "c": rita.id},
        ).scalar()
        s.commit()
    outcome = sending.process(admin_actor.tenant_id, forced)
    assert (outcome.state, outcome.reason) == ("failed", "contact_suppressed")
    assert len(_sent_to(engine, rita.wa_number)) == 2
    confirmations = _rows(admin_actor.tenant_id, "SELECT id FROM messages WHERE meta->>'kind' = 'optout_confirmation'")
    assert len(confirmations) == 1
    assert engine.driver.failed_jobs() == []


def test_contacts_without_consent_or_suppressed_are_never_contacted(engine, admin_actor):
    [number] = outreach_setup(admin_actor, engine, ["5511900000301"])
    phones = {"ok": "+5511977770010", "unknown": "+5511977770011", "revoked": "+5511977770012",
              "suppressed": "+5511977770013"}  # fmt: skip
    for key, phone in phones.items():
        engine.sim.add_human(phone, key, reply_probability=0.0, optout_probability=0.0)
    people = {
        "ok": new_contact(admin_actor, phones["ok"], "ok"),
        "unknown": new_contact(admin_actor, phones["unknown"], "unknown", consent=None),
        "revoked": new_contact(admin_actor, phones["revoked"], "revoked", consent="revoked"),
        "suppressed": new_contact(admin_actor, phones["suppressed"], "suppressed"),
    }
    contacts.suppress(admin_actor, phones["suppressed"], "blocked by hand")
    policy = new_policy(admin_actor, number, max_rounds_per_contact=1)
    # Targets written straight into the table (bypassing add_targets' own check), highest priority first.
    with tenant_session(admin_actor.tenant_id) as s:
        for priority, key in enumerate(["ok", "unknown", "revoked", "suppressed"]):
            s.execute(
                text(
                    "INSERT INTO outreach_targets (tenant_id, policy_id, contact_id, priority, status, rounds_done) "
                    "VALUES (:t, :p, :c, :prio, 'pending', 0)"
                ),
                {"t": admin_actor.tenant_id, "p": policy.id, "c": people[key].id, "prio": priority},
            )
        # ...and queued outreach sends to each of them, as if something had slipped through.
        for key, contact in people.items():
            meta = {"app_origin": "outreach", "kind": "follow_up", "outreach_policy_id": str(policy.id),
                    "outreach_target_id": str(uuid.uuid4()), "round": 2}  # fmt: skip
            s.execute(
                text(
                    "INSERT INTO messages (tenant_id, from_number_id, contact_id, direction, body, meta, status) "
                    "VALUES (:t, :n, :c, 'out', :b, CAST(:m AS jsonb), 'queued')"
                ),
                {"t": admin_actor.tenant_id, "n": number, "c": contact.id, "b": f"forced {key}", "m": json.dumps(meta)},
            )
        s.commit()
    forced = _rows(admin_actor.tenant_id, "SELECT id, body FROM messages WHERE body LIKE 'forced %'")
    reasons = {r.body: sending.process(admin_actor.tenant_id, r.id).reason for r in forced}
    assert reasons == {"forced ok": "target_gone", "forced unknown": "contact_no_consent",
                       "forced revoked": "contact_no_consent", "forced suppressed": "contact_suppressed"}  # fmt: skip
    for _ in range(6):
        tick_policies(engine, (admin_actor.tenant_id, policy))
        engine.clock.advance(timedelta(minutes=15))
    reached = {m.peer_phone for m in engine.sim.messages(from_me=True)}
    assert reached == {phones["ok"].lstrip("+")}


def test_deactivating_a_policy_stops_what_is_already_queued(engine, admin_actor):
    [number] = outreach_setup(admin_actor, engine, ["5511900000401"])
    engine.sim.add_human("5511977770020", "Lia", reply_probability=0.0, optout_probability=0.0)
    lia = new_contact(admin_actor, "+5511977770020", "Lia")
    policy = new_policy(admin_actor, number)
    outreach.add_targets(admin_actor, policy.id, [lia.id])
    rt = outreach_scheduler.runtime()
    assert outreach_scheduler.PolicyTick(rt, engine.clock.now(), admin_actor.tenant_id, policy.id).run() == "opener"
    outreach.deactivate_policy(admin_actor, policy.id)  # before the queued opener's job runs
    engine.driver.settle()
    assert _sent_to(engine, lia.wa_number) == []
    outreach_scheduler.tick()  # the sweep pauses the exchange, so it can be resumed later
    [target] = outreach.list_targets(admin_actor).items
    assert (target.status, target.last_error, target.rounds_done) == ("paused", "policy_inactive", 0)
    outreach.activate_policy(admin_actor, policy.id)
    assert outreach.bulk_targets(admin_actor, "resume", [target.id]).changed == 1
    assert outreach.get_target(admin_actor, target.id).status == "pending"
    tick_policies(engine, (admin_actor.tenant_id, policy))
    assert len(_sent_to(engine, lia.wa_number)) == 1
