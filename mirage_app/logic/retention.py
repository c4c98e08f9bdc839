"""How long raw webhook payloads and message bodies are kept, and what expiring a body removes (no I/O).

Webhook payloads live in daily partitions (alembic 0020): a partition is dropped once every tenant's retention
has passed it; until then a tenant with a shorter retention has its own old rows deleted. Message bodies are
blanked in place: the row keeps its facts (who, when, direction, kind, status, ids, a voice note's length) for the
caps and the reputation. Messages live in monthly partitions (alembic 0027): a month is dropped whole once every
tenant's body retention has passed it (its rows are all blank by then); the rollups outlive it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# Reputation reads the last 7 days of CONNECTION_UPDATE payloads (engine.reputation.WINDOW): keep a day more.
WEBHOOK_DAYS_MIN = 8
# Bounds the number of daily partitions (and the catch-all of pre-partitioning rows ages out within it).
WEBHOOK_DAYS_MAX = 90
WEBHOOK_DAYS_DEFAULT = 30
# Conversations and outreach look back at recent text (replies, opt-outs, the LLM's context): a week at least.
BODY_DAYS_MIN = 7
BODY_DAYS_MAX = 3650
BODY_DAYS_DEFAULT = 365
# Evolution retries a delivery within minutes; a key older than this no longer needs to stop a duplicate (and a
# late one is harmless anyway: the message upsert is idempotent).
DEDUPE_WINDOW = timedelta(days=2)
# Partitions made ahead of time, so the DEFAULT partition stays empty even if the job stalls for days.
PARTITION_DAYS_AHEAD = 7
MESSAGE_PARTITION_MONTHS_AHEAD = 3
# meta keys that carry message content (quoted text, the text before an edit, a shared place or contact card, the
# sender's push name); the others are facts kept with the row.
CONTENT_META_KEYS = ("quoted", "edited", "pending_edit", "location", "contact_card", "push_name")
EXPIRED_MARK = "body_expired"


def cutoff(now: datetime, days: int) -> datetime:
    """Everything received / created before this instant is past a `days`-day retention: the start of a UTC day,
    the same bound the database drops whole partitions by (mirage_webhook_partitions_drop), so that rows a
    partition drop is about to remove are never deleted one by one first. Things are kept `days` to `days`+1."""
    day = (now.astimezone(UTC) - timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def partition_start(now: datetime) -> date:
    """The first day whose partition the job makes sure of: today in UTC (partitions are UTC days)."""
    return now.astimezone(UTC).date()
