"""Conversations: CRUD, overrides, the 7×3 schedule, participants, pairings, topics, activation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.models import ConsentStatus, Contact, UserRole
from mirage_app.services import conversations as conv
from tests.conftest import make_numbers


def _contact(tenant, consent=ConsentStatus.granted) -> uuid.UUID:
    with tenant_session(tenant) as s:
        c = Contact(tenant_id=tenant, wa_number="+5511988887777", display_name="Carla", consent_status=consent)
        s.add(c)
        s.commit()
        return c.id


def _operator(tenant):
    return Actor(tenant_id=tenant, role=UserRole.operator, label="op@test")


def test_crud_and_views(admin_actor):
    clock = FrozenClock(datetime(2030, 5, 6, 12, tzinfo=UTC))
    c = conv.create_conversation(admin_actor, "  Aquecimento  ", "round_robin", temperature=0.5, clock=clock)
    assert (c.name, c.mode, c.active, c.temperature, c.openai_model) == ("Aquecimento", "round_robin", False, 0.5,
                                                                         "gpt-4o-mini")  # fmt: skip
    assert len(conv.get_schedule(admin_actor, c.id)) == 7
    updated = conv.update_conversation(admin_actor, c.id, name="Novo", mode="random", topic_strategy="random")
    assert (updated.name, updated.mode, updated.topic_strategy) == ("Novo", "random", "random")
    assert [x.id for x in conv.list_conversations(admin_actor)] == [c.id]
    conv.delete_conversation(admin_actor, c.id)
    with pytest.raises(NotFound):
        conv.get_conversation(admin_actor, c.id)
    bad_cases = [
        {"name": ""},
        {"name": "x", "mode": "chaos"},
        {"name": "x", "openai_model": "bad model!"},
        {"name": "x", "temperature": 3},
        {"name": "x", "topic_strategy": "alpha"},
    ]
    for bad in bad_cases:
        with pytest.raises(ValidationFailed):
            conv.create_conversation(admin_actor, **bad)
    assert conv.list_conversations(admin_actor) == []


def test_schedule_grid_validation_and_round_trip(admin_actor):
    c = conv.create_conversation(admin_actor, "Grid")
    days = conv.set_schedule(
        admin_actor,
        c.id,
        [
            {"day": "mon", "morning": {"enabled": True, "start": "07:30", "end": "11:00"},
             "evening": {"enabled": True, "start": "20:00", "end": "24:00"}, "max_rounds_per_window": 3,
             "pause_min": 10, "pause_max": 30},
            {"day": "sun", "morning_enabled": False, "afternoon_enabled": False, "evening_enabled": False},
        ],
    )  # fmt: skip
    mon = next(d for d in days if d.day == "mon")
    assert (mon.morning_start, mon.morning_end, mon.evening_end) == ("07:30", "11:00", "24:00")
    assert (mon.max_rounds_per_window, mon.pause_min, mon.pause_max) == (3, 10, 30)
    assert [d.day for d in days] == ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    assert not any((days[0].morning_enabled, days[0].afternoon_enabled, days[0].evening_enabled))
    bad_cases = [
        ({"day": "xyz"}, "day"),
        ({"day": "tue", "morning_start": "25:00"}, "tue.morning_start"),
        ({"day": "tue", "morning_start": "24:00"}, "tue.morning_start"),
        ({"day": "tue", "morning_start": "11:00", "morning_end": "09:00"}, "tue.morning_end"),
        ({"day": "tue", "morning_end": "13:00"}, "tue.afternoon_start"),  # overlaps the afternoon window
        ({"day": "tue", "max_rounds_per_window": 51}, "tue.max_rounds_per_window"),
        ({"day": "tue", "pause_min": 90, "pause_max": 30}, "tue.pause_min"),
        ({"day": "tue", "pause_min": -1}, "tue.pause_min"),
    ]
    for item, field in bad_cases:
        with pytest.raises(ValidationFailed) as err:
            conv.set_schedule(admin_actor, c.id, [item])
        assert err.value.field == field, item
    with pytest.raises(ValidationFailed):
        conv.set_schedule(admin_actor, c.id, [{"day": "mon"}, {"day": "mon"}])
    # all or nothing: a bad second day leaves the first untouched
    with pytest.raises(ValidationFailed):
        conv.set_schedule(
            admin_actor, c.id, [{"day": "wed", "max_rounds_per_window": 9}, {"day": "thu", "pause_min": -5}]
        )
    assert next(d for d in conv.get_schedule(admin_actor, c.id) if d.day == "wed").max_rounds_per_window == 2


def test_participants_pairings_and_activation(admin_actor):
    tenant = admin_actor.tenant_id
    a, b, c3 = make_numbers(tenant, 3)
    c = conv.create_conversation(admin_actor, "Pairs", "pair")
    with pytest.raises(ValidationFailed) as err:
        conv.activate(admin_actor, c.id)
    assert err.value.code == "conversations.needs_participants"
    pa = conv.add_participant(admin_actor, c.id, number_id=a)
    pb = conv.add_participant(admin_actor, c.id, number_id=b)
    pc = conv.add_participant(admin_actor, c.id, number_id=c3)
    assert [p.start_order for p in (pa, pb, pc)] == [0, 1, 2] and pa.kind == "bot" and pa.status == "connected"
    with pytest.raises(Conflict):
        conv.add_participant(admin_actor, c.id, number_id=a)
    with pytest.raises(ValidationFailed):
        conv.add_participant(admin_actor, c.id, number_id=a, contact_id=uuid.uuid4())
    with pytest.raises(ValidationFailed) as err:
        conv.activate(admin_actor, c.id)  # pair mode, odd count, no pairings
    assert err.value.code == "conversations.pair_needs_pairs"
    pairs = conv.set_pairings(admin_actor, c.id, [(a, b), (b, c3)])
    assert [(p.number_a_id, p.number_b_id) for p in pairs] == [(a, b), (b, c3)]
    for bad in ([(a, a)], [(a, uuid.uuid4())], [(a, b), (b, a)]):
        with pytest.raises(ValidationFailed):
            conv.set_pairings(admin_actor, c.id, bad)
    assert len(conv.list_pairings(admin_actor, c.id)) == 2
    order = conv.reorder_participants(admin_actor, c.id, [pc.id, pa.id, pb.id])
    assert [p.id for p in order] == [pc.id, pa.id, pb.id]
    with pytest.raises(ValidationFailed):
        conv.reorder_participants(admin_actor, c.id, [pc.id, pa.id])
    view = conv.activate(admin_actor, c.id)
    assert view.active and view.next_due_at is not None and view.participants == 3
    conv.remove_participant(admin_actor, c.id, pb.id)  # its pairings go with it
    assert conv.list_pairings(admin_actor, c.id) == []
    # a consenting contact may join; one without consent may not
    conv.add_participant(admin_actor, c.id, contact_id=_contact(tenant))
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE contacts SET consent_status = 'unknown'"))
        s.commit()
    other = conv.create_conversation(admin_actor, "Other")
    with tenant_session(tenant) as s:
        contact_id = s.execute(text("SELECT id FROM contacts")).scalar()
    with pytest.raises(ValidationFailed) as err:
        conv.add_participant(admin_actor, other.id, contact_id=contact_id)
    assert err.value.code == "participants.no_consent"


def test_deactivate_aborts_the_running_round(admin_actor):
    tenant = admin_actor.tenant_id
    a, b = make_numbers(tenant, 2)
    c = conv.create_conversation(admin_actor, "Live", "pair")
    conv.add_participant(admin_actor, c.id, number_id=a)
    conv.add_participant(admin_actor, c.id, number_id=b)
    conv.activate(admin_actor, c.id)
    with tenant_session(tenant) as s:
        rid = s.execute(
            text("INSERT INTO rounds (tenant_id, conversation_id, planned_turns, turns_done, state, window_key, "
                 "participants, started_at) VALUES (:t, :c, 4, 1, 'running', 'w', '[]', now()) RETURNING id"),
            {"t": tenant, "c": c.id},
        ).scalar()  # fmt: skip
        s.execute(
            text("INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, body, "
                 "status, meta) VALUES (:t, :c, :r, :a, :b, 'oi', 'queued', '{\"send_key\": \"x:1\"}')"),
            {"t": tenant, "c": c.id, "r": rid, "a": a, "b": b},
        )  # fmt: skip
        s.commit()
    view = conv.deactivate(admin_actor, c.id)
    assert not view.active and view.next_due_at is None and not view.running_round
    with tenant_session(tenant) as s:
        assert s.execute(text("SELECT state::text, end_reason FROM rounds")).one() == ("aborted", "deactivated")
        assert s.execute(text("SELECT status::text, error FROM messages")).one() == ("failed", "round_aborted")
    assert [r.end_reason for r in conv.list_rounds(admin_actor, c.id)] == ["deactivated"]


def test_settings_overrides_and_safety(admin_actor, tenant_a):
    c = conv.create_conversation(admin_actor, "Overrides")
    view = conv.get_settings(admin_actor, c.id)
    assert view.overrides["min_delay_s"] is None and view.effective["min_delay_s"] == 15
    assert view.reply_source == "offline"
    operator = _operator(tenant_a)
    stricter = conv.set_settings(operator, c.id, min_delay_s=30, hourly_burst_limit=5, guard_no_echo=True)
    assert stricter.effective["min_delay_s"] == 30 and stricter.effective["hourly_burst_limit"] == 5
    with pytest.raises(PermissionDenied):
        conv.set_settings(operator, c.id, humanize=False)  # less safe than what applies: admin + MFA
    with pytest.raises(PermissionDenied):
        conv.set_settings(operator, c.id, min_delay_s=5)
    done = conv.set_settings(admin_actor, c.id, humanize=False, openai_model="llama3.1:8b", temperature=1.1,
                             allow_bot_to_bot=False)  # fmt: skip
    assert done.effective["humanize"] is False and done.overrides["openai_model"] == "llama3.1:8b"
    assert conv.get_conversation(admin_actor, c.id).temperature == 1.1
    back = conv.set_settings(admin_actor, c.id, min_delay_s=None)
    assert back.overrides["min_delay_s"] is None and back.effective["min_delay_s"] == 15
    for bad in ({"min_delay_s": -3}, {"humanize": "no"}, {"temperature": None}, {"color": 1},
                {"min_delay_s": 500, "max_delay_s": 100}):  # fmt: skip
        with pytest.raises(ValidationFailed):
            conv.set_settings(admin_actor, c.id, **bad)


def test_topics(admin_actor):
    clock = FrozenClock(datetime(2030, 5, 6, 12, tzinfo=UTC))
    c = conv.create_conversation(admin_actor, "Topics")
    t1 = conv.create_topic(admin_actor, c.id, "futebol", system_prompt="Fale do Brasileirão.", clock=clock)
    t2 = conv.create_topic(admin_actor, c.id, "natal", active_from=clock.now() + timedelta(days=30), clock=clock)
    assert {t.seed: t.in_period for t in conv.list_topics(admin_actor, c.id, clock=clock)} == {
        "futebol": True,
        "natal": False,
    }
    conv.update_topic(admin_actor, t2.id, active_from=None, active_to=clock.now() + timedelta(days=1), clock=clock)
    assert all(t.in_period for t in conv.list_topics(admin_actor, c.id, clock=clock))
    for bad in ({"seed": ""}, {"system_prompt": "x" * 4001},
                {"active_from": clock.now(), "active_to": clock.now() - timedelta(hours=1)},
                {"active_from": datetime(2030, 1, 1)}):  # fmt: skip
        with pytest.raises(ValidationFailed):
            conv.update_topic(admin_actor, t1.id, **bad)
    conv.delete_topic(admin_actor, t1.id)
    assert [t.seed for t in conv.list_topics(admin_actor, c.id)] == ["natal"]


def test_permissions_and_tenant_isolation(admin_actor, make_tenant):
    c = conv.create_conversation(admin_actor, "Mine")
    viewer = Actor(tenant_id=admin_actor.tenant_id, role=UserRole.viewer, label="v")
    assert [x.name for x in conv.list_conversations(viewer)] == ["Mine"]
    with pytest.raises(PermissionDenied):
        conv.activate(viewer, c.id)
    with pytest.raises(PermissionDenied):
        conv.set_schedule(viewer, c.id, [])
    stranger = Actor(tenant_id=make_tenant(), role=UserRole.admin, label="x", mfa_enabled=True)
    assert conv.list_conversations(stranger) == []
    for call in (lambda: conv.get_schedule(stranger, c.id), lambda: conv.delete_conversation(stranger, c.id),
                 lambda: conv.create_topic(stranger, c.id, "x")):  # fmt: skip
        with pytest.raises(NotFound):
            call()
