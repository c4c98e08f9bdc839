"""One round end to end over the simulator: A's turn goes through Evolution, B's reply is triggered by B's webhook."""

from __future__ import annotations

from collections import Counter

import pytest

from mirage_app.core.redis import get_redis
from mirage_app.engine import inbox
from mirage_app.engine import rounds as rounds_service
from tests.engine import scenario

pytestmark = pytest.mark.usefixtures("text_only")  # pacing, caps and faults of text turns


def test_a_round_runs_turn_by_turn_through_the_simulator(engine, admin_actor):
    sc = scenario.build(admin_actor, engine, ["5511900000001", "5511900000002"], mode="pair", max_rounds=1)
    engine.driver.step()

    [rnd] = scenario.rounds(admin_actor.tenant_id, sc.conversation_id)
    assert rnd.state == "done", rnd
    assert rnd.turns_done == rnd.planned_turns
    msgs = sorted(scenario.messages(admin_actor.tenant_id, sc.conversation_id), key=lambda m: m.meta["turn"])
    assert len(msgs) == rnd.planned_turns
    assert [m.meta["turn"] for m in msgs] == list(range(rnd.planned_turns))
    assert all(m.wa_msg_id and m.status in ("delivered", "read") for m in msgs), [(m.status, m.error) for m in msgs]
    # Speakers alternate, each turn goes to the other number.
    a, b = msgs[0].from_number_id, msgs[0].to_number_id
    assert [m.from_number_id for m in msgs] == [a if i % 2 == 0 else b for i in range(len(msgs))]
    # Every turn was sent exactly once through Evolution.
    sent = [m for m in engine.sim.messages(from_me=True)]
    assert Counter(m.text for m in sent) == Counter(m.body for m in msgs)
    assert len({m.body for m in msgs}) == len(msgs)  # no repeats
    assert engine.driver.failed_jobs() == []


def test_a_bot_message_outside_any_round_is_never_answered(engine, admin_actor):
    sc = scenario.build(admin_actor, engine, ["5511900000011", "5511900000012"], mode="pair", activate=False)
    a, b = sc.numbers
    engine.client.send_text(sc.sessions[a], sc.phones[b].lstrip("+"), "Oi! Tudo bem por aí?")
    engine.sim.wait_idle(5)
    engine.driver.settle()
    sends = engine.sim.messages(from_me=True)
    assert [m.text for m in sends] == ["Oi! Tudo bem por aí?"]  # nobody answered
    [msg] = scenario.messages(admin_actor.tenant_id)
    assert msg.round_id is None
    assert rounds_service.on_message(admin_actor.tenant_id, msg.id).state == rounds_service.OUTSIDE_ROUND


def test_replies_come_from_the_configured_llm_with_usage_per_message(engine, admin_actor):
    from mirage_app.engine.llm_client import LLMClient
    from mirage_app.engine.runtime import use_runtime
    from mirage_app.services import conversations
    from tests.fakes.openai_server import FakeOpenAI

    fake = FakeOpenAI().start()
    try:
        llm = LLMClient("sk-test", fake.base_url, timeout_s=2.0)
        lines = [
            "Bom dia! Tudo certo?",
            "Bom dia! Tudo ótimo, e você?",
            "Vi um jogo incrível ontem.",
            "Que legal, qual time?",
            "O meu, claro! Você assistiu?",
            "Assisti sim, foi demais.",
            "Preciso ir, até mais!",
            "Até logo, bom dia!",
        ]
        for i, line in enumerate(lines):
            fake.reply(line, prompt_tokens=100 + i, completion_tokens=10)
        with use_runtime(engine.runtime.with_changes(llm=lambda: llm)):
            sc = scenario.build(admin_actor, engine, ["5511900000021", "5511900000022"], mode="pair", max_rounds=1,
                                persona_specs=[{"name": "Ana"}, {"name": "Bia"}])  # fmt: skip
            conversations.set_settings(admin_actor, sc.conversation_id, openai_model="gpt-test-mini", temperature=0.3)
            engine.driver.step()
        msgs = sorted(scenario.messages(admin_actor.tenant_id, sc.conversation_id), key=lambda m: m.meta["turn"])
        [rnd] = scenario.rounds(admin_actor.tenant_id, sc.conversation_id)
        assert rnd.state == "done" and len(msgs) == rnd.planned_turns
        assert [m.body for m in msgs] == lines[: len(msgs)]
        for i, m in enumerate(msgs):
            llm_meta = m.meta["llm"]
            assert llm_meta["source"].startswith("openai:") and llm_meta["model"] == "gpt-test-mini"
            assert llm_meta["usage"] == {"prompt_tokens": 100 + i, "completion_tokens": 10, "total_tokens": 110 + i}
        assert len(fake.requests) == len(msgs)
        assert {r.body["model"] for r in fake.requests} == {"gpt-test-mini"}
        assert {r.body["temperature"] for r in fake.requests} == {0.3}
        # Each reply's prompt carries the conversation so far, the last line being the one answered.
        second = fake.requests[1].body["messages"]
        assert second[0]["role"] == "system" and "You are Bia." in second[0]["content"]
        assert {"role": "user", "content": lines[0]} in second
    finally:
        fake.stop()


def test_a_lost_on_message_job_is_recovered_by_the_tick(engine, admin_actor):
    """The webhook's hand-over to the engine is lost (Redis lost its inbox): the stored message is enough, the tick
    re-enqueues the reply."""
    from datetime import timedelta

    sc = scenario.build(admin_actor, engine, ["5511900000031", "5511900000032"], mode="pair", max_rounds=1)
    driver = engine.driver
    driver.tick()
    redis = get_redis()
    armed = [inbox.armed_key(i) for i in range(inbox.DRAIN_SLOTS)]
    for key in armed:  # every slot looks armed: the drain that should pick the message up never comes
        redis.set(key, "1")
    driver.work()  # start_round: turn 0 goes out; B's webhook hands the message to the engine's inbox
    engine.sim.wait_idle(5)
    lost = redis.llen(inbox.INBOX_KEY)
    redis.delete(inbox.INBOX_KEY, *armed)  # ...and Redis loses it
    assert lost >= 1
    [turn0] = scenario.messages(admin_actor.tenant_id, sc.conversation_id)
    assert turn0.status in ("delivered", "read")
    driver.advance(timedelta(minutes=1))
    assert len(scenario.messages(admin_actor.tenant_id, sc.conversation_id)) == 1  # not yet: within the grace
    driver.advance(timedelta(minutes=10))
    [rnd] = scenario.rounds(admin_actor.tenant_id, sc.conversation_id)
    assert rnd.state == "done" and rnd.turns_done == rnd.planned_turns
    assert sum(r.replies_recovered for r in driver.reports) >= 1
