"""Database access. Everything tenant-facing goes through `tenant_session`, which pins `app.tenant_id` on every
transaction so that row-level security filters each query, even one that forgets its WHERE clause."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from psycopg import pq
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mirage_app.core.config import get_settings

SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant_id, true)")


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
            if self.pgconn.transaction_status == pq.TransactionStatus.IDLE:
                return
            if self._pipeline is not None:  # not used by the application; keep psycopg's own path there
                self.wait(self._rollback_gen())
                return
            result = self.pgconn.exec_(b"ROLLBACK")
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.OperationalError(f"ROLLBACK failed: {self.pgconn.error_message.decode(errors='replace')}")


@lru_cache
def app_engine() -> Engine:
    """The application role's engine (no BYPASSRLS): used by pages, API routes and workers."""
    settings = get_settings()
    engine = create_engine(
        settings.resolved_app_database_url(),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_recycle=1800,
    )

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
        connection.execute(SET_TENANT, {"tenant_id": tenant})

    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def system_session(*, engine: Engine | None = None) -> Iterator[Session]:
    """A session with no tenant: it sees no tenant rows; it can only call the credential look-up functions."""
    session = Session(engine or app_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def tenant_ids() -> list[uuid.UUID]:
    """Every tenant, for periodic jobs that then work tenant by tenant."""
    with system_session() as s:
        return [row[0] for row in s.execute(text("SELECT mirage_tenant_ids()"))]
