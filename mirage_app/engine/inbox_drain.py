"""The drain jobs of the inbox (`workers.jobs.drain_inbox`): take received messages one by one and hand each to
the dispatcher (see `inbox` for how slots are armed and why a drain hands over after `DRAIN_MAX_S`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from rq import Queue

from mirage_app.core.redis import QUEUE_NAMES, get_redis
from mirage_app.engine import dispatch
from mirage_app.engine.inbox import ARMED_TTL_S, DRAIN_SLOTS, INBOX_KEY, InboxItem, armed_key, enqueue_drain
from mirage_app.engine.runtime import ON_MESSAGE_JOB, SEND_QUEUE, TICK_QUEUE, job_id, runtime

log = logging.getLogger("mirage.inbox")

PROCESSING_PREFIX = "mirage:inbox:processing:"
DRAIN_MAX_S = 5.0  # then hand over to a fresh job: other queued work gets its turn
BACKLOG_FOR_HELP = 3  # items waiting when a drain pops: ask another slot's drain to join in
PROCESSING_TTL_S = 86_400
_QUEUE_KEYS = [Queue.redis_queue_namespace_prefix + name for name in QUEUE_NAMES]  # what a `mirage worker` serves

# KEYS: inbox, processing list, own armed key, other armed keys..., then the RQ queues a lingering drain yields to.
# ARGV: item done (or ''), ttl, backlog for help, processing ttl, how many queue keys end KEYS (0: never linger).
# Returns {next item or false, slot index (into the other armed keys) newly armed or -1, 1 if still armed}. An empty
# inbox disarms the slot unless the drain may linger: queue keys given and none of them holding a job.
_NEXT = """
local queues = tonumber(ARGV[5])
local last_armed = #KEYS - queues
if ARGV[1] ~= '' then redis.call('LREM', KEYS[2], 1, ARGV[1]) end
local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not item then
  local linger = queues > 0
  for i = last_armed + 1, #KEYS do
    if redis.call('LLEN', KEYS[i]) > 0 then linger = false end
  end
  if linger then return {false, -1, 1} end
  redis.call('DEL', KEYS[3])
  return {false, -1, 0}
end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  for i = 4, last_armed do
    if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[2]) then return {item, i - 4, 1} end
  end
end
return {item, -1, 1}
"""


def handle(item: InboxItem) -> str:
    """The `on_message` decision for one item; an error hands it to a classic job (RQ retries it)."""
    try:
        return dispatch.on_message(item.tenant_id, item.message_id, from_contact=item.from_contact)
    except Exception:
        log.exception("on_message failed for %s; handed to a retried job", item.message_id)
        runtime().jobs().enqueue(
            ON_MESSAGE_JOB,
            str(item.tenant_id),
            str(item.message_id),
            item.from_contact,
            job_id=job_id("onmsg", item.message_id, "retry"),
            queue=SEND_QUEUE,
        )
        return "error"


@dataclass
class DrainReport:
    handled: int = 0
    recovered: int = 0
    helpers: int = 0
    handed_over: bool = False

    def as_dict(self) -> dict:
        return {"handled": self.handled, "recovered": self.recovered, "helpers": self.helpers,
                "handed_over": self.handed_over}  # fmt: skip


def drain(slot: int, drain_job_id: str, max_s: float = DRAIN_MAX_S, linger_s: float | None = None) -> DrainReport:
    """Work through the inbox as the drain of `slot` (the `drain_inbox` job).

    Found empty, the inbox is watched for `linger_s` more (the engine's `drain_linger_s` by default) with the slot
    still armed, so the messages of a steady trickle ride on this job instead of each asking for a new one; then
    a last pop disarms the slot in the same atomic step as ever."""
    linger = runtime().settings.drain_linger_s if linger_s is None else linger_s
    client = get_redis()
    report = DrainReport()
    processing = f"{PROCESSING_PREFIX}{drain_job_id}"
    # Left by an earlier run of this very job whose worker died mid-item: handle it first (on_message is idempotent).
    for raw in client.lrange(processing, 0, -1):
        handle(InboxItem.decode(raw))
        client.lrem(processing, 1, raw)
        report.recovered += 1
    others = [i for i in range(DRAIN_SLOTS) if i != slot]
    keys = [INBOX_KEY, processing, armed_key(slot), *(armed_key(i) for i in others)]
    next_item = client.register_script(_NEXT)
    started, done, lingering = time.monotonic(), "", linger > 0
    while True:
        # While it may linger, the pop names the worker's RQ queues: a job waiting there ends the lingering at once.
        yield_to = _QUEUE_KEYS if lingering else []
        raw, helper, armed = next_item(
            keys=[*keys, *yield_to], args=[done, ARMED_TTL_S, BACKLOG_FOR_HELP, PROCESSING_TTL_S, len(yield_to)]
        )
        done = ""
        if int(helper) >= 0:
            enqueue_drain(others[int(helper)])
            report.helpers += 1
        if not raw and int(armed):
            # Still armed: a push only appends, and the blocking move hands its item over (to the processing list).
            raw = client.blmove(INBOX_KEY, processing, linger, "LEFT", "RIGHT")
            if raw is None:
                lingering = False  # nothing came: the next pop disarms the slot (or finds a late item)
                continue
            client.expire(processing, PROCESSING_TTL_S)  # the move made the list anew, without its expiry
        if not raw:
            return report  # the slot was disarmed by that same pop
        lingering = linger > 0  # an item came: the next empty inbox is waited on again (max_s ends it below)
        handle(InboxItem.decode(raw))
        report.handled += 1
        done = raw
        if time.monotonic() - started >= max_s:
            # Still armed (the last pop found an item): a successor takes over the slot.
            client.lrem(processing, 1, done)
            enqueue_drain(slot, TICK_QUEUE)
            report.handed_over = True
            return report
