"""Building blocks for engine scenarios: personas, numbers, a conversation with its schedule and tenant settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.logic.dayparts import WEEKDAYS
from mirage_app.services import conversations, instances, personas, tenant_settings
from tests.engine.conftest import connect_numbers

ALL_DAY = {
    "morning_enabled": True,
    "morning_start": "00:00",
    "morning_end": "08:00",
    "afternoon_enabled": True,
    "afternoon_start": "08:00",
    "afternoon_end": "16:00",
    "evening_enabled": True,
    "evening_start": "16:00",
    "evening_end": "24:00",
}


@dataclass
class Scenario:
    conversation_id: uuid.UUID
    numbers: list[uuid.UUID]
    sessions: dict[uuid.UUID, str]  # number id → Evolution instance name
    phones: dict[uuid.UUID, str]


def build(
    actor,
    engine,
    phones: list[str],
    *,
    mode: str = "round_robin",
    schedule: dict | list | None = None,
    settings: dict | None = None,
    persona_specs: list[dict] | None = None,
    max_rounds: int = 2,
    pause: tuple[int, int] = (20, 60),
    topics: list[str] = ("futebol no fim de semana",),
    activate: bool = True,
) -> Scenario:
    tenant_settings.update_settings(actor, **(settings or {"quiet_hours_enabled": False, "humanize": False}))
    sim, clock = engine.sim, engine.clock
    numbers = connect_numbers(actor, sim, phones, clock)
    if persona_specs:
        for number_id, spec in zip(numbers, persona_specs, strict=False):
            p = personas.create_persona(actor, **spec)
            instances.update_instance(actor, number_id, persona_id=str(p.id))
    conv = conversations.create_conversation(actor, "Warm-up", mode, clock=clock)
    for number_id in numbers:
        conversations.add_participant(actor, conv.id, number_id=number_id, clock=clock)
    if isinstance(schedule, list):
        days = schedule
    else:
        day = dict(schedule or ALL_DAY)
        days = [{"day": d, **day} for d in WEEKDAYS]
    for d in days:
        d.setdefault("max_rounds_per_window", max_rounds)
        d.setdefault("pause_min", pause[0])
        d.setdefault("pause_max", pause[1])
    conversations.set_schedule(actor, conv.id, days, clock=clock)
    for seed in topics:
        conversations.create_topic(actor, conv.id, seed, clock=clock)
    if activate:
        conversations.activate(actor, conv.id, clock=clock)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            text("SELECT id, session_id, wa_number FROM numbers WHERE id = ANY(:ids)"), {"ids": numbers}
        ).all()
    return Scenario(
        conv.id,
        numbers,
        {r.id: r.session_id for r in rows},
        {r.id: r.wa_number for r in rows},
    )


def messages(tenant_id, conversation_id=None) -> list:
    with tenant_session(tenant_id) as s:
        where = "WHERE conversation_id = :c" if conversation_id else ""
        return s.execute(
            text(
                "SELECT id, round_id, from_number_id, to_number_id, body, status::text AS status, error, wa_msg_id, "
                "meta, sent_at, created_at, attempts, dispatched_at, wait_reason "
                f"FROM messages {where} ORDER BY created_at, id"
            ),
            {"c": conversation_id},
        ).all()


def rounds(tenant_id, conversation_id) -> list:
    with tenant_session(tenant_id) as s:
        return s.execute(
            text(
                "SELECT id, state::text AS state, planned_turns, turns_done, window_key, participants, started_at, "
                "ended_at, end_reason FROM rounds WHERE conversation_id = :c ORDER BY started_at, id"
            ),
            {"c": conversation_id},
        ).all()
