"""A real `mirage worker` process is SIGKILLed in the middle of a send; the job is recovered and the message goes
out exactly once.

The kill happens after Evolution (the simulator) accepted the message but before the worker heard back, the worst
moment: the database still says "queued, dispatched". RQ's abandoned-job handling re-queues the job (its
StartedJobRegistry entry is expired, as it would be once the dead worker's heartbeat lapses), a new worker runs
it, and the send pipeline adopts the simulator's webhook as proof instead of sending again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from types import SimpleNamespace

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from mirage_app.core.clock import system_clock
from mirage_app.core.config import PROJECT_ROOT
from mirage_app.core.redis import get_redis
from mirage_app.engine import conversation_scheduler
from mirage_app.engine.runtime import SEND_QUEUE, TICK_QUEUE, runtime, use_runtime
from tests.engine import scenario
from tests.engine.conftest import park_all_conversations, wait_for

pytestmark = pytest.mark.usefixtures("text_only")  # the crash and recovery of a text turn
PHONES = ["5511930000001", "5511930000002"]


def _worker(log_path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mirage_app.cli", "worker", "--burst", *extra],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_a_worker_killed_mid_send_is_recovered_and_the_message_is_sent_once(simulator, admin_actor, tmp_path):
    redis = get_redis()
    redis.flushdb()
    park_all_conversations()
    tenant = admin_actor.tenant_id
    sc = scenario.build(admin_actor, SimpleNamespace(sim=simulator, clock=system_clock), PHONES, mode="pair",
                        max_rounds=1)  # fmt: skip
    sent_before = len(simulator.messages(from_me=True))
    # The real runtime (RQ in Redis, the system clock), minus the "not in a window's last minutes" rule: this test
    # runs at whatever time of day, and the scenario's windows end at 08:00, 16:00 and midnight.
    real = runtime()
    with use_runtime(real.with_changes(settings=replace(real.settings, min_window_left_s=0))):
        report = conversation_scheduler.tick()
    assert report.rounds_started == 1
    [rnd] = scenario.rounds(tenant, sc.conversation_id)
    queue = Queue(TICK_QUEUE, connection=redis)  # round starts wait behind due sends
    send_queue = Queue(SEND_QUEUE, connection=redis)
    job_id = f"start-{rnd.id}"
    assert job_id in queue.job_ids

    # Evolution accepts the message, then hangs: the worker is stuck waiting for the answer when it is killed.
    simulator.set_faults(timeout_rate=1.0, hang_s=20.0)
    log = tmp_path / "worker.log"
    first = _worker(log)
    try:
        assert wait_for(lambda: len(simulator.messages(from_me=True)) > sent_before, timeout=30), log.read_text()
        assert job_id in StartedJobRegistry(queue=queue).get_job_ids()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    simulator.set_faults(timeout_rate=0.0)
    [turn0] = [m for m in scenario.messages(tenant, sc.conversation_id) if m.meta.get("turn") == 0]
    assert turn0.status == "queued" and turn0.dispatched_at is not None and turn0.wa_msg_id is None

    # RQ notices the abandoned job (heartbeat expired) and schedules its retry.
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    assert job_id in ScheduledJobRegistry(queue=queue).get_job_ids()
    time.sleep(5.5)  # the retry interval; a burst worker moves due scheduled jobs to the queue when it starts

    for _ in range(10):  # each burst ends when its queues are empty; under load the next reply may come later
        second = _worker(log)
        assert second.wait(timeout=60) == 0, log.read_text()
        simulator.wait_idle(5)
        idle = not (queue.count or send_queue.count)
        if [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["done"] and idle:
            break
    assert [r.state for r in scenario.rounds(tenant, sc.conversation_id)] == ["done"], log.read_text()
    msgs = scenario.messages(tenant, sc.conversation_id)
    recovered = next(m for m in msgs if m.id == turn0.id)
    assert recovered.status in ("delivered", "read") and recovered.wa_msg_id and recovered.attempts == 1
    sends = Counter(m.text for m in simulator.messages(from_me=True)[sent_before:])
    assert sends == Counter(m.body for m in msgs), "a message was sent twice (or not at all)"
    assert all(n == 1 for n in sends.values())
    assert FailedJobRegistry(queue=queue).count == 0 and FailedJobRegistry(queue=send_queue).count == 0
