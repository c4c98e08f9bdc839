"""Turn-taking decisions on received messages: replies, idempotence, anti-loop, guard_no_echo, humans."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.engine import rounds
from mirage_app.engine.runtime import EngineRuntime, EngineSettings, use_runtime
from mirage_app.models import ConsentStatus, Contact, Number, NumberStatus
from mirage_app.services import conversations
from tests.engine.test_conversation_scheduler import Recorder

pytestmark = pytest.mark.usefixtures("text_only")  # pacing, caps and faults of text turns


@pytest.fixture
def clock():
    return FrozenClock(datetime(2030, 6, 3, 12, 0, tzinfo=UTC))  # Monday 09:00 in São Paulo


@pytest.fixture
def jobs(clock):
    recorder = Recorder()
    settings = EngineSettings(inline_sends=False)
    with use_runtime(EngineRuntime(clock=clock, deferrer=recorder, settings=settings, llm=lambda: None)):
        yield recorder


@pytest.fixture
def setup(admin_actor, clock):
    tenant = admin_actor.tenant_id
    ids = []
    with tenant_session(tenant) as s:
        for i in range(3):
            n = Number(tenant_id=tenant, session_id=f"r-{uuid.uuid4().hex[:10]}", label=f"N{i}",
                       status=NumberStatus.connected, wa_number=f"+55119{uuid.uuid4().int % 10**8:08d}",
                       paired_at=clock.now() - timedelta(days=9))  # fmt: skip
            s.add(n)
            s.flush()
            ids.append(n.id)
        contact = Contact(tenant_id=tenant, wa_number="+5511977776666", display_name="Hugo",
                          consent_status=ConsentStatus.granted)  # fmt: skip
        s.add(contact)
        s.commit()
    conv = conversations.create_conversation(admin_actor, "R", "pair", clock=clock)
    with tenant_session(tenant) as s:  # active, but never due: these tests call the turn logic directly
        s.execute(text("UPDATE conversations SET active = true, next_due_at = NULL WHERE id = :c"), {"c": conv.id})
        s.commit()
    return tenant, conv.id, ids, contact.id


def _round(tenant, conv_id, speakers, planned=4):
    with tenant_session(tenant) as s:
        rid = s.execute(
            text("INSERT INTO rounds (tenant_id, conversation_id, participants, planned_turns, turns_done, state, "
                 "window_key, started_at) VALUES (:t, :c, CAST(:p AS jsonb), :n, 1, 'running', "
                 "'2030-06-03:morning', now()) RETURNING id"),
            {"t": tenant, "c": conv_id, "p": json.dumps(speakers), "n": planned},
        ).scalar()  # fmt: skip
        s.commit()
    return rid


def _msg(tenant, *, conv=None, rid=None, frm=None, to=None, contact=None, body, turn=None, status="delivered",
         wa=None, direction="out", **extra):  # fmt: skip
    meta = {"turn": turn, "send_key": f"{rid}:{turn}"} if turn is not None else {}
    with tenant_session(tenant) as s:
        mid = s.execute(
            text("INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, "
                 "contact_id, direction, body, status, wa_msg_id, meta, dispatched_at, error) VALUES (:t, :c, :r, "
                 ":f, :to, :ct, CAST(:d AS msg_direction), :b, CAST(:st AS message_status), :wa, CAST(:m AS jsonb), "
                 ":disp, :err) RETURNING id"),
            {"t": tenant, "c": conv, "r": rid, "f": frm, "to": to, "ct": contact, "d": direction, "b": body,
             "st": status, "wa": wa or uuid.uuid4().hex.upper(), "m": json.dumps(meta),
             "disp": extra.get("dispatched_at"), "err": extra.get("error")},
        ).scalar()  # fmt: skip
        s.commit()
    return mid


def _bot(n):
    return {"kind": "bot", "number_id": str(n), "contact_id": None, "label": "x"}


def _turns(tenant, rid):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT (meta->>'turn')::int AS turn, from_number_id, to_number_id, contact_id, body, status::text "
                 "AS status FROM messages WHERE round_id = :r ORDER BY (meta->>'turn')::int"), {"r": rid}
        ).all()  # fmt: skip


def test_the_addressed_speaker_replies_once(setup, jobs):
    tenant, conv, (a, b, _), _ = setup
    rid = _round(tenant, conv, [_bot(a), _bot(b)])
    m0 = _msg(tenant, conv=conv, rid=rid, frm=a, to=b, body="Bom dia! Tudo bem?", turn=0)
    first = rounds.on_message(tenant, m0)
    assert first.state == rounds.QUEUED
    again = rounds.on_message(tenant, m0)
    assert again.state == rounds.EXISTS and again.message_id == first.message_id
    turns = _turns(tenant, rid)
    assert [(t.turn, t.from_number_id, t.to_number_id, t.status) for t in turns] == [
        (0, a, b, "delivered"), (1, b, a, "queued")]  # fmt: skip
    # Humanised: the reply waits a log-normal gap inside the tenant's 15–180 s before it is read and typed.
    [(when, func, _args, _jid)] = jobs.later
    assert func == "workers.jobs.send_message"
    assert timedelta(seconds=15) <= when - datetime(2030, 6, 3, 12, 0, tzinfo=UTC) <= timedelta(seconds=180)


def test_a_message_to_the_wrong_number_or_a_finished_turn_is_not_answered(setup, jobs):
    tenant, conv, (a, b, c), _ = setup
    rid = _round(tenant, conv, [_bot(a), _bot(b)], planned=4)
    wrong = _msg(tenant, conv=conv, rid=rid, frm=a, to=c, body="Oi C", turn=0)
    assert rounds.on_message(tenant, wrong).state == rounds.NOT_ADDRESSED
    last = _msg(tenant, conv=conv, rid=rid, frm=b, to=a, body="Tchau!", turn=3)
    assert rounds.on_message(tenant, last).state == rounds.ROUND_COMPLETE


def test_guard_no_echo(setup, jobs, admin_actor):
    tenant, conv, (a, b, _), _ = setup
    _msg(tenant, conv=conv, frm=b, to=a, body="Oi, sumido! Quanto tempo.", status="read")  # B said it before
    rid = _round(tenant, conv, [_bot(a), _bot(b)])
    echo = _msg(tenant, conv=conv, rid=rid, frm=a, to=b, body="oi sumido quanto tempo", turn=0)
    assert rounds.on_message(tenant, echo).state == rounds.ECHO
    with tenant_session(tenant) as s:
        assert s.execute(text("SELECT state::text, end_reason FROM rounds WHERE id = :r"), {"r": rid}).one() == (
            "aborted",
            "echo_guard",
        )
    assert len(_turns(tenant, rid)) == 1
    # With the guard off the same message is answered.
    conversations.set_settings(admin_actor, conv, guard_no_echo=False)
    rid2 = _round(tenant, conv, [_bot(a), _bot(b)])
    echo2 = _msg(tenant, conv=conv, rid=rid2, frm=a, to=b, body="Oi, sumido! Quanto tempo.", turn=0)
    assert rounds.on_message(tenant, echo2).state == rounds.QUEUED


def test_anti_loop_outside_rounds_and_the_unfinished_send(setup, jobs):
    tenant, conv, (a, b, _), _ = setup
    # A bot-to-bot message with no round and no send of ours behind it: never answered.
    stray = _msg(tenant, frm=a, to=b, body="Oi, tudo certo?")
    assert rounds.on_message(tenant, stray).state == rounds.OUTSIDE_ROUND
    # The recipient's webhook overtook our own bookkeeping: parked until the send job merges the rows.
    rid = _round(tenant, conv, [_bot(a), _bot(b)])
    ours = _msg(tenant, conv=conv, rid=rid, frm=a, to=b, body="E aí, como foi o jogo?", turn=0, status="queued",
                dispatched_at=datetime.now(UTC))  # fmt: skip
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE messages SET wa_msg_id = NULL WHERE id = :m"), {"m": ours})
        s.commit()
    early = _msg(tenant, frm=a, to=b, body="E aí, como foi o jogo?")
    assert rounds.on_message(tenant, early).state == rounds.PENDING_MERGE
    # Our send ended "unknown_delivery" (timeout), and the webhook proves it went out: adopted, round goes on.
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE messages SET status = 'failed', error = 'unknown_delivery' WHERE id = :m"), {"m": ours})
        s.commit()
    result = rounds.on_message(tenant, early)
    assert result.state == rounds.QUEUED
    with tenant_session(tenant) as s:
        row = s.execute(text("SELECT status::text, error, wa_msg_id FROM messages WHERE id = :m"), {"m": ours}).one()
        assert row[0] == "delivered" and row[1] is None and row[2]
        assert s.execute(text("SELECT count(*) FROM messages WHERE id = :m"), {"m": early}).scalar() == 0


def test_a_consenting_human_takes_their_turn(setup, jobs):
    tenant, conv, (a, _, _), contact = setup
    human = {"kind": "human", "number_id": None, "contact_id": str(contact), "label": "Hugo"}
    rid = _round(tenant, conv, [_bot(a), human], planned=4)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE rounds SET turns_done = 0 WHERE id = :r"), {"r": rid})
        s.commit()
    opener = rounds.start_round(tenant, rid)
    assert opener.state == rounds.QUEUED
    [t0] = _turns(tenant, rid)
    assert t0.contact_id == contact and t0.to_number_id is None
    # the opener went out; the contact answers (an inbound message to A)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE messages SET status = 'delivered' WHERE round_id = :r"), {"r": rid})
        s.execute(text("UPDATE rounds SET turns_done = 1 WHERE id = :r"), {"r": rid})
        s.commit()
    inbound = _msg(tenant, to=a, contact=contact, body="Oi! Tudo bem sim, e você?", direction="in")
    assert rounds.on_message(tenant, inbound).state == rounds.QUEUED
    turns = _turns(tenant, rid)
    assert [(t.turn, t.from_number_id) for t in turns] == [(0, a), (1, None), (2, a)]
    assert rounds.create_turn(tenant, rid, 1, None).state == rounds.AWAIT_HUMAN  # never written for a human
