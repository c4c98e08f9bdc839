"""Keeping `webhook_events`, `messages` and message bodies bounded (issue 17; the rules are in logic.retention).

The periodic job (`workers.jobs.apply_retention`, hourly):
1. makes sure the daily partitions of `webhook_events` and the monthly ones of `messages` exist for the coming
   days and months (definer functions: only the owner may run DDL), so the DEFAULT partitions stay empty;
2. drops the partitions every tenant's retention has passed (payload retention for events, body retention for
   messages): a cheap catalogue operation, however many rows;
3. per tenant, in its own row-level-security scope: deletes its webhook events older than its retention (only
   where a partition still holds other tenants' younger rows), prunes its de-duplication keys and the message keys
   of dropped months (`message_wa_ids`, `message_send_keys`), and blanks the bodies of its messages older than its
   body retention, from a watermark, in short batches.
Each step is bounded per run (`max_batches`); what is left is done by the next run.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import text

from mirage_app.core.clock import Clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine.runtime import runtime
from mirage_app.logic import retention

BATCH = 5000

ENSURE_PARTITIONS = text("SELECT mirage_webhook_partitions_ensure(:start, :days)")
DROP_PARTITIONS = text("SELECT * FROM mirage_webhook_partitions_drop(:now)")
ENSURE_MESSAGE_PARTITIONS = text("SELECT mirage_message_partitions_ensure(:start, :months)")
DROP_MESSAGE_PARTITIONS = text("SELECT * FROM mirage_message_partitions_drop(:now)")
# The keys of messages in months already dropped: before the first day of the month the horizon falls in (that
# month's partition is kept, so are its keys).
DELETE_MESSAGE_KEYS = {
    table: text(
        f"""
        DELETE FROM {table} WHERE (tenant_id, {key}) IN (
            SELECT tenant_id, {key} FROM {table}
            WHERE created_at < CAST(date_trunc('month', mirage_messages_horizon(:now)) AS date) LIMIT :batch)
        """
    )
    for table, key in (("message_wa_ids", "wa_msg_id"), ("message_send_keys", "send_key"))
}
SETTINGS = text("SELECT webhook_retention_days, body_retention_days, bodies_expired_before FROM settings_tenant")
DELETE_EVENTS = text(
    """
    DELETE FROM webhook_events WHERE (id, received_at) IN (
        SELECT id, received_at FROM webhook_events WHERE received_at < :before ORDER BY received_at LIMIT :batch)
    """
)
DELETE_KEYS = text(
    """
    DELETE FROM webhook_dedupe_keys WHERE (tenant_id, dedupe_key) IN (
        SELECT tenant_id, dedupe_key FROM webhook_dedupe_keys WHERE received_at < :before LIMIT :batch)
    """
)
# updated_at is left alone on purpose: expiring a body is not a change of the message's facts, and the rollups
# advance from it. A queued message keeps its text until it has gone out (or failed).
EXPIRE_BODIES = text(
    """
    WITH batch AS (
        SELECT id, created_at FROM messages
        WHERE created_at >= :since AND created_at < :before AND status <> 'queued' AND NOT (meta ? :mark)
        ORDER BY created_at LIMIT :batch
    ), blanked AS (
        UPDATE messages m SET body = '', meta = (m.meta - CAST(:keys AS text[])) || jsonb_build_object(:mark, true)
        FROM batch WHERE m.id = batch.id AND m.created_at = batch.created_at
        RETURNING m.id
    )
    SELECT (SELECT count(*) FROM blanked) AS blanked, (SELECT count(*) FROM batch) AS seen,
           (SELECT max(created_at) FROM batch) AS last_at,
           (SELECT min(created_at) FROM messages
            WHERE status = 'queued' AND created_at >= :since AND created_at < :before) AS first_queued
    """
)
SAVE_WATERMARK = text("UPDATE settings_tenant SET bodies_expired_before = :at")
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


@dataclass
class RetentionResult:
    partitions_made: int = 0
    partitions_dropped: list[str] = field(default_factory=list)
    events_deleted: int = 0
    keys_deleted: int = 0
    bodies_expired: int = 0
    message_partitions_made: int = 0
    message_partitions_dropped: list[str] = field(default_factory=list)
    message_keys_deleted: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _owner_call(statement, params: dict):
    """One of the partition functions (SECURITY DEFINER: only the owner may run DDL), committed; its result."""
    with system_session() as s:
        result = s.execute(statement, params).scalars().all()
        s.commit()
    return result


def ensure_partitions(now: datetime, days: int = retention.PARTITION_DAYS_AHEAD) -> int:
    """Create the missing daily partitions of `webhook_events` from today (UTC) on; how many were made."""
    return int(_owner_call(ENSURE_PARTITIONS, {"start": retention.partition_start(now), "days": days})[0] or 0)


def ensure_message_partitions(now: datetime, months: int = retention.MESSAGE_PARTITION_MONTHS_AHEAD) -> int:
    """Create the missing monthly partitions of `messages` from this month (UTC) on, and the months of rows the
    DEFAULT partition took; how many were made."""
    params = {"start": retention.partition_start(now), "months": months}
    return int(_owner_call(ENSURE_MESSAGE_PARTITIONS, params)[0] or 0)


def drop_expired_partitions(now: datetime) -> list[str]:
    """Drop the `webhook_events` partitions older than the longest retention of any tenant (decided in the
    database)."""
    return list(_owner_call(DROP_PARTITIONS, {"now": now}))


def drop_expired_message_partitions(now: datetime) -> list[str]:
    """Drop the months of `messages` before the longest body retention of any tenant (decided in the database)."""
    return list(_owner_call(DROP_MESSAGE_PARTITIONS, {"now": now}))


def _delete_batches(s, statement, params: dict, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        deleted = s.execute(statement, {**params, "batch": BATCH}).rowcount
        s.commit()
        total += deleted
        if deleted < BATCH:
            break
    return total


def _expire_bodies(s, now: datetime, days: int, watermark: datetime | None, max_batches: int) -> int:
    before = retention.cutoff(now, days)
    since = watermark or EPOCH
    total = 0
    for _ in range(max_batches):
        params = {"since": since, "before": before, "batch": BATCH, "mark": retention.EXPIRED_MARK,
                  "keys": list(retention.CONTENT_META_KEYS)}  # fmt: skip
        row = s.execute(EXPIRE_BODIES, params).one()
        total += row.blanked
        # A full batch stops at its last row; a partial one means everything before the cutoff is done, except a
        # message still queued: it keeps its text until it has gone out, so the mark waits for it.
        since = row.last_at if row.seen == BATCH else before
        if row.first_queued is not None:
            since = min(since, row.first_queued)
        s.execute(SAVE_WATERMARK, {"at": since})
        s.commit()
        if row.seen < BATCH:
            break
    return total


def expire_tenant(tenant_id: uuid.UUID, now: datetime, max_batches: int = 20) -> tuple[int, int, int, int]:
    """(webhook events deleted, dedupe keys pruned, bodies blanked, message keys pruned) for one tenant."""
    with tenant_session(tenant_id) as s:
        row = s.execute(SETTINGS).first()
        webhook_days = row.webhook_retention_days if row else retention.WEBHOOK_DAYS_DEFAULT
        body_days = row.body_retention_days if row else retention.BODY_DAYS_DEFAULT
        watermark = row.bodies_expired_before if row else None
        s.commit()
        events = _delete_batches(s, DELETE_EVENTS, {"before": retention.cutoff(now, webhook_days)}, max_batches)
        keys = _delete_batches(s, DELETE_KEYS, {"before": now - retention.DEDUPE_WINDOW}, max_batches)
        bodies = _expire_bodies(s, now, body_days, watermark, max_batches)
        message_keys = sum(
            _delete_batches(s, statement, {"now": now}, max_batches) for statement in DELETE_MESSAGE_KEYS.values()
        )
    return events, keys, bodies, message_keys


def apply_retention(clock: Clock | None = None, max_batches: int = 20) -> RetentionResult:
    """The whole periodic pass (see the module docstring)."""
    now = (clock or runtime().clock).now()
    result = RetentionResult(
        partitions_made=ensure_partitions(now),
        partitions_dropped=drop_expired_partitions(now),
        message_partitions_made=ensure_message_partitions(now),
        message_partitions_dropped=drop_expired_message_partitions(now),
    )
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    for tenant_id in tenants:
        events, keys, bodies, message_keys = expire_tenant(tenant_id, now, max_batches)
        result.events_deleted += events
        result.keys_deleted += keys
        result.bodies_expired += bodies
        result.message_keys_deleted += message_keys
    return result
