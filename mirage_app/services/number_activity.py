"""A number's warm-up day from its real sends. The send pipeline keeps `numbers.active_days` as it sends; history
written another way (the demo data) would leave it behind, so a number with a week of history read "day 1 of
warm-up": whatever writes history behind the pipeline's back calls `sync_active_days` after it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text

from mirage_app.logic import warmup

LOOKBACK = timedelta(days=60)  # far past any ramp: a longer streak reads "warm" either way

_ACTIVE_DAYS = text(
    """
    SELECT m.from_number_id AS number_id, min(m.sent_at) AS first_at, max(m.sent_at) AS last_at
    FROM messages m JOIN numbers n ON n.id = m.from_number_id
    WHERE n.archived_at IS NULL AND m.direction = 'out' AND m.status <> 'failed'
      AND m.sent_at >= :since AND m.sent_at <= :now
    GROUP BY m.from_number_id, CAST(m.sent_at AT TIME ZONE :tz AS date)
    ORDER BY m.from_number_id, first_at
    """
)


def sync_active_days(s, tz_name: str, now: datetime, policy: warmup.WarmupPolicy) -> dict[uuid.UUID, int]:
    """Store each number's active days in its current streak (tenant-local days it sent on); returns them."""
    spans: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for r in s.execute(_ACTIVE_DAYS, {"since": now - LOOKBACK, "now": now, "tz": tz_name}):
        spans.setdefault(r.number_id, []).append((r.first_at, r.last_at))
    days = {number_id: warmup.streak_days(days, policy) for number_id, days in spans.items()}
    for number_id, n in days.items():
        s.execute(
            text("UPDATE numbers SET active_days = :d WHERE id = :n AND active_days <> :d"), {"d": n, "n": number_id}
        )
    return days


def policy_of(s) -> warmup.WarmupPolicy:
    """The tenant's warm-up settings, as the engine reads them (defaults when unset or unreadable)."""
    return warmup.WarmupPolicy.from_mapping_or_default(
        s.execute(text("SELECT warmup FROM settings_tenant LIMIT 1")).scalar()
    )
