"""Why things wait: every deferral of the send pipeline and every blocked outreach tick stores its reason (and the
tick until when), at the moment it is decided; a message that waited too long ends with a reason. Over the
simulator on the warped clock (Monday 00:00 in São Paulo), real database."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.engine import send_outcomes, sending
from mirage_app.i18n import catalog
from mirage_app.i18n.formats import clock as clock_label
from mirage_app.logic import waits
from mirage_app.models.enums import NumberStatus
from mirage_app.models.servers import HELD_HEALTH
from mirage_app.services import outreach, tenant_settings
from tests.engine.conftest import (
    TZ,
    connect_numbers,
    new_contact,
    new_policy,
    outreach_setup,
    queue_messages,
    tick_policies,
)

EN = catalog("en")


def _numbers(actor, engine, phones, **settings):
    """Two connected numbers, humanising and (unless set) quiet hours off; the clock at Monday 10:00."""
    defaults = {"humanize": False} | ({} if "quiet_start" in settings else {"quiet_hours_enabled": False})
    tenant_settings.update_settings(actor, **(defaults | settings))
    numbers = connect_numbers(actor, engine.sim, phones, engine.clock)
    engine.clock.advance(timedelta(hours=10))
    return numbers


def _local(engine, days: int, hour: int):
    """`hour`:00 in São Paulo, `days` after the warped Monday."""
    monday = engine.clock.now().astimezone(ZoneInfo(TZ)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (monday + timedelta(days=days)).replace(hour=hour).astimezone(ZoneInfo("UTC"))


def _paired(tenant, number_id, when) -> None:
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET paired_at = :t WHERE id = :n"), {"t": when, "n": number_id})
        s.commit()


def _wait(tenant, message_id):
    with tenant_session(tenant) as s:
        return s.execute(
            text(
                "SELECT status::text AS status, error, wait_reason, send_after, dispatched_at, meta FROM messages "
                "WHERE id = :id"
            ),
            {"id": message_id},
        ).one()


def _until(row):
    return waits.message_until(row.wait_reason, row.send_after, row.dispatched_at, row.meta)


def _line(row, now) -> str:
    return waits.message_line(
        EN, row.status, row.wait_reason, _until(row), row.send_after, row.error, now,
        lambda when: clock_label(when, TZ),
    )  # fmt: skip


def test_caps_store_what_is_used_and_until_when(engine, admin_actor):
    tenant = admin_actor.tenant_id
    a, b = _numbers(admin_actor, engine, ["5511900000401", "5511900000402"], hourly_burst_limit=2)
    ids = queue_messages(tenant, a, b, 3, engine.clock)
    for mid in ids:
        sending.process(tenant, mid)
    held = _wait(tenant, ids[2])
    assert (held.status, held.wait_reason) == ("queued", "hourly_cap:2/2")
    assert _until(held) == engine.clock.now() + timedelta(hours=1)
    assert _line(held, engine.clock.now()) == "Hourly cap used 2/2 · until 11:00"
    assert _wait(tenant, ids[0]).wait_reason is None  # sent: nothing to wait for
    assert len(engine.sim.messages(from_me=True)) == 2


def test_warm_up_cap_and_quiet_hours(engine, admin_actor):
    tenant = admin_actor.tenant_id
    a, b = _numbers(
        admin_actor, engine, ["5511900000403", "5511900000404"], quiet_start="22:00", quiet_end="08:00",
        warmup={"day1": 1, "first_week_cap": 1},
    )  # fmt: skip
    ids = queue_messages(tenant, a, b, 2, engine.clock)
    for mid in ids:
        sending.process(tenant, mid)
    capped = _wait(tenant, ids[1])
    tuesday_8 = _local(engine, 1, 8)  # the cap frees at midnight, inside quiet hours: 08:00
    assert (capped.wait_reason, _until(capped)) == ("warmup_cap:1/1", tuesday_8)
    assert _line(capped, engine.clock.now()) == "Warm-up daily cap used 1/1 · until 08:00"

    engine.clock.set(_local(engine, 0, 23))
    [late] = queue_messages(tenant, b, a, 1, engine.clock)
    sending.process(tenant, late)
    quiet = _wait(tenant, late)
    assert (quiet.wait_reason, _until(quiet)) == ("quiet_hours", tuesday_8)


def test_settling_disconnected_and_server_held(engine, admin_actor):
    tenant = admin_actor.tenant_id
    a, b = _numbers(admin_actor, engine, ["5511900000405", "5511900000406"])
    _paired(tenant, a, engine.clock.now() - timedelta(hours=2))
    [m1] = queue_messages(tenant, a, b, 1, engine.clock)
    sending.process(tenant, m1)
    settling = _wait(tenant, m1)
    assert (settling.wait_reason, _until(settling)) == ("settling", engine.clock.now() + timedelta(hours=10))

    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET status = 'disconnected' WHERE id = :b"), {"b": b})
        s.commit()
    [m2] = queue_messages(tenant, b, a, 1, engine.clock)
    outcome = sending.process(tenant, m2)
    offline = _wait(tenant, m2)
    assert offline.wait_reason == "number_disconnected" and _until(offline) == outcome.retry_at
    assert _line(offline, engine.clock.now()).startswith("Number disconnected · until ")

    with admin_engine().begin() as conn:  # the probe found the number's server down (the platform's: admin only)
        conn.execute(
            text("UPDATE evolution_servers SET health = 'unreachable' WHERE id = (SELECT server_id FROM numbers "
                 "WHERE id = :a)"), {"a": a},
        )  # fmt: skip
    engine.clock.advance(timedelta(hours=10))  # settled by now
    [m3] = queue_messages(tenant, a, b, 1, engine.clock)
    outcome = sending.process(tenant, m3)
    held = _wait(tenant, m3)
    assert (held.status, held.wait_reason, _until(held)) == ("queued", "server_unreachable", outcome.retry_at)
    assert _line(held, engine.clock.now()).startswith("Server unreachable: sends held · until ")


def test_a_message_that_waited_past_the_limit_expires_with_its_reason(engine, admin_actor):
    tenant = admin_actor.tenant_id
    a, b = _numbers(admin_actor, engine, ["5511900000407", "5511900000408"])
    [old] = queue_messages(tenant, a, b, 1, engine.clock)
    with tenant_session(tenant) as s:  # a day and more held back: the number is settling again after a re-pair
        s.execute(
            text("UPDATE messages SET created_at = :t, send_after = :t, wait_reason = 'settling' WHERE id = :id"),
            {"t": engine.clock.now() - waits.MAX_QUEUED - timedelta(minutes=1), "id": old},
        )
        s.commit()
    _paired(tenant, a, engine.clock.now() - timedelta(hours=1))
    outcome = sending.process(tenant, old)
    assert outcome.state == send_outcomes.FAILED and outcome.reason == "expired"
    row = _wait(tenant, old)
    assert (row.status, row.error, row.wait_reason, row.send_after) == ("failed", "expired", None, None)
    assert _line(row, engine.clock.now()) == "Expired: waited more than 24 hours"
    assert engine.sim.messages(from_me=True) == []


def test_waiting_outreach_targets_say_why_and_until_when(engine, admin_actor):
    [number] = outreach_setup(admin_actor, engine, ["5511900000301"])
    for phone, name in (("5511977770301", "Ana"), ("5511977770302", "Bruno")):
        engine.sim.add_human(phone, name, reply_probability=0.0, optout_probability=0.0)
    first = new_contact(admin_actor, "+5511977770301", "Ana")
    second = new_contact(admin_actor, "+5511977770302", "Bruno")
    policy = new_policy(admin_actor, number, daily_limit=1, hourly_limit=1)
    outreach.add_targets(admin_actor, policy.id, [first.id, second.id])
    pair = (admin_actor.tenant_id, policy)
    assert tick_policies(engine, pair) == ["opener"]
    assert tick_policies(engine, pair) == ["outreach_daily_cap"]  # the code the send guard stores for this cap
    waiting = {t.display_name: t.wait for t in outreach.list_targets(admin_actor, policy_id=policy.id).items}
    assert waiting["Bruno"].reason == "outreach_daily_cap" and (waiting["Bruno"].used, waiting["Bruno"].limit) == (1, 1)
    assert waiting["Bruno"].until is not None and waiting["Bruno"].until > engine.clock.now()
    assert waiting["Ana"] == waits.Wait("exchange")  # the opener went out: waiting for her reply

    engine.clock.advance(timedelta(hours=14))  # 00:00: outside the policy's dayparts
    assert tick_policies(engine, pair) == ["outside_dayparts"]
    bruno = next(t for t in outreach.list_targets(admin_actor, policy_id=policy.id).items if t.display_name == "Bruno")
    assert bruno.wait.reason == "outside_dayparts" and bruno.wait.until > engine.clock.now()
    assert waits.explain(EN, bruno.wait, "06:00") == "Outside the policy's days and hours · until 06:00"


def test_the_send_guard_holds_a_policy_cap_with_the_ticks_code(engine, admin_actor):
    """One cap, one code: the follow-up the send guard holds back says the policy's hourly cap and its use."""
    [number] = outreach_setup(admin_actor, engine, ["5511900000311"])
    engine.sim.add_human("5511977770311", "Carla", reply_probability=1.0, optout_probability=0.0)
    carla = new_contact(admin_actor, "+5511977770311", "Carla")
    policy = new_policy(admin_actor, number, hourly_limit=1, max_rounds_per_contact=3)
    outreach.add_targets(admin_actor, policy.id, [carla.id])
    pair = (admin_actor.tenant_id, policy)
    assert tick_policies(engine, pair) == ["opener"]  # Carla answers at once: her follow-up meets the cap
    [target] = outreach.list_targets(admin_actor, policy_id=policy.id).items
    assert target.status == "in_progress"
    assert (target.wait.reason, target.wait.used, target.wait.limit) == ("outreach_hourly_cap", 1, 1)
    assert engine.clock.now() < target.wait.until <= engine.clock.now() + timedelta(hours=1)
    assert tick_policies(engine, pair) == ["in_flight"]  # the tick waits for the queued follow-up


def test_every_hold_the_pipeline_can_store_has_words():
    """The server and number holds are built from the models' values (`server_<health>`, `number_<status>`)."""
    assert {f"server_{health}" for health in HELD_HEALTH} == set(waits.SERVER_HOLDS)
    not_connected = set(NumberStatus) - {NumberStatus.connected, NumberStatus.paused}  # paused fails its sends
    assert {f"number_{status}" for status in not_connected} == set(waits.NUMBER_HOLDS)
    assert set(waits.SERVER_HOLDS) | set(waits.NUMBER_HOLDS) <= waits.KNOWN
