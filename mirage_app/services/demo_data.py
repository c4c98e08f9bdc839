""" "Load demo data" (demo mode only): personas, connected simulated numbers, a warming conversation with its
schedule and topics, consented contacts with an outreach policy, and 14 days of realistic history, so every
screen and chart has something true to show. Reports progress as it goes."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.config import get_settings
from mirage_app.core.db import tenant_session
from mirage_app.engine import consent_history
from mirage_app.logic.offline_generator import OfflineGenerator
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS
from mirage_app.logic.prompts import PersonaSpec, TopicSpec, round_phases
from mirage_app.models import (
    ConsentStatus,
    Contact,
    Conversation,
    ConversationMode,
    ConversationParticipant,
    ConversationSchedule,
    OutreachPolicy,
    OutreachTarget,
    Pairing,
    Persona,
    Tenant,
    TenantSettings,
    Topic,
    Weekday,
)
from mirage_app.services import conversations, instances, media_starter, number_activity
from mirage_app.services.metric_rollups import advance_all

Progress = Callable[[int, str], None]
DAYS = 14

PERSONAS = [
    (
        "Ana Souza",
        "Animada, usa emojis com moderação, fala de rotina e trabalho.",
        "Bom dia!! ☀️",
        "Boa tarde!",
        "Boa noite 🌙",
        {"age": 29, "occupation": "designer", "emoji_use": "medium", "typical_length": "short"},
    ),
    (
        "Bruno Lima",
        "Calmo, frases curtas, gosta de futebol e café.",
        "Bom dia",
        "Opa, boa tarde",
        "Boa noite, tudo certo?",
        {"age": 35, "occupation": "engenheiro", "emoji_use": "low", "typical_length": "short"},
    ),
    (
        "Carla Mendes",
        "Curiosa, faz perguntas, fala de viagens e receitas.",
        "Bom diaa",
        "Boa tarde! Tudo bem?",
        "Boa noite! Como foi o dia?",
        {"age": 42, "occupation": "professora", "emoji_use": "medium"},
    ),
]
# How each demo person uses WhatsApp beyond typing (logic.actions.Habits), so the demo shows every action.
HABITS = [
    {"stickers": 0.2, "pictures": 0.2, "reactions": 0.45, "quotes": 0.35, "typos": 0.15, "status_posts": 0.8,
     "group_talk": 0.6, "emoji": 0.8},
    {"voice_notes": 0.4, "reactions": 0.25, "quotes": 0.2, "locations": 0.05, "status_posts": 0.4,
     "group_talk": 0.4},
    {"pictures": 0.15, "voice_notes": 0.15, "stickers": 0.1, "reactions": 0.35, "quotes": 0.45, "contacts": 0.05,
     "typos": 0.1, "status_posts": 0.6, "group_talk": 0.5},
]  # fmt: skip
TOPICS = ["planos para o fim de semana", "uma receita nova", "a série do momento", "o trânsito de hoje"]
# Simulated numbers need no settle time after pairing; a real tenant's settings are never touched.
DEMO_WARMUP = {"settle_hours_after_pairing": 0, "settle_hours_after_repair": 0}


@dataclass(frozen=True)
class DemoSummary:
    """What loading the demo created, and which of the tenant's settings it changed: catalog keys
    ("demo.changed.<setting>", both languages) for the loader to show."""

    personas: int
    numbers: int
    messages: int
    changed_settings: list[str] = field(default_factory=list)


CONTACTS = ["Mariana", "João", "Patrícia", "Rafael", "Beatriz", "Lucas", "Fernanda", "Gustavo", "Juliana", "Diego"]


def load_demo_data(actor: Actor, progress: Progress | None = None, clock: Clock = system_clock) -> DemoSummary:
    authorize(actor, Action.conversations_manage)
    if not get_settings().is_demo:
        raise ValidationFailed("demo.only_in_demo")
    report = progress or (lambda _pct, _label: None)
    with tenant_session(actor.tenant_id) as s:
        if s.execute(text("SELECT 1 FROM personas WHERE name = :n"), {"n": PERSONAS[0][0]}).first():
            raise Conflict("demo.already_loaded")
        tenant = s.get(Tenant, actor.tenant_id)
        tz, locale = ZoneInfo(tenant.timezone), tenant.locale

    changed = _demo_pacing(actor)
    report(5, "personas")
    persona_ids = _personas(actor)
    report(15, "numbers")
    number_ids = []
    for i, persona_id in enumerate(persona_ids):
        view = instances.create_instance(actor, f"Demo {PERSONAS[i][0].split()[0]}", persona_id)
        instances.simulate_scan(actor, view.id)  # the simulated phone of whichever server it was placed on
        number_ids.append(view.id)
        report(15 + 10 * (i + 1), "numbers")
    report(50, "conversation")
    conversation_id, topic_ids = _conversation(actor, number_ids)
    _group_conversation(actor, number_ids, clock)
    report(60, "contacts")
    contact_ids = _contacts_and_policy(actor, number_ids[0], persona_ids[0], clock)
    report(65, "media")
    media_starter.load_starter_library(actor, locale, clock)
    report(70, "history")
    messages = _history(actor, number_ids, persona_ids, conversation_id, topic_ids, contact_ids, tz, clock)
    report(95, "metrics")
    advance_all()
    with tenant_session(actor.tenant_id) as s:
        # The history went in behind the send pipeline's back: the warm-up counters follow it (day 15, not day 1).
        number_activity.sync_active_days(s, tz.key, clock.now(), number_activity.policy_of(s))
        audit.record(s, actor, "demo.loaded", "tenant", actor.tenant_id, after={"messages": messages})
        s.commit()
    report(100, "done")
    return DemoSummary(len(persona_ids), len(number_ids), messages, changed)


def _demo_pacing(actor: Actor) -> list[str]:
    """Simulated numbers need no settle time after pairing: the demo can start its rounds at once. Only in demo
    mode (the built-in simulator is the only backend, `load_demo_data` checks); returns the catalog keys of the
    settings it changed."""
    with tenant_session(actor.tenant_id) as s:
        row = s.exec(select(TenantSettings)).first()
        before = dict(row.warmup or {})
        changed = [key for key, value in DEMO_WARMUP.items() if before.get(key) != value]
        if not changed:
            return []
        row.warmup = {**before, **DEMO_WARMUP}
        s.add(row)
        audit.record(
            s,
            actor,
            "settings.update",
            "settings_tenant",
            row.id,
            before={"warmup": before},
            after={"warmup": row.warmup},
        )
        s.commit()
    return [f"demo.changed.{key}" for key in changed]


def _personas(actor: Actor) -> list[uuid.UUID]:
    with tenant_session(actor.tenant_id) as s:
        rows = [
            Persona(
                tenant_id=actor.tenant_id,
                name=name,
                style=style,
                greeting_morning=m,
                greeting_afternoon=a,
                greeting_evening=e,
                traits=traits,
                habits=habits,
                active_hours={"start": "08:00", "end": "22:00"},
            )
            for (name, style, m, a, e, traits), habits in zip(PERSONAS, HABITS, strict=True)
        ]
        s.add_all(rows)
        s.commit()
        return [p.id for p in rows]


def _conversation(actor: Actor, number_ids: list[uuid.UUID]) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with tenant_session(actor.tenant_id) as s:
        conv = Conversation(
            tenant_id=actor.tenant_id, name="Maturação diária", mode=ConversationMode.round_robin, active=False
        )
        s.add(conv)
        s.flush()
        for order, number_id in enumerate(number_ids):
            s.add(
                ConversationParticipant(
                    tenant_id=actor.tenant_id, conversation_id=conv.id, number_id=number_id, start_order=order
                )
            )
        for a, b in zip(number_ids, number_ids[1:] + number_ids[:1], strict=True):
            s.add(Pairing(tenant_id=actor.tenant_id, conversation_id=conv.id, number_a_id=a, number_b_id=b))
        for day in Weekday:
            weekend = day in (Weekday.sat, Weekday.sun)
            s.add(
                ConversationSchedule(
                    tenant_id=actor.tenant_id,
                    conversation_id=conv.id,
                    day=day,
                    evening_enabled=not weekend,
                    max_rounds_per_window=1 if weekend else 3,
                )
            )
        topics = [Topic(tenant_id=actor.tenant_id, conversation_id=conv.id, seed=seed) for seed in TOPICS]
        s.add_all(topics)
        s.commit()
        return conv.id, [t.id for t in topics]


def _group_conversation(actor: Actor, number_ids: list[uuid.UUID], clock: Clock) -> uuid.UUID:
    """A warming group of the three demo numbers (switched on by the operator, like the pair conversation)."""
    group = conversations.create_conversation(actor, "Turma do café", "group", clock=clock)
    for number_id in number_ids:
        conversations.add_participant(actor, group.id, number_id=number_id, clock=clock)
    conversations.create_topic(actor, group.id, "o café de sábado", clock=clock)
    return group.id


def _contacts_and_policy(actor: Actor, number_id: uuid.UUID, persona_id: uuid.UUID, clock: Clock) -> list[uuid.UUID]:
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        contacts = [
            Contact(
                tenant_id=actor.tenant_id,
                wa_number=f"+55119{87650000 + i:08d}",
                display_name=name,
                tags=["demo", "clientes" if i % 2 else "leads"],
                consent_status=ConsentStatus.granted,
                consent_basis="consent",
                consent_source="formulário do site",
                consent_at=now - timedelta(days=30),
            )
            for i, name in enumerate(CONTACTS)
        ]
        consent_history.act_as(s, actor.label)
        s.add_all(contacts)
        s.flush()
        policy = OutreachPolicy(
            tenant_id=actor.tenant_id,
            number_id=number_id,
            persona_id=persona_id,
            daily_limit=20,
            hourly_limit=4,
            dayparts=["morning", "afternoon"],
            optout_keywords=list(DEFAULT_OPTOUT_KEYWORDS),
            active=False,
        )
        s.add(policy)
        s.flush()
        for i, contact in enumerate(contacts):
            s.add(
                OutreachTarget(
                    tenant_id=actor.tenant_id, policy_id=policy.id, contact_id=contact.id, priority=len(contacts) - i
                )
            )
        s.commit()
        return [c.id for c in contacts]


REACTIONS = ("👍", "❤️", "😂", "🙏")


def _decorate(rows: list[dict], rng: random.Random, answers: bool) -> None:
    """Now and then the last turn quotes the one it answers, and its reader reacts to it (as the engine does)."""
    turn = rows[-1]
    turn["wa"] = f"DEMO{uuid.uuid4().hex[:20].upper()}"
    previous = rows[-2] if answers and len(rows) > 1 else None
    if previous is not None and rng.random() < 0.2:
        turn["ref"] = previous["wa"]
        turn["meta"]["quoted"] = {"wa_msg_id": previous["wa"], "body": previous["body"][:500], "kind": "text"}
    if turn["status"] != "failed" and rng.random() < 0.25:
        rows.append(
            dict(
                turn,
                **{
                    "from": turn["to"],
                    "to": turn["from"],
                    "kind": "reaction",
                    "body": rng.choice(REACTIONS),
                    "ref": turn["wa"],
                    "wa": f"DEMO{uuid.uuid4().hex[:20].upper()}",
                    "weight": 0.25,
                    "at": turn["at"] + timedelta(seconds=rng.randint(20, 120)),
                    "meta": {"origin": "demo"},
                },
            )
        )


def _history(actor, number_ids, persona_ids, conversation_id, topic_ids, contact_ids, tz, clock) -> int:
    """14 days of rounds inside the schedule's windows, acks, a few failures, contact replies and opt-outs."""
    rng = random.Random(20261125)
    generator = OfflineGenerator(random.Random(7))
    personas = [
        PersonaSpec(
            name=p[0], style=p[1], greeting_morning=p[2], greeting_afternoon=p[3], greeting_evening=p[4], traits=p[5]
        )
        for p in PERSONAS
    ]
    today = clock.now().astimezone(tz).date()
    rows, rounds = [], []
    history: list[str] = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        weekend = day.weekday() >= 5
        for window_start, daypart in ((9, "morning"), (14, "afternoon"), (19, "evening")):
            for _ in range(rng.randint(1, 2 if weekend else 4)):
                a, b = rng.sample(range(len(number_ids)), 2)
                topic = rng.randrange(len(topic_ids))
                round_id = uuid.uuid4()
                started = datetime.combine(day, time(window_start + rng.randint(0, 2), rng.randint(0, 59)), tz)
                rounds.append((round_id, topic_ids[topic], started))
                at, prev_at = started, None
                for turn in round_phases(rng.randint(2, 4)):
                    speaker, listener = (a, b) if turn.speaker == "A" else (b, a)
                    body = generator.generate(
                        personas[speaker], TopicSpec(TOPICS[topic], ""), daypart, turn.phase, history[-6:], "pt-BR"
                    )
                    history.append(body)
                    failed = rng.random() < 0.03
                    meta = {"origin": "demo", "phase": turn.phase}
                    if prev_at is not None:
                        meta["reply_latency_s"] = round((at - prev_at).total_seconds(), 1)
                    rows.append(
                        {
                            "from": number_ids[speaker],
                            "to": number_ids[listener],
                            "contact": None,
                            "dir": "out",
                            "body": body,
                            "status": "failed" if failed else "read",
                            "at": at,
                            "round": round_id,
                            "conv": conversation_id,
                            "meta": meta,
                        }
                    )
                    _decorate(rows, rng, prev_at is not None)
                    prev_at = at
                    at += timedelta(seconds=rng.randint(40, 600))
        for contact_id in rng.sample(contact_ids, 2):
            at = datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)), tz)
            rows.append(
                {
                    "from": number_ids[0],
                    "to": None,
                    "contact": contact_id,
                    "dir": "out",
                    "conv": None,
                    "body": "Oi! Tudo bem? Passando para contar uma novidade. Se não quiser receber, responda SAIR.",
                    "status": "read",
                    "at": at,
                    "round": None,
                    "meta": {"origin": "demo", "outreach": True},
                }
            )
            if rng.random() < 0.6:
                reply_at = at + timedelta(minutes=rng.randint(3, 90))
                rows.append(
                    {
                        "from": None,
                        "to": number_ids[0],
                        "contact": contact_id,
                        "dir": "in",
                        "conv": None,
                        "body": rng.choice(["Oi, tudo sim!", "Pode falar", "Que legal, me conta mais"]),
                        "status": "delivered",
                        "at": reply_at,
                        "round": None,
                        "meta": {"origin": "demo"},
                    }
                )
    with tenant_session(actor.tenant_id) as s:
        for round_id, topic_id, started in rounds:
            s.execute(
                text(
                    "INSERT INTO rounds (id, tenant_id, conversation_id, topic_id, planned_turns, turns_done, state, "
                    "window_key, started_at, ended_at, created_at) VALUES (:id, :t, :c, :topic, 4, 4, 'done', :wk, "
                    ":at, :at, :at)"
                ),
                {
                    "id": round_id,
                    "t": actor.tenant_id,
                    "c": conversation_id,
                    "topic": topic_id,
                    "wk": started.date().isoformat(),
                    "at": started,
                },
            )
        s.execute(
            text(
                "INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, contact_id, "
                "wa_msg_id, direction, body, meta, status, created_at, sent_at, kind, ref_wa_msg_id, cap_weight) "
                "VALUES (:t, :conv, :round, :from, :to, :contact, :wa, CAST(:dir AS msg_direction), :body, "
                "CAST(:meta AS jsonb), CAST(:status AS message_status), :at, :at, CAST(:kind AS message_kind), :ref, "
                ":weight)"
            ),
            [
                {
                    "kind": "text",
                    "ref": None,
                    "weight": 1.0,
                    **r,
                    "t": actor.tenant_id,
                    "wa": r.get("wa") or f"DEMO{uuid.uuid4().hex[:20].upper()}",
                    "meta": json.dumps(r["meta"]),
                }
                for r in rows
            ],
        )
        opted = contact_ids[-1]
        s.execute(
            text(
                "INSERT INTO suppression (tenant_id, wa_number, contact_id, reason, created_at) "
                "SELECT tenant_id, wa_number, id, 'optout: SAIR', :at FROM contacts WHERE id = :c"
            ),
            {"c": opted, "at": clock.now() - timedelta(days=3)},
        )
        s.execute(text("UPDATE contacts SET opted_out_at = :at WHERE id = :c"), {"c": opted, "at": clock.now()})
        s.execute(
            text("UPDATE outreach_targets SET status = 'optout' WHERE contact_id = :c"),
            {"c": opted},
        )
        s.commit()
    return len(rows)
