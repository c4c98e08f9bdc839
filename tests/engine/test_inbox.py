"""The engine's inbox (services.inbox) against a real Redis and real RQ queues: no message is ever left without a
drain coming for it, a drain that dies is resumed with its item, backlogs bring helpers, long drains hand over."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from rq import Queue

from mirage_app.core.redis import get_redis
from mirage_app.engine import dispatch, inbox, inbox_drain
from mirage_app.engine.runtime import SEND_QUEUE, TICK_QUEUE


@pytest.fixture
def redis(services):
    client = get_redis()
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def handled(monkeypatch) -> list[inbox.InboxItem]:
    """Items reach `handle` in order (the decision itself is the engine's, tested elsewhere)."""
    seen: list[inbox.InboxItem] = []
    monkeypatch.setattr(inbox_drain, "handle", seen.append)
    return seen


def _run(coroutine):
    """asyncio.run on a thread of its own: the browser tests' Playwright keeps a loop running on the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _item(from_contact: bool | None = False) -> inbox.InboxItem:
    return inbox.InboxItem(uuid.uuid4(), uuid.uuid4(), from_contact)


def _drain_jobs(redis, queue_name: str = SEND_QUEUE) -> list:
    queue = Queue(queue_name, connection=redis)
    return [job for job in queue.get_jobs() if job.func_name == inbox.DRAIN_JOB]


def test_items_round_trip_through_their_encoding():
    for flag in (True, False, None):
        item = _item(flag)
        assert inbox.InboxItem.decode(item.encode().encode()) == item


def test_the_first_push_arms_one_drain_and_later_pushes_ride_along(redis, handled):
    items = [_item() for _ in range(5)]
    for item in items:
        inbox.push([item])
    [job] = _drain_jobs(redis)
    assert job.args == (0,)
    report = inbox_drain.drain(0, job.id)
    assert handled == items  # in arrival order
    assert report.handled == 5
    assert not redis.exists(inbox.armed_key(0)), "the pop that found the inbox empty disarmed the slot"
    assert redis.llen(inbox.INBOX_KEY) == 0
    for key in redis.scan_iter(f"{inbox.ARMED_PREFIX}*"):  # the helpers it called in found nothing left either
        redis.delete(key)
    inbox.push([_item()])  # nobody is armed any more: a new drain is asked for
    assert len([j for j in _drain_jobs(redis) if j.args == (0,)]) == 2


def test_a_drain_killed_mid_item_is_resumed_with_that_item(redis, handled):
    first, second = _item(), _item(True)
    inbox.push([first, second])
    [job] = _drain_jobs(redis)
    # The dead run had moved `first` to its processing list (what _NEXT does) when its worker was killed.
    redis.lmove(inbox.INBOX_KEY, f"{inbox_drain.PROCESSING_PREFIX}{job.id}", "LEFT", "RIGHT")
    report = inbox_drain.drain(0, job.id)  # RQ retries the abandoned job under the same id
    assert handled == [first, second]
    assert report.recovered == 1 and report.handled == 1
    assert not redis.exists(f"{inbox_drain.PROCESSING_PREFIX}{job.id}")


def test_a_backlog_arms_another_slot(redis, handled):
    inbox.push([_item() for _ in range(inbox_drain.BACKLOG_FOR_HELP + 2)])
    [job] = _drain_jobs(redis)
    report = inbox_drain.drain(0, job.id)
    assert report.helpers >= 1
    helpers = [j for j in _drain_jobs(redis) if j.id != job.id]
    assert helpers and all(j.args[0] != 0 for j in helpers)
    assert len(handled) == inbox_drain.BACKLOG_FOR_HELP + 2


def test_a_long_drain_hands_its_slot_over(redis, handled):
    inbox.push([_item() for _ in range(3)])
    [job] = _drain_jobs(redis)
    report = inbox_drain.drain(0, job.id, max_s=0)
    assert report.handed_over and report.handled == 1
    assert redis.exists(inbox.armed_key(0)), "the successor inherits the armed slot"
    # The successor waits behind what is already queued on `default` (the ticks), not at the head of `high`.
    assert not [j for j in _drain_jobs(redis) if j.id != job.id and j.args == (0,)]
    successor = [j for j in _drain_jobs(redis, TICK_QUEUE) if j.args == (0,)]
    assert len(successor) == 1
    assert not redis.exists(f"{inbox_drain.PROCESSING_PREFIX}{job.id}")
    inbox_drain.drain(0, successor[0].id)
    assert len(handled) == 3


def test_a_failing_item_goes_to_a_retried_on_message_job(redis, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(dispatch, "on_message", boom)
    item = _item()
    assert inbox_drain.handle(item) == "error"
    queue = Queue(SEND_QUEUE, connection=redis)
    [job] = [j for j in queue.get_jobs() if j.func_name == "workers.jobs.on_message"]
    assert job.args == (str(item.tenant_id), str(item.message_id), item.from_contact)  # the kind is kept


def test_push_async_hands_over_in_one_call_on_the_event_loop(redis, handled):
    items = [_item(True), _item(False)]

    async def route() -> list[bool]:
        return [await inbox.push_async(i) for i in items]

    assert _run(route()) == [True, True]
    [job] = _drain_jobs(redis)
    inbox_drain.drain(0, job.id)
    assert handled == items


def test_push_async_never_raises_when_redis_is_gone(services, monkeypatch):
    from mirage_app.core.config import reset_settings_cache

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    reset_settings_cache()
    try:
        assert _run(inbox.push_async(_item())) is False
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def test_concurrent_pushes_are_coalesced_and_none_is_lost(redis, handled):
    items = [_item() for _ in range(50)]

    def script_calls() -> int:
        stats = redis.info("commandstats")
        return sum(stats.get(k, {}).get("calls", 0) for k in ("cmdstat_evalsha", "cmdstat_eval"))

    async def deliveries() -> list[bool]:
        return await asyncio.gather(*(inbox.push_async(i) for i in items))

    before = script_calls()
    assert all(_run(deliveries()))
    assert script_calls() - before < len(items)  # some went together
    [job] = _drain_jobs(redis)
    inbox_drain.drain(0, job.id)
    assert sorted(map(str, (i.message_id for i in handled))) == sorted(map(str, (i.message_id for i in items)))


def test_a_lingering_drain_takes_the_next_message_without_a_new_job(redis, handled):
    """In a `mirage worker` the drain that finds the inbox empty waits a moment with its slot still armed: a message
    pushed meanwhile rides on it (no new drain job), and once nothing more comes the slot is disarmed as ever."""
    first, second = _item(), _item()
    inbox.push([first])
    [job] = _drain_jobs(redis)
    Queue(SEND_QUEUE, connection=redis).remove(job)  # taken by a worker (a job waiting in a queue ends a linger)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(inbox_drain.drain, 0, job.id, linger_s=1.0)
        while not handled:  # the first item is handled; the drain now lingers on the empty inbox
            time.sleep(0.01)
        inbox.push([second])
        report = running.result(timeout=30)
    assert handled == [first, second] and report.handled == 2
    assert _drain_jobs(redis) == [], "the second message asked for no drain of its own"
    assert not redis.exists(inbox.armed_key(0)), "nothing more came: the slot is disarmed"
    assert not redis.exists(f"{inbox_drain.PROCESSING_PREFIX}{job.id}")


def test_a_drain_does_not_linger_while_other_jobs_wait(redis, handled):
    """A job waiting in one of the worker's queues (a send, a tick) ends the drain at the empty inbox at once."""
    inbox.push([_item()])
    [job] = _drain_jobs(redis)  # still queued: it stands for the other work waiting
    started = time.monotonic()
    report = inbox_drain.drain(0, job.id, linger_s=5.0)
    assert report.handled == 1 and time.monotonic() - started < 2.5
    assert not redis.exists(inbox.armed_key(0))
