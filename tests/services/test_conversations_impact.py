"""Destroying conversation things asks first, archives where history exists and never leaves an active conversation
broken; topics say which one is talked about now; a 0–0 pause between rounds is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Effect
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.logic.rounds import pick_topic
from mirage_app.services import conversations as conv
from tests.conftest import make_numbers


def _running_conversation(actor, n=2):
    numbers = make_numbers(actor.tenant_id, n)
    c = conv.create_conversation(actor, "Live", "round_robin")
    people = [conv.add_participant(actor, c.id, number_id=x) for x in numbers]
    conv.activate(actor, c.id)
    return c, numbers, people


def _history(tenant, conversation_id, a, b, topic_id=None) -> None:
    with tenant_session(tenant) as s:
        rid = s.execute(
            text(
                "INSERT INTO rounds (tenant_id, conversation_id, topic_id, planned_turns, turns_done, state, "
                "window_key, participants, started_at) VALUES (:t, :c, :tp, 2, 2, 'done', 'w', '[]', now()) "
                "RETURNING id"
            ),
            {"t": tenant, "c": conversation_id, "tp": topic_id},
        ).scalar()
        for body in ("oi", "tudo bem?"):
            s.execute(
                text(
                    "INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, body, "
                    "status) VALUES (:t, :c, :r, :a, :b, :body, 'read')"
                ),
                {"t": tenant, "c": conversation_id, "r": rid, "a": a, "b": b, "body": body},
            )
        s.commit()


def test_a_conversation_with_history_is_archived_and_one_without_is_deleted(admin_actor):
    tenant = admin_actor.tenant_id
    c, (a, b), _ = _running_conversation(admin_actor)
    _history(tenant, c.id, a, b)

    impact = conv.conversation_impact(admin_actor, c.id)
    assert impact.archive and not impact.blocked
    assert [(d.kind, d.name, d.effect) for d in impact.dependents] == [
        ("round", "1", Effect.kept),
        ("message", "2", Effect.kept),
    ]
    assert conv.delete_conversation(admin_actor, c.id) == impact  # the server applies the dialog's rule again
    archived = conv.get_conversation(admin_actor, c.id)
    assert archived.archived and not archived.active and archived.next_due_at is None
    assert conv.list_conversations(admin_actor) == []
    assert [x.id for x in conv.list_conversations(admin_actor, archived=True)] == [c.id]
    assert len(conv.list_rounds(admin_actor, c.id)) == 1 and len(conv.recent_messages(admin_actor, c.id)) == 2
    # its history reads; every change is refused the same way, deleting it again included
    assert len(conv.list_participants(admin_actor, c.id)) == 2 and len(conv.get_schedule(admin_actor, c.id)) == 7
    assert conv.get_settings(admin_actor, c.id) and conv.list_topics(admin_actor, c.id) == []
    people = conv.list_participants(admin_actor, c.id)
    for refused in (
        lambda: conv.activate(admin_actor, c.id),
        lambda: conv.update_conversation(admin_actor, c.id, name="Outro nome"),
        lambda: conv.create_topic(admin_actor, c.id, "futebol"),
        lambda: conv.remove_participant(admin_actor, c.id, people[0].id),
        lambda: conv.conversation_impact(admin_actor, c.id),
        lambda: conv.delete_conversation(admin_actor, c.id),
    ):
        with pytest.raises(Conflict) as err:
            refused()
        assert err.value.code == "conversations.archived"

    empty, _, _ = _running_conversation(admin_actor)  # active, but no history: nothing to keep
    impact = conv.conversation_impact(admin_actor, empty.id)
    assert (impact.archive, impact.dependents) == (False, ())
    conv.delete_conversation(admin_actor, empty.id)
    with pytest.raises(NotFound):
        conv.get_conversation(admin_actor, empty.id)


def test_removing_a_participant_pauses_a_conversation_that_could_no_longer_run(admin_actor):
    c, (a, b, c3), people = _running_conversation(admin_actor, 3)
    conv.set_pairings(admin_actor, c.id, [(a, b), (b, c3)])
    conv.update_conversation(admin_actor, c.id, mode="pair")

    first = conv.participant_impact(admin_actor, c.id, people[0].id)
    assert [(d.kind, d.name, d.effect) for d in first.dependents] == [("pairing", "1", Effect.deleted)]
    assert first.name == "N0"
    assert len(conv.list_participants(admin_actor, c.id)) == 3  # the impact changed nothing

    conv.remove_participant(admin_actor, c.id, people[0].id)
    assert conv.get_conversation(admin_actor, c.id).active  # two people and a pair left: it still runs

    last = conv.participant_impact(admin_actor, c.id, people[1].id)
    assert ("conversation", "Live", Effect.deactivated) in {(d.kind, d.name, d.effect) for d in last.dependents}
    done = conv.remove_participant(admin_actor, c.id, people[1].id)
    assert done == last
    view = conv.get_conversation(admin_actor, c.id)
    assert not view.active and view.next_due_at is None


def test_only_the_topic_talked_about_now_is_active_and_none_while_paused(admin_actor):
    clock = FrozenClock(datetime(2030, 5, 6, 12, tzinfo=UTC))
    c, (a, b), _ = _running_conversation(admin_actor)
    topics = [conv.create_topic(admin_actor, c.id, seed, clock=clock) for seed in ("futebol", "novela", "chuva")]

    listed = conv.list_topics(admin_actor, c.id, clock=clock)
    current = pick_topic([t.id for t in listed], "rotate", 120, clock.now(), c.id)
    assert [t.id for t in listed if t.active_now] == [current]
    assert all(t.in_period for t in listed)

    conv.deactivate(admin_actor, c.id)
    assert not any(t.active_now for t in conv.list_topics(admin_actor, c.id, clock=clock))

    _history(admin_actor.tenant_id, c.id, a, b, topic_id=topics[0].id)
    impact = conv.topic_impact(admin_actor, topics[0].id)
    assert (impact.name, [(d.kind, d.name, d.effect) for d in impact.dependents]) == (
        "futebol",
        [("round", "1", Effect.detached)],
    )
    assert conv.delete_topic(admin_actor, topics[0].id) == impact  # what was done, as every delete answers
    assert [r.state for r in conv.list_rounds(admin_actor, c.id)] == ["done"]  # the round stays, without the topic
    assert conv.topic_impact(admin_actor, topics[1].id).dependents == ()


def test_a_pause_of_zero_minutes_between_rounds_is_refused(admin_actor):
    c = conv.create_conversation(admin_actor, "Pauses")
    for item, field in (
        ({"day": "sat", "pause_min": 0, "pause_max": 0}, "sat.pause_min"),
        ({"day": "sun", "pause_min": 0, "pause_max": 10}, "sun.pause_min"),
    ):
        with pytest.raises(ValidationFailed) as err:
            conv.set_schedule(admin_actor, c.id, [item])
        assert (err.value.code, err.value.field) == ("schedule.pause_zero", field)
    with pytest.raises(ValidationFailed) as err:
        conv.set_schedule(admin_actor, c.id, [{"day": "sat", "pause_min": 5, "pause_max": 4}])
    assert err.value.field == "sat.pause_min"
    days = conv.set_schedule(admin_actor, c.id, [{"day": "sat", "pause_min": 1, "pause_max": 1}])
    assert next(d for d in days if d.day == "sat").pause_min == 1
