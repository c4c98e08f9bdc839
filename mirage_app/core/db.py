"""Database access. Everything tenant-facing goes through `tenant_session`, which pins `app.tenant_id` on every
transaction so that row-level security filters each query, even one that forgets its WHERE clause."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import namedtuple_row
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, NoResultFound
from sqlmodel import Session

from mirage_app.core.config import get_settings

IDLE = pq.TransactionStatus.IDLE

# A pooled connection checked in longer ago than this is pinged before it is handed out again; one in steady use is
# not (the ping is a round trip, one per checkout, and the reply path checks out several times per reply).
PING_AFTER_IDLE_S = 5.0


class AppConnection(psycopg.Connection):
    """The application role's connection: prepared statements survive a ROLLBACK.

    psycopg forgets every prepared statement (and sends DEALLOCATE ALL) on each rollback, in case the transaction
    dropped or altered something a statement depends on. The application role owns nothing and runs no DDL, and
    most transactions here end in a rollback (every read, and SQLAlchemy's reset of each pooled connection), so
    with the stock behaviour no statement ever reached psycopg's prepare threshold: PostgreSQL parsed and planned
    every query on every call, which was the larger part of its CPU on the reply path (bench/pipeline.py).
    """

    def rollback(self) -> None:
        with self.lock:
            if self.pgconn.transaction_status == IDLE:
                return
            if self._pipeline is not None:  # not used by the application; keep psycopg's own path there
                self.wait(self._rollback_gen())
                return
            result = self.pgconn.exec_(b"ROLLBACK")
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.OperationalError(f"ROLLBACK failed: {self.pgconn.error_message.decode(errors='replace')}")


_BEGIN = b"BEGIN; "
# A transaction whose loss in a server crash the engine recovers from by itself (see `tenant_connection`).
_BEGIN_UNFLUSHED = b"BEGIN; SET LOCAL synchronous_commit = off; "


def begin_pinned(raw: psycopg.Connection, tenant: str, *, flush_commit: bool = True) -> None:
    """Open a transaction on `raw` pinned to `tenant` (a canonical UUID string) in one round trip.

    psycopg sends `BEGIN` on its own before a transaction's first statement, so a pin sent as a statement costs a
    second round trip; here both go as one simple query. The UUID is safe as a literal (it was parsed as one).
    """
    begin = _BEGIN if flush_commit else _BEGIN_UNFLUSHED
    with raw.lock:
        result = raw.pgconn.exec_(begin + b"SELECT set_config('app.tenant_id', '%s', true)" % tenant.encode())
    if result.status != pq.ExecStatus.TUPLES_OK:
        raise psycopg.errors.error_from_result(result, encoding="utf-8")


def _ping_connections_idle_a_while(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, only for a connection that sat in the pool for `PING_AFTER_IDLE_S` (a fresh one was
    just opened; one in steady use has just answered). A failed ping makes the pool replace the connection."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except psycopg.Error as exc:
            raise DisconnectionError("the pooled connection did not answer its ping") from exc


@lru_cache
def app_engine() -> Engine:
    """The application role's engine (no BYPASSRLS): used by pages, API routes and workers."""
    settings = get_settings()
    engine = create_engine(
        settings.resolved_app_database_url(),
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
    )
    _ping_connections_idle_a_while(engine)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams) -> psycopg.Connection:
        return AppConnection.connect(*cargs, **cparams)

    return engine


@lru_cache
def admin_engine() -> Engine:
    """The owner's engine: migrations, provisioning and the seed only."""
    return create_engine(get_settings().resolved_database_url(), pool_pre_ping=True, pool_size=2)


def reset_engines() -> None:
    for factory in (app_engine, admin_engine):
        if factory.cache_info().currsize:
            factory().dispose()
        factory.cache_clear()


@contextmanager
def tenant_session(tenant_id: uuid.UUID | str, *, engine: Engine | None = None) -> Iterator[Session]:
    """A session whose every transaction is scoped to one tenant.

    The tenant is set with `set_config(..., is_local => true)` at the start of each transaction, so it can
    never leak to the next user of the pooled connection.
    """
    tenant = str(uuid.UUID(str(tenant_id)))
    session = Session(engine or app_engine(), expire_on_commit=False)

    @event.listens_for(session, "after_begin")
    def _pin_tenant(_session, _transaction, connection) -> None:
        begin_pinned(connection.connection.dbapi_connection, tenant)  # a fresh checkout: no transaction open yet

    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_NAMED_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=2048)
def psycopg_sql(sql: str) -> str:
    """SQLAlchemy's `:name` parameters in psycopg's `%(name)s` form (a literal `%` doubled; `::` casts kept)."""
    return _NAMED_PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


class _Rows:
    """What the engine reads from a statement's result (SQLAlchemy's `Result` names); rows are named tuples."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor
        result = cursor.pgresult  # not `cursor.description`: that builds its column list anew on every access
        self._has_rows = result is not None and result.status == pq.ExecStatus.TUPLES_OK

    def first(self) -> Any:
        return self._cursor.fetchone() if self._has_rows else None

    def one(self) -> Any:
        row = self.first()
        if row is None:
            raise NoResultFound("No row was found when one was required")
        return row

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def all(self) -> list[Any]:
        return self._cursor.fetchall() if self._has_rows else []

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.all()]


class TenantConnection:
    """A pooled connection used straight through psycopg, every transaction pinned to one tenant exactly as
    `tenant_session` pins it (row-level security applies the same way).

    For the engine's hot path (a reply is some twenty statements): the part of `Session`'s API it uses —
    `execute(text(...) or str, params)` then `first() / one() / scalar() / all() / scalars()`, `commit()`,
    `rollback()` — at about a third of the Python cost per statement. Rows are named tuples. Errors are psycopg's
    own (`psycopg.IntegrityError`...), not SQLAlchemy's wrappers.
    """

    def __init__(self, raw: psycopg.Connection, tenant_id: uuid.UUID | str, flush_commit: bool = True) -> None:
        self._raw = raw
        self._tenant = str(uuid.UUID(str(tenant_id)))
        self._flush_commit = flush_commit

    def execute(self, statement: Any, params: Mapping[str, Any] | None = None) -> _Rows:
        if self._raw.pgconn.transaction_status == IDLE:  # the statement below would open the transaction: pin it
            begin_pinned(self._raw, self._tenant, flush_commit=self._flush_commit)
        cursor = self._raw.cursor(row_factory=namedtuple_row)
        cursor.execute(psycopg_sql(getattr(statement, "text", statement)), params)
        return _Rows(cursor)

    def commit(self) -> None:
        self._raw.commit()

    def rollback(self) -> None:
        self._raw.rollback()


@contextmanager
def tenant_connection(
    conn: Connection, tenant_id: uuid.UUID | str, *, flush_commit: bool = True
) -> Iterator[TenantConnection]:
    """A `TenantConnection` on an already checked-out SQLAlchemy connection (which must have no transaction open).
    Like a session, whatever was not committed is rolled back on the way out.

    `flush_commit=False` commits without waiting for the WAL flush (`synchronous_commit = off` for these
    transactions only): a server crash may then lose the last fraction of a second of them. Only for records the
    engine rebuilds by itself when they are lost, e.g. the result of a send already made (the send is found
    dispatched and unrecorded, and is reconciled from the webhook's proof, never sent again)."""
    pinned = TenantConnection(conn.connection.dbapi_connection, tenant_id, flush_commit)
    try:
        yield pinned
    except BaseException:
        with suppress(psycopg.Error):  # a broken connection must not hide the error that broke it
            pinned.rollback()
        raise
    pinned.rollback()


@contextmanager
def system_session(*, engine: Engine | None = None) -> Iterator[Session]:
    """A session with no tenant: it sees no tenant rows; it can only call the credential look-up functions."""
    session = Session(engine or app_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
