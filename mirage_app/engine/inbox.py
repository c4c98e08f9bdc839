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

This module is the hand-over side (the webhook route and the send pipeline push); the drain jobs are
`inbox_drain`, kept apart because they call the dispatcher, which reaches the send pipeline.

Nothing is lost if Redis loses the list: the message rows are in PostgreSQL; the conversation tick re-enqueues the
reply of a delivered turn left unanswered (`reply_recover_s`) and the outreach tick recovers inbound contact
messages whose follow-up never ran.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis import Redis

from mirage_app.core.config import get_settings
from mirage_app.core.redis import get_redis
from mirage_app.engine.runtime import DRAIN_JOB, SEND_QUEUE, job_id, runtime

log = logging.getLogger("mirage.inbox")

INBOX_KEY = "mirage:inbox"
ARMED_PREFIX = "mirage:inbox:armed:"
DRAIN_SLOTS = 4  # drains that may run at once (each holds a worker while the inbox is busy)
ARMED_TTL_S = 60  # a drain that died without RQ noticing blocks its slot at most this long

# KEYS: inbox, armed slot 0..n-1. ARGV: ttl, items... Returns the slot armed (a drain job must be enqueued), or -1.
_PUSH = """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return -1 end
end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return 0
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
