"""Asynchronous, tenant-pinned database access for hot paths that fit in one statement (webhook ingestion).

`tenant_fetch(tenant, sql, params)` runs one statement on an autocommit connection of the application role whose
session is pinned to the tenant (`set_config('app.tenant_id', <tenant>, false)`), so row-level security applies
exactly as with `core.db.tenant_session`: the policies read the same setting, a statement without it sees no rows
and can write none (WITH CHECK fails). The pin is set once per connection and tenant: each connection remembers the
tenant its session is pinned to, and `tenant_fetch` re-pins it whenever it is about to run a statement for another
tenant, before that statement; nothing else ever uses these connections. Most deliveries therefore cost a single
round trip of a prepared statement: no BEGIN / set_config / COMMIT, no pipeline (which cost a third more client CPU
per delivery, bench/webhooks/), no thread-pool hop, no SQLAlchemy overhead, no pre-ping.

Connections are plain autocommit `psycopg.AsyncConnection`s, pooled per event loop (an ASGI worker has one loop for
its lifetime; test clients may start one per request, and pools of loops that have closed are discarded). A
connection left in any state but idle is closed, never reused. Statements are prepared server-side by psycopg
after a few executions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import namedtuple_row
from sqlalchemy.engine import make_url

from mirage_app.core.config import Settings, get_settings

PIN_SESSION_SQL = "SELECT set_config('app.tenant_id', %s, false)"
# These connections run a handful of fixed statements thousands of times: one generic plan each, made once per
# connection. Left to choose, PostgreSQL keeps planning the ingest statement anew for every delivery (its generic
# plan over the partitioned `messages` and `webhook_events` looks dearer than it is): ~0.15 ms per delivery
# (bench/webhooks/).
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"
# Connections per worker process (each ASGI worker has its own loop, hence its own pool): 4 x 5 Granian workers on
# 2 cores. More did not raise throughput in bench/webhooks/, and each one is a PostgreSQL backend.
DEFAULT_POOL_SIZE = 4


def _pool_size() -> int:
    try:
        return max(1, int(os.environ.get("MIRAGE_ASYNC_DB_POOL", DEFAULT_POOL_SIZE)))
    except ValueError:
        return DEFAULT_POOL_SIZE


def _libpq_dsn(settings: Settings) -> str:
    url = make_url(settings.resolved_app_database_url()).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class _LoopPool:
    """At most `size` connections, used by one event loop. Broken connections are dropped, not returned."""

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.dsn = _libpq_dsn(settings)
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection] = []
        self._all: weakref.WeakSet[psycopg.AsyncConnection] = weakref.WeakSet()
        # The tenant each connection's session is pinned to (set only after its set_config succeeded).
        self.pinned: weakref.WeakKeyDictionary[psycopg.AsyncConnection, str] = weakref.WeakKeyDictionary()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True, row_factory=namedtuple_row, options=GENERIC_PLANS
                )
                self._all.add(conn)
            try:
                yield conn
            finally:
                # A statement that failed leaves the connection idle again (its implicit transaction rolled back);
                # a broken or busy one is dropped.
                if not conn.closed and conn.info.transaction_status == pq.TransactionStatus.IDLE:
                    self._idle.append(conn)
                else:
                    await _close(conn)

    def discard(self) -> None:
        """Close every connection without the loop (it is closed or gone): only the sockets are released."""
        for conn in list(self._all):
            with contextlib.suppress(Exception):
                conn.pgconn.finish()
        self._idle.clear()


async def _close(conn: psycopg.AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await conn.close()


_pools: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], _LoopPool]] = {}


def _pool() -> _LoopPool:
    loop = asyncio.get_running_loop()
    settings = get_settings()
    entry = _pools.get(id(loop))
    if entry is not None and entry[0]() is loop and entry[1].settings is settings:
        return entry[1]
    # A new loop, or new settings (tests reset them): forget pools whose loop has closed or was collected.
    for key, (ref, pool) in list(_pools.items()):
        other = ref()
        if other is None or other.is_closed() or key == id(loop):
            pool.discard()
            del _pools[key]
    pool = _LoopPool(settings, _pool_size())
    _pools[id(loop)] = (weakref.ref(loop), pool)
    return pool


async def tenant_fetch(
    tenant_id: uuid.UUID | str, sql: str, params: Mapping[str, Any], *, retry_broken: bool = False
) -> list[Any]:
    """Run one statement as the tenant (its own implicit transaction) and return its rows.

    With `retry_broken`, a connection found broken (server restart, idle timeout) is replaced and the statement
    sent once more: only for statements that are idempotent, because the first attempt may have committed.
    """
    tenant = str(uuid.UUID(str(tenant_id)))
    for attempt in (1, 2):
        try:
            pool = _pool()
            async with pool.connection() as conn:
                if pool.pinned.get(conn) != tenant:
                    await conn.execute(PIN_SESSION_SQL, (tenant,))
                    pool.pinned[conn] = tenant
                cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        except psycopg.OperationalError:
            if attempt == 2 or not retry_broken:
                raise
    raise AssertionError("unreachable")
