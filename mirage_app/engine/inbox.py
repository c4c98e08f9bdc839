"""Received messages waiting for the conversation engine: a Redis list worked through by a few long-running RQ jobs.

Every message one of our numbers receives needs an `on_message` decision (opt-out? outreach? the next turn of a
round?). One RQ job per message cost more than the decision itself: RQ 2.x spends about fifty Redis commands and
2–3 ms of worker CPU on each job's bookkeeping. So the webhook route appends the message to the inbox, and
`drain` jobs (ordinary RQ jobs on the `high` queue) take the messages one by one:

- `push` appends and, when no drain is armed, arms slot 0 and asks for a drain job — one atomic Lua call;
- "armed" means: a drain for that slot is queued or running and WILL look at the inbox again. The pop that finds
  the inbox empty disarms its slot in the same atomic step, so a message is never left with nobody coming;
- each item is moved to the drain job's own processing list while it is handled, so a drain whose worker dies is
  retried by RQ (abandoned job) starting with that item; a failing item is handed to a classic `on_message` job,
  which has RQ's retries;
- when a backlog builds up, the drain arms the next free slot, so another worker joins in (`DRAIN_SLOTS` at most);
- a drain hands over to a fresh job after `DRAIN_MAX_S`, queued on `default` (not `high`, where new drains go):
  workers take `high` first, so under a steady stream of messages a successor on `high` would come straight back
  and the ticks on `default` would never run; this way the sends and ticks already queued go first.

Nothing is lost if Redis loses the list: the message rows are in PostgreSQL; the conversation tick re-enqueues the
reply of a delivered turn left unanswered (`reply_recover_s`) and the outreach tick recovers inbound contact
messages whose follow-up never ran.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis import Redis

from mirage_app.core.config import get_settings
from mirage_app.core.redis import get_redis
from mirage_app.engine.runtime import SEND_QUEUE, TICK_QUEUE, job_id, runtime

log = logging.getLogger("mirage.inbox")

INBOX_KEY = "mirage:inbox"
ARMED_PREFIX = "mirage:inbox:armed:"
PROCESSING_PREFIX = "mirage:inbox:processing:"
DRAIN_JOB = "workers.jobs.drain_inbox"
DRAIN_SLOTS = 4  # drains that may run at once (each holds a worker while the inbox is busy)
DRAIN_MAX_S = 5.0  # then hand over to a fresh job: other queued work gets its turn
ARMED_TTL_S = 60  # a drain that died without RQ noticing blocks its slot at most this long
BACKLOG_FOR_HELP = 3  # items waiting when a drain pops: ask another slot's drain to join in
PROCESSING_TTL_S = 86_400

# KEYS: inbox, armed slot 0..n-1. ARGV: ttl, items... Returns the slot armed (a drain job must be enqueued), or -1.
_PUSH = """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return -1 end
end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return 0
"""

# KEYS: inbox, processing list, own armed key, other armed keys... ARGV: item done (or ''), ttl, backlog for help,
# processing ttl. Returns {next item or false, slot index (into the other armed keys) newly armed or -1}.
_NEXT = """
if ARGV[1] ~= '' then redis.call('LREM', KEYS[2], 1, ARGV[1]) end
local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not item then
  redis.call('DEL', KEYS[3])
  return {false, -1}
end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  for i = 4, #KEYS do
    if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[2]) then return {item, i - 4} end
  end
end
return {item, -1}
"""


@dataclass(frozen=True)
class InboxItem:
    tenant_id: uuid.UUID
    message_id: uuid.UUID
    from_contact: bool | None = None  # None: not known (on_message looks it up)

    def encode(self) -> str:
        flag = "?" if self.from_contact is None else "c" if self.from_contact else "n"
        return f"{self.tenant_id}:{self.message_id}:{flag}"

    @classmethod
    def decode(cls, raw: bytes | str) -> InboxItem:
        text = raw.decode() if isinstance(raw, bytes) else raw
        tenant, message, flag = text.split(":")
        return cls(uuid.UUID(tenant), uuid.UUID(message), None if flag == "?" else flag == "c")


def armed_key(slot: int) -> str:
    return f"{ARMED_PREFIX}{slot}"


def _push_keys() -> list[str]:
    return [INBOX_KEY, *(armed_key(i) for i in range(DRAIN_SLOTS))]


def enqueue_drain(slot: int, queue: str = SEND_QUEUE) -> None:
    runtime().jobs().enqueue(DRAIN_JOB, slot, job_id=job_id("drain", slot, uuid.uuid4().hex), queue=queue)


def push(items: list[InboxItem], redis: Redis | None = None) -> None:
    """Hand received messages to the engine (synchronous callers)."""
    if not items:
        return
    client = redis or get_redis()
    slot = client.register_script(_PUSH)(keys=_push_keys(), args=[ARMED_TTL_S, *(i.encode() for i in items)])
    if int(slot) >= 0:
        enqueue_drain(int(slot))


class _Batcher:
    """Pushes from one event loop, coalesced: while one push is on its way to Redis, the items that arrive wait and
    then go together in the next call (group commit; the first one never waits). Each caller resumes once its own
    item is in Redis."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.script = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3).register_script(_PUSH)
        self.waiting: list[tuple[InboxItem, asyncio.Future]] = []
        self.flushing = False
        self.flusher: asyncio.Future | None = None  # a reference keeps the running task from being collected

    async def push(self, item: InboxItem) -> None:
        done = asyncio.get_running_loop().create_future()
        self.waiting.append((item, done))
        if not self.flushing:
            self.flushing = True
            self.flusher = asyncio.ensure_future(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                try:
                    slot = int(
                        await self.script(keys=_push_keys(), args=[ARMED_TTL_S, *(i.encode() for i, _ in batch)])
                    )
                    if slot >= 0:
                        await asyncio.to_thread(enqueue_drain, slot)
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self.flushing = False


# One batcher (and asyncio Redis client) per event loop: an ASGI worker has one loop for its life; test clients may
# start several, and the entries of loops that are gone are dropped.
_batchers: dict[int, tuple[weakref.ref, _Batcher]] = {}


def _batcher() -> _Batcher:
    loop = asyncio.get_running_loop()
    url = get_settings().redis_url
    entry = _batchers.get(id(loop))
    if entry is not None and entry[0]() is loop and entry[1].url == url:
        return entry[1]
    for key, (ref, _) in list(_batchers.items()):
        gone = ref()
        if gone is None or gone.is_closed() or key == id(loop):
            del _batchers[key]
    batcher = _Batcher(url)
    _batchers[id(loop)] = (weakref.ref(loop), batcher)
    return batcher


async def push_async(item: InboxItem) -> bool:
    """The webhook route's hand-over: on the event loop, coalesced with concurrent deliveries (plus, rarely, a drain
    job enqueued in a thread).

    Never raises: if Redis is unavailable the message row is stored all the same and the ticks recover it.
    """
    try:
        await _batcher().push(item)
        return True
    except Exception:
        log.exception("could not hand message %s to the engine; the ticks will recover it", item.message_id)
        return False


def handle(item: InboxItem) -> str:
    """The `on_message` decision for one item; an error hands it to a classic job (RQ retries it)."""
    from mirage_app.engine import sending
    from mirage_app.services import outreach

    try:
        return outreach.on_message(item.tenant_id, item.message_id, from_contact=item.from_contact)
    except Exception:
        log.exception("on_message failed for %s; handed to a retried job", item.message_id)
        runtime().jobs().enqueue(
            sending.ON_MESSAGE_JOB,
            str(item.tenant_id),
            str(item.message_id),
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


def drain(slot: int, drain_job_id: str, max_s: float = DRAIN_MAX_S) -> DrainReport:
    """Work through the inbox as the drain of `slot` (the `drain_inbox` job)."""
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
    started, done = time.monotonic(), ""
    while True:
        raw, helper = next_item(keys=keys, args=[done, ARMED_TTL_S, BACKLOG_FOR_HELP, PROCESSING_TTL_S])
        if int(helper) >= 0:
            enqueue_drain(others[int(helper)])
            report.helpers += 1
        if not raw:
            return report  # the slot was disarmed by that same pop
        handle(InboxItem.decode(raw))
        report.handled += 1
        done = raw
        if time.monotonic() - started >= max_s:
            # Still armed (the last pop found an item): a successor takes over the slot.
            client.lrem(processing, 1, done)
            enqueue_drain(slot, TICK_QUEUE)
            report.handed_over = True
            return report
