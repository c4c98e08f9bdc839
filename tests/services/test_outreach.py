"""Outreach policies and targets: validation (field named), tenancy, safety limits, queue, bulk actions, opt-out."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.engine import dispatch, optout, outreach_exchange, outreach_scheduler, suppression
from mirage_app.engine.runtime import EngineRuntime, ManualDeferrer, use_runtime
from mirage_app.models import UserRole
from mirage_app.services import contacts, outreach, personas
from tests.conftest import make_number

SEED_EXAMPLE = {"daily_limit": 50, "hourly_limit": 5, "dayparts": ["morning", "afternoon"]}


def _actor(tenant, role=UserRole.operator, mfa=False) -> Actor:
    return Actor(tenant_id=tenant, role=role, label=f"{role.value}@test", mfa_enabled=mfa)


@pytest.fixture
def op(tenant_a) -> Actor:
    return _actor(tenant_a)


@pytest.fixture
def number(tenant_a) -> uuid.UUID:
    return make_number(tenant_a)


def _consented(actor, phone, name="Contato", **kw):
    return contacts.create_contact(actor, phone, name, consent_status="granted", consent_source="site", **kw)


def test_the_seed_example_works_as_is_and_is_off_until_activated(op, number):
    policy = outreach.create_policy(op, number_id=str(number), **SEED_EXAMPLE)
    assert (policy.daily_limit, policy.hourly_limit, policy.dayparts) == (50, 5, ["morning", "afternoon"])
    assert policy.active is False and policy.allow_days == [] and policy.max_rounds_per_contact == 3
    assert policy.optout_keywords == ["SAIR", "PARAR", "PARE", "STOP", "CANCELAR", "DESCADASTRAR"]
    assert policy.number_label == "Vendas" and policy.targets["pending"] == 0
    assert outreach.activate_policy(op, policy.id).active
    assert outreach.deactivate_policy(op, policy.id).active is False
    assert [p.id for p in outreach.list_policies(op)] == [policy.id]
    with tenant_session(op.tenant_id) as s:
        actions = s.execute(text("SELECT action FROM audit_log WHERE entity = 'outreach_policy' ORDER BY at")).scalars()
        assert list(actions) == ["outreach.policy_create", "outreach.policy_activate", "outreach.policy_deactivate"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"daily_limit": -1}, "daily_limit"),
        ({"hourly_limit": -5}, "hourly_limit"),
        ({"daily_limit": 4, "hourly_limit": 5}, "hourly_limit"),
        ({"daily_limit": 5.5}, "daily_limit"),
        ({"daily_limit": True}, "daily_limit"),
        ({"dayparts": ["morning", "night"]}, "dayparts"),
        ({"dayparts": []}, "dayparts"),
        ({"allow_days": ["mon", "funday"]}, "allow_days"),
        ({"optout_keywords": []}, "optout_keywords"),
        ({"optout_keywords": ["!!!"]}, "optout_keywords"),
        ({"optout_keywords": ["SAIR", 3]}, "optout_keywords"),
        ({"max_rounds_per_contact": 0}, "max_rounds_per_contact"),
        ({"min_gap_minutes": -1}, "min_gap_minutes"),
        ({"active": "yes"}, "active"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_values_name_the_field_and_write_nothing(op, number, changes, field):
    with pytest.raises(ValidationFailed) as err:
        outreach.create_policy(op, number_id=number, **{**SEED_EXAMPLE, **changes})
    assert err.value.field == field and err.value.status == 422
    assert outreach.list_policies(op) == []


def test_references_are_checked_in_the_tenant(op, number, tenant_b):
    other_number = make_number(tenant_b)
    other_persona = personas.create_persona(_actor(tenant_b), name="Outra")
    with pytest.raises(NotFound) as err:
        outreach.create_policy(op, number_id=other_number, **SEED_EXAMPLE)
    assert err.value.field == "number_id" and err.value.status == 404
    with pytest.raises(NotFound):
        outreach.create_policy(op, number_id="uuid-123", **SEED_EXAMPLE)
    with pytest.raises(NotFound) as err:
        outreach.create_policy(op, number_id=number, persona_id=other_persona.id, **SEED_EXAMPLE)
    assert err.value.field == "persona_id"
    mine = outreach.create_policy(op, number_id=number, **SEED_EXAMPLE)
    other = _actor(tenant_b)
    for call in (
        lambda: outreach.get_policy(other, mine.id),
        lambda: outreach.update_policy(other, mine.id, daily_limit=1, hourly_limit=1),
        lambda: outreach.activate_policy(other, mine.id),
        lambda: outreach.delete_policy(other, mine.id),
    ):
        with pytest.raises(NotFound):
            call()
    assert outreach.get_policy(op, mine.id).daily_limit == 50 and not outreach.get_policy(op, mine.id).active


def test_update_is_validated_as_a_whole_and_limits_above_safe_need_admin_mfa(op, number):
    p = outreach.create_policy(op, number_id=number, **SEED_EXAMPLE)
    with pytest.raises(ValidationFailed) as err:
        outreach.update_policy(op, p.id, daily_limit=3)  # below the current hourly 5
    assert err.value.field == "hourly_limit"
    changed = outreach.update_policy(op, p.id, allow_days=["fri", "mon"], optout_keywords=["chega", "Sair"])
    assert changed.allow_days == ["mon", "fri"] and changed.optout_keywords == ["CHEGA", "SAIR"]
    assert outreach.update_policy(op, p.id, optout_keywords=None).optout_keywords[0] == "SAIR"  # back to defaults
    with pytest.raises(PermissionDenied):
        outreach.update_policy(op, p.id, daily_limit=120)
    with pytest.raises(PermissionDenied):
        outreach.update_policy(_actor(op.tenant_id, UserRole.admin, mfa=False), p.id, hourly_limit=20, daily_limit=50)
    raised = outreach.update_policy(_actor(op.tenant_id, UserRole.admin, mfa=True), p.id, daily_limit=120)
    assert raised.daily_limit == 120
    assert outreach.update_policy(op, p.id, daily_limit=100).daily_limit == 100  # lowering is always fine
    with pytest.raises(ValidationFailed):
        outreach.update_policy(_actor(op.tenant_id, UserRole.admin, mfa=True), p.id, daily_limit=100_000)
    outreach.delete_policy(op, p.id)
    assert outreach.list_policies(op) == []


def test_targets_only_consenting_unsuppressed_contacts(op, number, tenant_b):
    p = outreach.create_policy(op, number_id=number, **SEED_EXAMPLE)
    ok = _consented(op, "+5511911112222", "Ok", tags=["lote"])
    unknown = contacts.create_contact(op, "+5511911113333", "Sem consentimento", tags=["lote"])
    blocked = _consented(op, "+5511911114444", "Bloqueado", tags=["lote"])
    contacts.suppress(op, blocked.wa_number)
    foreign = _consented(_actor(tenant_b), "+5511911115555", "De outro tenant")
    report = outreach.add_targets(op, p.id, [ok.id, unknown.id, foreign.id, "not-a-uuid"], priority=5)
    assert report.added == 1 and report.already == 0
    assert sorted(x["reason"] for x in report.skipped) == ["no_consent", "not_found", "not_found"]
    by_tag = outreach.add_targets(op, p.id, tag="LOTE", priority=9)
    assert (by_tag.added, by_tag.already) == (0, 1)
    assert {x["reason"] for x in by_tag.skipped} == {"no_consent", "suppressed"}
    page = outreach.list_targets(op, policy_id=p.id)
    assert page.total == 1 and page.items[0].priority == 9 and page.items[0].status == "pending"
    assert page.counts["pending"] == 1 and outreach.get_policy(op, p.id).targets["pending"] == 1
    with pytest.raises(ValidationFailed):
        outreach.add_targets(op, p.id, [])
    with pytest.raises(NotFound):
        outreach.add_targets(_actor(tenant_b), p.id, [foreign.id])


def test_queue_filters_and_bulk_actions(op, number, tenant_b):
    p = outreach.create_policy(op, number_id=number, **SEED_EXAMPLE)
    people = [_consented(op, f"+55119222200{i:02d}", f"Pessoa {i}") for i in range(6)]
    outreach.add_targets(op, p.id, [c.id for c in people[:3]], priority=1)
    outreach.add_targets(op, p.id, [c.id for c in people[3:]], priority=7)
    queue = outreach.list_targets(op, policy_id=p.id)
    assert [t.display_name for t in queue.items] == ["Pessoa 3", "Pessoa 4", "Pessoa 5", "Pessoa 0", "Pessoa 1",
                                                     "Pessoa 2"]  # fmt: skip
    ids = [t.id for t in queue.items]
    assert outreach.bulk_targets(op, "pause", ids[:2]).changed == 2
    assert outreach.list_targets(op, status="paused").total == 2
    assert outreach.list_targets(op, status="paused,pending").total == 6
    assert outreach.list_targets(op, search="pessoa 5").items[0].id == ids[2]
    assert outreach.list_targets(op, search="22220001").items[0].display_name == "Pessoa 1"
    again = outreach.bulk_targets(op, "pause", ids[:3])
    assert again.changed == 1 and again.skipped == [{"id": str(ids[0]), "reason": "status_paused"},
                                                    {"id": str(ids[1]), "reason": "status_paused"}]  # fmt: skip
    assert outreach.bulk_targets(op, "resume", ids).changed == 3
    assert outreach.bulk_targets(op, "set_priority", ids[-2:], priority=100).changed == 2
    assert outreach.list_targets(op).items[0].priority == 100
    with pytest.raises(ValidationFailed) as err:
        outreach.bulk_targets(op, "set_priority", ids, priority="high")
    assert err.value.field == "priority"
    with pytest.raises(ValidationFailed):
        outreach.bulk_targets(op, "explode", ids)
    # Another tenant's ids are reported as not found and nothing changes.
    foreign = outreach.bulk_targets(_actor(tenant_b), "remove", ids)
    assert foreign.changed == 0 and len(foreign.skipped) == 6 and outreach.list_targets(op).total == 6
    with pytest.raises(NotFound):
        outreach.update_target(_actor(tenant_b), ids[0], priority=3)
    # An opted-out target can never be reset or resumed.
    contacts.suppress(op, people[3].wa_number)
    optout = outreach.list_targets(op, status="optout").items
    assert [t.display_name for t in optout] == ["Pessoa 3"] and optout[0].suppressed
    assert outreach.bulk_targets(op, "reset", [optout[0].id]).skipped[0]["reason"] == "status_optout"
    with pytest.raises(ValidationFailed):
        outreach.update_target(op, optout[0].id, status="pending")
    with pytest.raises(ValidationFailed) as err:
        outreach.update_target(op, ids[3], status="optout")
    assert err.value.field == "status"
    assert outreach.update_target(op, ids[3], status="done").status == "done"
    assert outreach.bulk_targets(op, "reset", [ids[3]]).changed == 1
    assert outreach.get_target(op, ids[3]).status == "pending"
    assert outreach.bulk_targets(op, "remove", ids[:2]).changed == 2
    assert outreach.list_targets(op).total == 4
    outreach.delete_target(op, ids[2])
    with pytest.raises(NotFound):
        outreach.get_target(op, ids[2])


@pytest.fixture
def frozen_runtime():
    """Monday 10:00 in São Paulo, an engine runtime whose jobs are held (nothing is sent in these tests)."""
    clock = FrozenClock(datetime(2031, 3, 3, 13, 0, tzinfo=UTC))
    held = ManualDeferrer(immediate=ManualDeferrer.__new__(ManualDeferrer))
    held._immediate = _Sink()
    with use_runtime(EngineRuntime(clock=clock, deferrer=held, llm=lambda: None)) as rt:
        yield rt


class _Sink:
    def __init__(self):
        self.jobs = []

    def enqueue(self, func, *args, job_id=None, queue="high"):
        self.jobs.append((func, args, job_id))


def _run(policy, tenant) -> str:
    """One policy's tick (the cross-tenant tick would also see other tests' tenants)."""
    rt = outreach_scheduler.runtime()
    return outreach_scheduler.PolicyTick(rt, rt.clock.now(), tenant, policy.id).run()


def _opener_rows(tenant):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT contact_id, body, meta FROM messages WHERE meta->>'kind' = 'opener' ORDER BY created_at")
        ).all()


def test_tick_sends_nothing_until_activated_then_the_top_priority_consenting_target(op, number, frozen_runtime):
    p = outreach.create_policy(op, number_id=number, **SEED_EXAMPLE, min_gap_minutes=0)
    low = _consented(op, "+5511933330001", "Baixa")
    high = _consented(op, "+5511933330002", "Alta Prioridade")
    later = _consented(op, "+5511933330003", "Revogada")
    outreach.add_targets(op, p.id, [low.id], priority=1)
    outreach.add_targets(op, p.id, [high.id, later.id], priority=10)
    contacts.revoke_consent(op, later.id)  # consent withdrawn after queueing: skipped by the tick

    outreach_scheduler.tick()
    assert _run(p, op.tenant_id) == "inactive" and _opener_rows(op.tenant_id) == []  # off until activated
    outreach.activate_policy(op, p.id)
    assert _run(p, op.tenant_id) == "opener"
    rows = _opener_rows(op.tenant_id)
    assert [r.contact_id for r in rows] == [high.id]
    assert "SAIR" in rows[0].body  # the opener says how to opt out
    assert rows[0].meta["outreach_policy_id"] == str(p.id) and rows[0].meta["round"] == 1
    target = outreach.list_targets(op, status="in_progress").items[0]
    assert target.contact_id == high.id and target.rounds_done == 1
    # The opener is still queued: one in flight per number.
    assert _run(p, op.tenant_id) == "in_flight"
    assert outreach_scheduler.tick().openers == 0


def test_tick_respects_windows_days_and_caps(op, number, frozen_runtime):
    clock = frozen_runtime.clock
    p = outreach.create_policy(op, number_id=number, daily_limit=2, hourly_limit=1, min_gap_minutes=30,
                               dayparts=["evening"], allow_days=["mon"], active=True)  # fmt: skip
    people = [_consented(op, f"+55119444400{i:02d}", f"P{i}") for i in range(4)]
    outreach.add_targets(op, p.id, [c.id for c in people])
    assert _run(p, op.tenant_id) == "outside_dayparts"  # Monday 10:00: not evening
    clock.set(datetime(2031, 3, 3, 21, 30, tzinfo=UTC))  # Monday 18:30 local
    assert _run(p, op.tenant_id) == "opener"

    def mark_sent(minutes_ago: int = 0) -> None:
        with tenant_session(op.tenant_id) as s:
            s.execute(
                text("UPDATE messages SET status = 'sent', sent_at = :t WHERE status = 'queued'"),
                {"t": clock.now() - timedelta(minutes=minutes_ago)},
            )
            s.commit()

    mark_sent()
    clock.advance(timedelta(minutes=20))
    assert _run(p, op.tenant_id) == "outreach_hourly_cap"
    clock.advance(timedelta(minutes=45))
    assert _run(p, op.tenant_id) == "opener"
    mark_sent()
    clock.advance(timedelta(hours=1, minutes=1))  # 20:46 local: daily cap of 2 reached
    assert _run(p, op.tenant_id) == "outreach_daily_cap"
    clock.set(datetime(2031, 3, 4, 22, 0, tzinfo=UTC))  # Tuesday evening: not an allowed day
    assert _run(p, op.tenant_id) == "outside_dayparts"


def _inbound(tenant, number_id, contact_id, body, peer):
    with tenant_session(tenant) as s:
        mid = s.execute(
            text(
                "INSERT INTO messages (tenant_id, wa_msg_id, direction, body, status, to_number_id, contact_id, meta) "
                "VALUES (:t, :wa, 'in', :b, 'delivered', :n, :c, CAST(:m AS jsonb)) RETURNING id"
            ),
            {"t": tenant, "wa": uuid.uuid4().hex, "b": body, "n": number_id, "c": contact_id,
             "m": json.dumps({"peer": peer})},
        ).scalar()  # fmt: skip
        s.commit()
    return mid


def test_optout_is_tenant_wide_confirmed_once_and_audited(op, number, frozen_runtime, tenant_b):
    second = make_number(op.tenant_id, "Suporte")
    p1 = outreach.create_policy(op, number_id=number, **SEED_EXAMPLE, active=True)
    p2 = outreach.create_policy(op, number_id=second, **SEED_EXAMPLE, active=True)
    person = _consented(op, "+5511955550001", "Joana")
    outreach.add_targets(op, p1.id, [person.id])
    outreach.add_targets(op, p2.id, [person.id])
    elsewhere = _consented(_actor(tenant_b), "+5511955550001", "Joana em outro tenant")

    assert optout.check_optout(op.tenant_id, _inbound(op.tenant_id, number, person.id, "oi!", person.wa_number)) is None
    mid = _inbound(op.tenant_id, number, person.id, "  Páre!! por favor", person.wa_number)
    result = optout.check_optout(op.tenant_id, mid)
    assert result.keyword == "PARE" and result.new and result.confirmation_id is not None
    again = outreach_exchange.handle_inbound_from_contact(op.tenant_id, mid)  # the on_message job after the route
    assert again.state == "optout" and again.consumed
    repeat = _inbound(op.tenant_id, second, person.id, "STOP", person.wa_number)  # to the other number, later
    assert outreach_exchange.handle_inbound_from_contact(op.tenant_id, repeat).consumed

    with tenant_session(op.tenant_id) as s:
        confirmations = s.execute(
            text("SELECT body, from_number_id FROM messages WHERE meta->>'kind' = 'optout_confirmation'")
        ).all()
        assert len(confirmations) == 1 and confirmations[0].from_number_id == number
        assert confirmations[0].body.startswith("Você não receberá mais mensagens")
        statuses = s.execute(text("SELECT DISTINCT status::text FROM outreach_targets")).scalars().all()
        assert statuses == ["optout"]
        audit_rows = s.execute(text("SELECT after FROM audit_log WHERE action = 'contact.optout'")).scalars().all()
        assert len(audit_rows) == 1 and audit_rows[0]["keyword"] == "PARE"
    assert suppression.is_suppressed(op.tenant_id, person.wa_number)
    assert not suppression.is_suppressed(tenant_b, person.wa_number)  # tenant-wide, not installation-wide
    assert contacts.get_contact(_actor(tenant_b), elsewhere.id).contactable
    joana = contacts.get_contact(op, person.id)
    assert joana.consent_status == "revoked" and joana.opted_out_at is not None and joana.suppressed


def test_optout_from_a_stranger_creates_a_visible_suppressed_contact(op, number, frozen_runtime):
    mid = _inbound(op.tenant_id, number, None, "descadastrar", "+5511966660000")
    assert optout.check_optout(op.tenant_id, mid).new
    found = contacts.list_contacts(op, consent="suppressed").items
    assert [c.wa_number for c in found] == ["+5511966660000"] and found[0].consent_source == "optout:DESCADASTRAR"
    assert not optout.check_optout(op.tenant_id, mid).new  # idempotent on redelivery


class _FakeLLM:
    label = "openai:fake"

    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.calls = answer, error, []

    def complete(self, messages, model, temperature):
        from mirage_app.engine.llm_client import Completion

        self.calls.append(messages)
        if self.error:
            raise self.error
        return Completion(self.answer, model, {"total_tokens": 42})


def test_compose_uses_the_llm_in_the_persona_voice_and_always_offers_the_way_out():
    from mirage_app.engine.llm_client import LLMError
    from mirage_app.logic.prompts import PersonaSpec

    persona = PersonaSpec(name="Clara", style="simpática")
    llm = _FakeLLM("Oi Joana! Aqui é a Clara, tudo bem por aí? https://spam.example.com")
    reply = outreach_exchange.compose(
        persona, "Joana Prado", "opener", [], "pt-BR", ["SAIR"], "morning", seed="s", llm=llm
    )
    assert reply.source == "openai:fake" and reply.usage == {"total_tokens": 42}
    assert "http" not in reply.text and reply.text.endswith("é só responder SAIR.")
    prompt = "\n".join(m["content"] for m in llm.calls[0])
    assert "Clara" in prompt and "Joana" in prompt
    failing = _FakeLLM(error=LLMError("timeout", "slow", retryable=True))
    fallback = outreach_exchange.compose(persona, "Joana", "follow_up", ["Oi!"], "en", ["STOP"], "evening", seed="s",
                                         llm=failing)  # fmt: skip
    assert fallback.source == "offline_fallback" and fallback.error == "timeout" and fallback.text
    offline = outreach_exchange.compose(persona, None, "opener", [], "en", ["STOP"], None, seed="s", llm=None)
    assert offline.source == "offline" and "STOP" in offline.text


def test_a_lost_inbound_follow_up_is_recovered_by_the_tick(op, number, frozen_runtime):
    clock = frozen_runtime.clock
    person = _consented(op, "+5511955550077", "Beto")
    mid = _inbound(op.tenant_id, number, person.id, "oi, quem é?", person.wa_number)
    with tenant_session(op.tenant_id) as s:  # stored by the webhook 5 minutes ago; its on_message job was lost
        s.execute(text("UPDATE messages SET created_at = :t WHERE id = :id"),
                  {"t": clock.now() - timedelta(minutes=5), "id": mid})  # fmt: skip
        s.commit()
    sink = frozen_runtime.deferrer._immediate
    outreach_scheduler.tick()
    assert any(func == "workers.jobs.on_message" and args[1] == str(mid) for func, args, _ in sink.jobs)
    assert dispatch.on_message(op.tenant_id, mid).startswith(("outreach:", "outside_round", "gone", "not_addressed"))
    with tenant_session(op.tenant_id) as s:
        assert s.execute(text("SELECT meta->>'outreach_handled' FROM messages WHERE id = :id"), {"id": mid}).scalar()
    sink.jobs.clear()
    outreach_scheduler.tick()
    assert not any(args[1] == str(mid) for _, args, _ in sink.jobs)  # handled: not recovered again
