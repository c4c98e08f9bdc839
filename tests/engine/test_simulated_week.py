"""Acceptance: a time-warped week over the simulator (FrozenClock, no real waiting).

Three numbers with personas, one round-robin conversation with a weekly schedule whose evening windows run into
the quiet hours (22:00–08:00), an hourly burst limit and a small warm-up ramp. Everything is asserted from what
the simulator actually received and from the database.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from mirage_app.engine import rounds as rounds_service
from mirage_app.logic.dayparts import WEEKDAYS, QuietHours, ScheduleSlot, schedule_status
from mirage_app.logic.optout import fold
from mirage_app.logic.warmup import WarmupPolicy, daily_cap
from tests.engine import scenario
from tests.engine.conftest import TZ

pytestmark = pytest.mark.usefixtures("text_only")  # pacing, caps and faults of text turns

WEEKDAY = {
    "morning_enabled": True, "morning_start": "08:00", "morning_end": "12:00",
    "afternoon_enabled": True, "afternoon_start": "13:00", "afternoon_end": "18:00",
    "evening_enabled": True, "evening_start": "19:00", "evening_end": "23:00",
}  # fmt: skip
WEEKEND = {
    "morning_enabled": False, "morning_start": "08:00", "morning_end": "12:00",
    "afternoon_enabled": True, "afternoon_start": "14:00", "afternoon_end": "18:00",
    "evening_enabled": False, "evening_start": "19:00", "evening_end": "23:00",
}  # fmt: skip
SCHEDULE = [{"day": d, **(WEEKEND if d in ("sat", "sun") else WEEKDAY)} for d in WEEKDAYS]
WARMUP = {"day1": 6, "growth": 1.5, "first_week_cap": 12, "max_daily": 50}
BURST = 8
SETTINGS = {
    "quiet_start": "22:00",
    "quiet_end": "08:00",
    "humanize": True,
    "min_delay_s": 15,
    "max_delay_s": 90,
    "hourly_burst_limit": BURST,
    "warmup": WARMUP,
}
PERSONAS = [
    {
        "name": "Ana",
        "locale": "pt-BR",
        "greeting_morning": "Bom diaa, gente linda!",
        "greeting_afternoon": "Boa tarde, pessoal!",
        "greeting_evening": "Boa noite, turma!",
        "traits": {"emoji_use": "none", "typical_length": "short"},
    },
    {
        "name": "Mike",
        "locale": "en",
        "greeting_morning": "Morning, sunshine!",
        "greeting_afternoon": "Good afternoon, friend!",
        "greeting_evening": "Evening, mate!",
        "traits": {"emoji_use": "none"},
    },
    {"name": "Bia", "locale": "pt-BR", "style": "calorosa", "traits": {"emoji_use": "low"}},
]
STOCK_GREETING = {"morning": "bom dia", "afternoon": "boa tarde", "evening": "boa noite"}


def test_a_simulated_week(engine, admin_actor):
    tenant = admin_actor.tenant_id
    sc = scenario.build(
        admin_actor,
        engine,
        ["5511910000001", "5511910000002", "5511910000003"],
        mode="round_robin",
        schedule=[dict(d) for d in SCHEDULE],
        settings=SETTINGS,
        persona_specs=PERSONAS,
        max_rounds=2,
        pause=(20, 60),
    )
    start = engine.clock.now()
    driver = engine.driver

    # Tuesday 02:30 local: a bot writes to another bot outside any round (an operator typing on the phone).
    driver.run_until(start + timedelta(days=1, hours=2, minutes=30))
    a, b = sc.numbers[0], sc.numbers[1]
    injected = "Oi, tudo certo? Passando só pra dar um oi."
    engine.client.send_text(sc.sessions[a], sc.phones[b].lstrip("+"), injected)
    engine.sim.wait_idle(5)
    driver.settle()
    driver.run_until(start + timedelta(days=7))
    assert driver.failed_jobs() == []

    tz = ZoneInfo(TZ)
    slots = [ScheduleSlot.coerce(x) for x in _slots(SCHEDULE)]
    quiet = QuietHours.of("22:00", "08:00")
    instance_of = {v: k for k, v in sc.sessions.items()}
    sends = [m for m in engine.sim.messages(from_me=True) if m.text != injected]
    assert len(sends) > 60, f"too little traffic for a week: {len(sends)}"
    skipped = sum((r.skipped for r in driver.reports), Counter())
    assert skipped["daily_cap"] > 0, skipped  # the warm-up ramp really limited the week

    # 1. Messages only inside open windows, never in quiet hours.
    for m in sends:
        status = schedule_status(slots, m.at, TZ)
        local = m.at.astimezone(tz)
        assert status.open is not None, f"sent outside any window: {local} {m.text!r}"
        assert not quiet.contains(local.time()), f"sent in quiet hours: {local}"

    # 2. Sent exactly once each; the database agrees with the simulator.
    msgs = scenario.messages(tenant, sc.conversation_id)
    went_out = [m for m in msgs if m.wa_msg_id and m.status != "failed"]
    assert Counter((instance_of[m.instance], m.text) for m in sends) == Counter(
        (m.from_number_id, m.body) for m in went_out
    )
    assert len({fold(m.body) for m in msgs}) == len(msgs), "a line was repeated within the conversation"
    failures = Counter(m.error for m in msgs if m.status == "failed")
    assert set(failures) <= {"window_closed", "quiet_hours", "round_aborted", "daily_cap", "hourly_cap"}, failures

    # 3. Rounds per window and the pauses between them.
    rounds = scenario.rounds(tenant, sc.conversation_id)
    assert sum(r.state == "done" for r in rounds) >= 15, Counter(r.state for r in rounds)
    by_window = defaultdict(list)
    for r in rounds:
        by_window[r.window_key].append(r)
    for key, group in by_window.items():
        assert len(group) <= 2, f"{key}: {len(group)} rounds"
        group.sort(key=lambda r: r.started_at)
        for prev, nxt in itertools.pairwise(group):
            assert nxt.started_at >= prev.ended_at + timedelta(minutes=20), f"{key}: pause not respected"
    assert not any(r.state == "running" and r.started_at < engine.clock.now() - timedelta(hours=2) for r in rounds)

    # 4. No cap ever exceeded (rolling hour burst; warm-up ramp per active day, tenant-local days).
    policy = WarmupPolicy.from_mapping(WARMUP)
    per_number = defaultdict(list)
    for m in engine.sim.messages(from_me=True):
        per_number[m.instance].append(m.at)
    for instance, times in per_number.items():
        times.sort()
        for i, t in enumerate(times):
            in_hour = [x for x in times[: i + 1] if x > t - timedelta(hours=1)]
            assert len(in_hour) <= BURST, f"{instance}: {len(in_hour)} sends in an hour"
        days = Counter(t.astimezone(tz).date() for t in times)
        for index, day in enumerate(sorted(days), start=1):
            cap = daily_cap(policy, index)
            assert days[day] <= cap, f"{instance}: {days[day]} sends on {day} (active day {index}, cap {cap})"
    assert max(len(v) for v in per_number.values()) >= 20  # caps were reached, not just idled under

    # 5. No bot-to-bot loop outside rounds: the injected line got no answer; every other send is a round turn.
    assert all(m.round_id is not None and m.meta.get("send_key") for m in went_out)
    [stray] = [m for m in scenario.messages(tenant) if m.body == injected]
    assert stray.round_id is None
    assert rounds_service.on_message(tenant, stray.id).state == rounds_service.OUTSIDE_ROUND

    # 6. Replies in persona voice for the daypart (own greeting, or the stock pt-BR one; English persona in English).
    persona_of = {sc.numbers[i]: PERSONAS[i] for i in range(3)}
    openers = [m for m in went_out if m.meta.get("turn") == 0]
    assert openers
    for m in openers:
        persona = persona_of[m.from_number_id]
        part = m.meta["daypart"]
        own = persona.get(f"greeting_{part}")
        if own:
            assert m.body.startswith(own), (part, m.body)
        else:
            assert STOCK_GREETING[part] in fold(m.body), (part, m.body)
    english = [m.body for m in went_out if persona_of[m.from_number_id]["locale"] == "en"]
    assert english and not any(ch in body for body in english for ch in "ãçõé"), english[:3]


def _slots(days):
    for d in days:
        for part in ("morning", "afternoon", "evening"):
            end = d[f"{part}_end"]
            yield {
                "day": d["day"],
                "daypart": part,
                "enabled": d[f"{part}_enabled"],
                "start": d[f"{part}_start"],
                "end": "00:00" if end == "24:00" else end,
            }
