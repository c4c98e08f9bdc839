"""Acceptance (issue 15): a time-warped fortnight of warming that looks like people, over the simulator.

Four numbers: a chatty one, one who loves voice notes, one who only types, and a quiet reader. They talk in a
round-robin conversation and, once mature enough, in a warming group of three. Phase rules keep the first days to
text and reactions, media later, groups and status posts last. Asserted from the database and from what the
simulator received: the mix follows persona and phase, caps hold with their weights, no file goes twice to the same
partner, quiet hours hold for every kind of action.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import status_posts
from mirage_app.logic import actions
from mirage_app.logic.dayparts import WEEKDAYS, QuietHours
from mirage_app.logic.warmup import WarmupPolicy, daily_cap
from mirage_app.services import action_rules, conversations, instances, personas
from tests.engine import scenario
from tests.engine.conftest import TZ, connect_numbers

MIN_DAY = {"reaction": 1, "quote": 2, "typo_edit": 2, "sticker": 3, "image": 4, "voice": 4, "location": 6,
           "contact": 6, "status": 5, "group": 6}  # fmt: skip
WARMUP = {"day1": 8, "growth": 1.4, "first_week_cap": 20, "max_daily": 40}
BURST = 10
SETTINGS = {
    "quiet_start": "22:00",
    "quiet_end": "08:00",
    "humanize": True,
    "min_delay_s": 15,
    "max_delay_s": 90,
    "hourly_burst_limit": BURST,
    "warmup": WARMUP,
}
CHATTY = {"reactions": 0.5, "quotes": 0.5, "typos": 0.3, "voice_notes": 0.15, "pictures": 0.2, "stickers": 0.2,
          "locations": 0.05, "contacts": 0.05, "status_posts": 0.9, "group_talk": 0.8}  # fmt: skip
VOICE = {"voice_notes": 0.5, "pictures": 0.0, "stickers": 0.0, "status_posts": 0.5, "group_talk": 0.6}
TYPIST = {"reactions": 0, "quotes": 0, "typos": 0, "voice_notes": 0, "pictures": 0, "stickers": 0, "locations": 0,
          "contacts": 0, "status_posts": 0, "group_talk": 0.5}  # fmt: skip
READER = {"voice_notes": 0, "pictures": 0.1, "stickers": 0.1, "status_posts": 0.2, "group_talk": 0.05}
PERSONAS = [
    {"name": "Ana", "locale": "pt-BR", "habits": CHATTY},
    {"name": "Bruno", "locale": "pt-BR", "habits": VOICE},
    {"name": "Caio", "locale": "pt-BR", "habits": TYPIST},
]
READER_PERSONA = {"name": "Duda", "locale": "pt-BR", "habits": READER}
MEDIA = ("voice", "image", "sticker")


def test_a_fortnight_of_rich_warming(engine, admin_actor):
    tenant, clock = admin_actor.tenant_id, engine.clock
    phones = ["5511920000001", "5511920000002", "5511920000003"]
    sc = scenario.build(
        admin_actor, engine, phones, mode="round_robin", settings=SETTINGS, persona_specs=PERSONAS, max_rounds=2
    )
    action_rules.set_tenant_rules(admin_actor, min_day=MIN_DAY)
    a, b, c = sc.numbers
    [d] = connect_numbers(admin_actor, engine.sim, ["5511920000004"], clock)
    reader = personas.create_persona(admin_actor, **READER_PERSONA)
    instances.update_instance(admin_actor, d, persona_id=str(reader.id))
    with tenant_session(tenant) as s:
        sessions = dict(sc.sessions) | {
            d: s.execute(text("SELECT session_id FROM numbers WHERE id = :n"), {"n": d}).scalar()
        }
    group = conversations.create_conversation(admin_actor, "Turma", "group", clock=clock)
    for number_id in (a, b, d):
        conversations.add_participant(admin_actor, group.id, number_id=number_id, clock=clock)
    days = [{"day": day, **scenario.ALL_DAY, "max_rounds_per_window": 1} for day in WEEKDAYS]
    conversations.set_schedule(admin_actor, group.id, days, clock=clock)
    conversations.create_topic(admin_actor, group.id, "o churrasco de sábado", clock=clock)
    conversations.activate(admin_actor, group.id, clock=clock)

    start = engine.clock.now()
    moment, end = start, start + timedelta(days=14)
    while moment < end:  # the periodic status-posts job, hourly here, between the engine's own steps
        moment += timedelta(hours=1)
        engine.driver.run_until(moment)
        status_posts.post_statuses(engine.clock)
        engine.driver.settle()
    assert engine.driver.failed_jobs() == []

    rows = _sent(tenant)
    assert len(rows) > 150, f"too little traffic for a fortnight: {len(rows)}"
    kinds = Counter(r.kind for r in rows)
    for kind in ("text", "reaction", "voice", "image", "sticker", "edit", "status"):
        assert kinds[kind] > 0, kinds

    # Picture statuses: Evolution (the simulator) downloaded each one through its signed link, over real HTTP.
    pictures = [r for r in rows if r.kind == "status" and r.media_id is not None]
    posted = [m for m in engine.sim.messages(from_me=True)
              if m.chat_jid == "status@broadcast" and m.message_type == "imageMessage"]  # fmt: skip
    assert pictures and len(posted) == len(pictures)
    assert all(int(m.message["imageMessage"]["fileLength"]["low"]) > 1000 for m in posted)

    # 1. Phase rules: nothing before its day (the warm-up day the number was on when it sent).
    day_of = _warm_days(rows)
    for r in rows:
        action = {"edit": "typo_edit"}.get(r.kind, r.kind)
        if r.meta.get("quoted"):
            assert day_of[r.id] >= MIN_DAY["quote"], (r.kind, day_of[r.id])
        if action in MIN_DAY:
            assert day_of[r.id] >= MIN_DAY[action], (r.kind, day_of[r.id])
        if r.group_id is not None:
            assert day_of[r.id] >= MIN_DAY["group"], ("group", day_of[r.id])
    assert not any(r.kind in MEDIA for r in rows if day_of[r.id] == 1), "media on day 1"

    # 2. The mix follows the persona: the typist only types and taps nothing; the voice lover records most.
    by_sender = defaultdict(Counter)
    for r in rows:
        by_sender[r.from_number_id][r.kind] += 1
    assert set(by_sender[c]) <= {"text"}, by_sender[c]
    assert by_sender[b]["voice"] > by_sender[a]["voice"] >= 0 and by_sender[b]["image"] == 0
    assert by_sender[d]["voice"] == 0

    # 3. Groups: the group was created with three members and talked, its quiet reader spoke least.
    group_rows = [r for r in rows if r.group_id is not None]
    assert len(group_rows) > 10
    speakers = Counter(r.from_number_id for r in group_rows if r.kind != "reaction")
    assert set(speakers) <= {a, b, d} and speakers[d] < speakers[a]
    sim_group = [m for m in engine.sim.messages(from_me=False) if (m.chat_jid or "").endswith("@g.us")]
    assert {m.instance for m in sim_group} == {sessions[a], sessions[b], sessions[d]}

    # 4. Caps hold with their weights: rolling-hour burst and the warm-up day's cap, in weighted units.
    policy = WarmupPolicy.from_mapping(WARMUP)
    tz = ZoneInfo(TZ)
    per_number = defaultdict(list)
    for r in rows:
        per_number[r.from_number_id].append((r.sent_at, r.cap_weight))
    for number_id, sends in per_number.items():
        sends.sort()
        for i, (t, _) in enumerate(sends):
            used = sum(w for x, w in sends[: i + 1] if x > t - timedelta(hours=1))
            assert used <= BURST + 1e-9, f"{number_id}: {used} weighted sends in an hour"
        daily = Counter()
        for t, w in sends:
            daily[t.astimezone(tz).date()] += w
        for index, day in enumerate(sorted(daily), start=1):
            assert daily[day] <= daily_cap(policy, index) + 1e-9, (number_id, day, daily[day])
    assert kinds["reaction"] and all(r.cap_weight == actions.cap_weight(r.kind) for r in rows)

    # 5. Never the same file twice to the same partner (the database and what the simulator decoded agree).
    pairs = Counter((r.from_number_id, r.group_id or r.to_number_id, r.media_id) for r in rows if r.media_id)
    assert pairs and max(pairs.values()) == 1
    instance_of = {v: k for k, v in sessions.items()}
    received = Counter(
        (m.author_phone or m.peer_phone, m.chat_jid, m.instance, m.media_sha256)  # per receiver and chat
        for m in engine.sim.messages(from_me=False)
        if m.media_sha256 and m.chat_jid != "status@broadcast"
    )
    assert received and max(received.values()) == 1, [k for k, v in received.items() if v > 1][:3]

    # 6. Quiet hours hold for every kind, statuses and reactions included.
    quiet = QuietHours.of("22:00", "08:00")
    for m in engine.sim.messages(from_me=True):
        assert not quiet.contains(m.at.astimezone(tz).time()), (m.message_type, m.at.astimezone(tz))
    assert {instance_of[m.instance] for m in engine.sim.messages(from_me=True)} <= set(sessions)

    # 7. Typos were fixed: every edit's original now shows the corrected text and keeps the typo in meta.
    edits = [r for r in rows if r.kind == "edit"]
    for e in edits:
        original = next(r for r in rows if str(r.id) == e.meta["edit_of"])
        assert original.body == e.body and original.meta["edited"]["from"] != e.body


def _sent(tenant_id) -> list:
    with tenant_session(tenant_id) as s:
        return s.execute(
            text(
                "SELECT id, kind::text AS kind, from_number_id, to_number_id, group_id, media_id, body, meta, "
                "sent_at, cap_weight, status::text AS status FROM messages "
                "WHERE direction = 'out' AND wa_msg_id IS NOT NULL AND status <> 'failed' ORDER BY sent_at, id"
            )
        ).all()


def _warm_days(rows) -> dict:
    """The warm-up day (1-based count of local days with a send) each row went out on, per number."""
    tz = ZoneInfo(TZ)
    days = defaultdict(list)
    for r in rows:
        day = r.sent_at.astimezone(tz).date()
        if day not in days[r.from_number_id]:
            days[r.from_number_id].append(day)
    return {r.id: days[r.from_number_id].index(r.sent_at.astimezone(tz).date()) + 1 for r in rows}
