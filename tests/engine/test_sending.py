"""The send pipeline's gates and caps against the database (a recording fake stands in for Evolution):
caps hold under concurrent workers, blocks defer to the right moment, gates fail or wait with their reason."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import app_engine, tenant_session
from mirage_app.engine import send_outcomes, sending
from mirage_app.engine.runtime import EngineRuntime, EngineSettings, use_runtime
from mirage_app.evolution.models import SentMessage
from mirage_app.models import Number, NumberStatus
from mirage_app.services import tenant_settings
from tests.engine.conftest import queue_messages
from tests.engine.test_conversation_scheduler import Recorder

pytestmark = pytest.mark.usefixtures("text_only")  # pacing, caps and faults of text turns

SP = ZoneInfo("America/Sao_Paulo")


class FakeEvolution:
    """Thread-safe stand-in for EvolutionClient: records sends, answers like sendText."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self.after_send = None  # called with the WhatsApp id before the answer returns (a webhook overtaking it)

    def send_text(self, name, number, text_, delay_ms=None, quoted=None, *, token=None):
        with self.lock:
            self.sent.append((name, number, text_))
        wa_msg_id = uuid.uuid4().hex.upper()
        if self.after_send is not None:
            self.after_send(wa_msg_id)
        return SentMessage.from_body({"key": {"id": wa_msg_id, "remoteJid": f"{number}@s"},
                                      "status": "PENDING", "messageTimestamp": 1})  # fmt: skip

    def mark_read(self, *args, **kwargs):
        return None


@pytest.fixture
def clock():
    return FrozenClock(datetime(2030, 6, 3, 10, 0, tzinfo=SP).astimezone(UTC))


@pytest.fixture
def fake():
    return FakeEvolution()


@pytest.fixture
def jobs(clock, fake):
    recorder = Recorder()
    rt = EngineRuntime(clock=clock, deferrer=recorder, settings=EngineSettings(), evolution=lambda: fake)
    with use_runtime(rt):
        yield recorder


def _setup(actor, clock, **settings):
    defaults = {"humanize": False} | ({} if "quiet_start" in settings else {"quiet_hours_enabled": False})
    tenant_settings.update_settings(actor, **(defaults | settings))
    with tenant_session(actor.tenant_id) as s:
        ids = []
        for i in range(2):
            n = Number(tenant_id=actor.tenant_id, session_id=f"snd-{uuid.uuid4().hex[:8]}", label=f"S{i}",
                       status=NumberStatus.connected, wa_number=f"+55119{uuid.uuid4().int % 10**8:08d}",
                       paired_at=clock.now() - timedelta(days=20), active_days=3)  # fmt: skip
            s.add(n)
            s.flush()
            ids.append(n.id)
        s.commit()
    return ids


def _rows(tenant, ids):
    with tenant_session(tenant) as s:
        return s.execute(
            text("SELECT id, status::text AS status, error, send_after, wait_reason, attempts "
                 "FROM messages WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()  # fmt: skip


def test_the_hourly_burst_holds_with_concurrent_workers(admin_actor, clock, jobs, fake):
    a, b = _setup(admin_actor, clock, hourly_burst_limit=5)
    ids = queue_messages(admin_actor.tenant_id, a, b, 20, clock)
    barrier = threading.Barrier(8)

    def worker(chunk):
        barrier.wait()
        for mid in chunk:
            sending.process(admin_actor.tenant_id, mid)

    threads = [threading.Thread(target=worker, args=(ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = _rows(admin_actor.tenant_id, ids)
    assert len(fake.sent) == 5 and sum(r.status == "sent" for r in rows) == 5
    blocked = [r for r in rows if r.status == "queued"]
    assert len(blocked) == 15 and {r.wait_reason for r in blocked} == {"hourly_cap:5/5"}
    assert {r.send_after for r in blocked} == {clock.now() + timedelta(hours=1)}  # when the oldest slot frees
    assert len(jobs.later) == 15
    # Processing them again before that changes nothing.
    for mid in ids:
        sending.process(admin_actor.tenant_id, mid)
    assert len(fake.sent) == 5


def test_warm_up_daily_cap_and_quiet_hours_defer_to_the_right_time(admin_actor, clock, jobs, fake):
    a, b = _setup(admin_actor, clock, quiet_start="22:00", quiet_end="08:00",
                  warmup={"day1": 3, "first_week_cap": 3})  # fmt: skip
    with tenant_session(admin_actor.tenant_id) as s:
        s.execute(text("UPDATE numbers SET active_days = 0 WHERE id = :a"), {"a": a})  # a brand-new sender
        s.commit()
    ids = queue_messages(admin_actor.tenant_id, a, b, 4, clock)
    for mid in ids:
        sending.process(admin_actor.tenant_id, mid)
    rows = {r.id: r for r in _rows(admin_actor.tenant_id, ids)}
    assert [rows[m].status for m in ids] == ["sent", "sent", "sent", "queued"]
    # the daily cap frees at local midnight, which is inside quiet hours: wait until 08:00
    assert rows[ids[3]].wait_reason == "warmup_cap:3/3"
    assert rows[ids[3]].send_after == datetime(2030, 6, 4, 8, 0, tzinfo=SP).astimezone(UTC)
    with tenant_session(admin_actor.tenant_id) as s:
        assert s.execute(text("SELECT active_days FROM numbers WHERE id = :a"), {"a": a}).scalar() == 1
    # 23:00 local: quiet hours
    clock.set(datetime(2030, 6, 3, 23, 0, tzinfo=SP).astimezone(UTC))
    [late] = queue_messages(admin_actor.tenant_id, b, a, 1, clock)
    outcome = sending.process(admin_actor.tenant_id, late)
    assert outcome.state == send_outcomes.DEFERRED and outcome.reason == "quiet_hours"
    assert outcome.retry_at == datetime(2030, 6, 4, 8, 0, tzinfo=SP).astimezone(UTC)


def test_gates(admin_actor, clock, jobs, fake):
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET paired_at = :t WHERE id = :a"), {"t": clock.now() - timedelta(hours=2),
                                                                          "a": a})  # fmt: skip
        s.commit()
    [m1] = queue_messages(tenant, a, b, 1, clock)
    settling = sending.process(tenant, m1)
    assert settling.state == send_outcomes.DEFERRED and settling.reason == "settling"
    assert settling.retry_at == clock.now() + timedelta(hours=10)  # 12 h after pairing
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET status = 'paused', paired_at = :t WHERE id = :a"),
                  {"t": clock.now() - timedelta(days=3), "a": a})  # fmt: skip
        s.commit()
    clock.advance(timedelta(hours=11))
    paused = sending.process(tenant, m1)
    assert paused.state == send_outcomes.FAILED and paused.reason == "number_paused"
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET status = 'disconnected' WHERE id = :a"), {"a": a})
        s.commit()
    [m2] = queue_messages(tenant, a, b, 1, clock)
    offline = sending.process(tenant, m2)
    assert offline.state == send_outcomes.RETRY and offline.reason == "number_disconnected"
    assert fake.sent == []
    # idempotent: a sent message is never sent again
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET status = 'connected' WHERE id = :a"), {"a": a})
        s.execute(text("UPDATE messages SET send_after = :t WHERE id = :m"), {"t": clock.now(), "m": m2})
        s.commit()
    assert sending.process(tenant, m2).state == send_outcomes.SENT
    assert sending.process(tenant, m2).state == send_outcomes.NOOP
    assert len(fake.sent) == 1


def test_a_send_job_released_before_its_time_runs_again_at_that_time(admin_actor, clock, jobs, fake):
    """A worker whose clock runs behind may start the job early: the message is not due yet, nothing is sent, and
    the job is queued again for the message's time (not left to the tick's overdue sweep, minutes later)."""
    a, b = _setup(admin_actor, clock)
    [message] = queue_messages(admin_actor.tenant_id, a, b, 1, clock)
    due = clock.now() + timedelta(seconds=7, milliseconds=300)
    with tenant_session(admin_actor.tenant_id) as s:
        s.execute(text("UPDATE messages SET send_after = :t WHERE id = :id"), {"t": due, "id": message})
        s.commit()
    outcome = sending.process(admin_actor.tenant_id, message)
    assert outcome.state == send_outcomes.EARLY and fake.sent == []
    [(when, func, args, job)] = jobs.later
    assert when == due.replace(microsecond=0) + timedelta(seconds=1)
    assert args == (str(admin_actor.tenant_id), str(message))
    assert func == "workers.jobs.send_message" and "early" in job


@pytest.mark.parametrize("lend_connection", [False, True], ids=["send job", "inline send"])
def test_a_webhook_that_overtakes_the_send_is_merged_into_it(admin_actor, clock, jobs, fake, lend_connection):
    """The recipient's webhook stored the message (delivered) before the send was recorded: one row is left, the
    sent one, with the webhook's status, and the message's advisory lock is released either way."""
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock)
    [m] = queue_messages(tenant, a, b, 1, clock)

    def webhook_first(wa_msg_id: str) -> None:
        with tenant_session(tenant) as s:
            s.execute(
                text("INSERT INTO messages (tenant_id, from_number_id, to_number_id, direction, body, status, meta, "
                     "wa_msg_id) VALUES (:t, :a, :b, 'out', 'echo', 'delivered', '{}', :wa)"),
                {"t": tenant, "a": a, "b": b, "wa": wa_msg_id},
            )  # fmt: skip
            s.commit()

    fake.after_send = webhook_first
    with app_engine().connect() as conn:
        outcome = sending.process(tenant, m, conn if lend_connection else None)
        held = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
        assert held == 0
        conn.rollback()
    assert outcome.state == send_outcomes.SENT
    with tenant_session(tenant) as s:
        rows = s.execute(
            text("SELECT id, status::text FROM messages WHERE wa_msg_id = :wa"), {"wa": outcome.wa_msg_id}
        ).all()
    assert [tuple(r) for r in rows] == [(m, "delivered")]


def test_a_delivery_racing_the_merge_with_the_same_timestamp_neither_deadlocks_nor_doubles(
    admin_actor, clock, jobs, fake
):
    """A delivery of the sent message carries the queued row's very created_at (a frozen clock; in production, a
    send within the second it was queued) and is in flight while the send is recorded: its claim on the WhatsApp id
    is made, its row not yet. The merge waits for the claim, then fails once on it and retries (alembic 0027 key
    order); taking the row first would deadlock with the delivery's insert. One row is left, the sent one."""
    tenant = admin_actor.tenant_id
    a, b = _setup(admin_actor, clock)
    [m] = queue_messages(tenant, a, b, 1, clock)
    errors: list[BaseException] = []

    def delivery(wa_msg_id: str, claimed: threading.Event) -> None:
        try:
            with tenant_session(tenant) as s:
                at = s.execute(text("SELECT created_at FROM messages WHERE id = :id"), {"id": m}).scalar()
                params = {"t": tenant, "a": a, "b": b, "wa": wa_msg_id, "at": at, "x": uuid.uuid4()}
                s.execute(
                    text("INSERT INTO message_wa_ids (tenant_id, wa_msg_id, message_id, created_at) "
                         "VALUES (:t, :wa, :x, :at)"),
                    params,
                )  # fmt: skip
                claimed.set()
                threading.Event().wait(0.5)  # the merge starts meanwhile and waits on the claim
                s.execute(
                    text("INSERT INTO messages (id, tenant_id, from_number_id, to_number_id, direction, body, "
                         "status, meta, wa_msg_id, created_at) VALUES (:x, :t, :a, :b, 'out', 'echo', 'delivered', "
                         "'{}', :wa, :at)"),
                    params,
                )  # fmt: skip
                s.commit()
        except BaseException as exc:  # a deadlock would land here or in the send
            errors.append(exc)
            claimed.set()

    threads: list[threading.Thread] = []

    def in_flight(wa_msg_id: str) -> None:
        claimed = threading.Event()
        threads.append(threading.Thread(target=delivery, args=(wa_msg_id, claimed)))
        threads[0].start()
        claimed.wait(10)

    fake.after_send = in_flight
    outcome = sending.process(tenant, m)
    threads[0].join(10)
    assert errors == [] and outcome.state == send_outcomes.SENT
    with tenant_session(tenant) as s:
        rows = s.execute(
            text("SELECT id, status::text FROM messages WHERE wa_msg_id = :wa"), {"wa": outcome.wa_msg_id}
        ).all()
    assert [tuple(r) for r in rows] == [(m, "delivered")]
