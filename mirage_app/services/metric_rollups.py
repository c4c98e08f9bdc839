"""Keeping `message_rollups` current (alembic 0019).

Every change to `messages` leaves its signed facts in `message_fact_changes` (database triggers, in the writer's
transaction). `advance` moves the oldest of them into the rollups: a step costs in proportion to the messages
changed since the last one, whatever the history. Readers add the changes still pending (services.metrics.FACTS),
so the figures never wait for a step; the periodic job (every 30 s, workers/scheduler.py) keeps that remainder small.

`rebuild` recomputes the rollups from `messages` (`mirage metrics rebuild`): a repair, and what follows a change of
the tenant's time zone (the rollups hold tenant-local hours). It gives the same rows as the incremental path.
"""

from __future__ import annotations

import uuid
from datetime import date

from psycopg.errors import SerializationFailure
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mirage_app.core.db import admin_engine, system_session

STEP_LIMIT = 50_000  # changes per step: one bounded transaction
MAX_STEPS = 20
REBUILD_ATTEMPTS = 3


def advance(limit: int = STEP_LIMIT) -> int:
    """One step: up to `limit` pending changes into the rollups. Returns how many were moved."""
    with system_session() as s:
        moved = s.execute(text("SELECT mirage_advance_metric_rollups(:limit)"), {"limit": limit}).scalar()
        s.commit()
    return int(moved or 0)


def advance_all(limit: int = STEP_LIMIT, max_steps: int = MAX_STEPS) -> int:
    """Steps until nothing is pending (or `max_steps` ran: a backlog is left for the next run)."""
    total = 0
    for _ in range(max_steps):
        moved = advance(limit)
        total += moved
        if moved < limit:
            break
    return total


def rebuild(tenant_id: uuid.UUID | None = None, since: date | None = None) -> int:
    """The rollups of one tenant (or all) from tenant-local day `since` on (or all days) recomputed from
    `messages`; days before `since` keep their rollups (their messages may be gone by retention). Returns the
    rollup rows written."""
    for _ in range(REBUILD_ATTEMPTS - 1):
        try:
            return _rebuild_once(tenant_id, since)
        except DBAPIError as exc:
            # A rollup step committed between our snapshot and our lock: start again from a fresh snapshot.
            if not isinstance(exc.orig, SerializationFailure):
                raise
    return _rebuild_once(tenant_id, since)


def _rebuild_once(tenant_id: uuid.UUID | None, since: date | None) -> int:
    # The owner's engine: the application role may not run a rebuild (alembic 0023), which rewrites every tenant's
    # rollups at once.
    with admin_engine().connect() as conn:
        # One snapshot: the pending changes it discards are exactly those already in the messages it reads.
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            written = conn.execute(
                text("SELECT mirage_rebuild_metric_rollups(:tenant, :since)"), {"tenant": tenant_id, "since": since}
            ).scalar()
    return int(written or 0)
