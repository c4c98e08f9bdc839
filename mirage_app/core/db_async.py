"""Asynchronous, tenant-pinned database access for hot paths that fit in one round trip (webhook ingestion).

`tenant_fetch(tenant, sql, params)` sends, in one psycopg pipeline (one network round trip, one Sync):

    SELECT set_config('app.tenant_id', <tenant>, true); <sql>

On an autocommit connection, everything the extended-query protocol receives before a Sync runs in ONE implicit
transaction, committed at the Sync if all succeeded and rolled back otherwise (PostgreSQL docs, "Extended Query":
a Sync closes the current transaction when no BEGIN opened one). So row-level security applies exactly as with
`core.db.tenant_session`: the application role, the tenant pinned with is_local => true at the start of the
transaction and gone at its end. A statement that ran without the pin would see no rows and could write none (the
policies' WITH CHECK fails), so a mistake here fails loudly, it cannot leak. What this saves over a `Session`: the
thread-pool hop, SQLAlchemy's per-statement overhead, and the round trips of BEGIN / set_config / COMMIT and of the
pool's pre-ping. Nothing may fetch a result inside the pipeline: that would send a Sync and split the transaction.

Connections are plain autocommit `psycopg.AsyncConnection`s of the application role, pooled per event loop (an
ASGI worker has one loop for its lifetime; test clients may start one per request, and pools of loops that have
closed are discarded). Statements are prepared server-side by psycopg after a few executions.
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

SET_TENANT_SQL = "SELECT set_config('app.tenant_id', %s, true)"
# Connections per worker process (each ASGI worker has its own loop, hence its own pool): 4 x 5 Granian workers on
# 2 cores. More did not raise throughput in bench/webhooks.py, and each one is a PostgreSQL backend.
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

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True, row_factory=namedtuple_row)
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
    """Run one statement as the tenant, in its own transaction, in one round trip; return its rows.

    With `retry_broken`, a connection found broken (server restart, idle timeout) is replaced and the statement
    sent once more: only for statements that are idempotent, because the first attempt may have committed.
    """
    tenant = str(uuid.UUID(str(tenant_id)))
    for attempt in (1, 2):
        try:
            async with _pool().connection() as conn:
                async with conn.pipeline():  # one Sync at the end: one implicit transaction
                    await conn.execute(SET_TENANT_SQL, (tenant,))
                    cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        except psycopg.OperationalError:
            if attempt == 2 or not retry_broken:
                raise
    raise AssertionError("unreachable")
