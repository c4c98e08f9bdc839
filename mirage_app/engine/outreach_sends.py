"""What counts as an outreach send, defined once.

The send guard and the outreach tick enforce a policy's caps with it, the policy pages show the same counts, the
tick waits while one is still queued and an opt-out cancels the queued ones: all of them build their SQL from
the fragments here, so they can never disagree about which messages are outreach volume.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from mirage_app.logic import waits
from mirage_app.logic.caps import CapState, check_send, local_day_bounds, rolling_hour_start
from mirage_app.models.messaging import counted_sends

OUTREACH = "outreach"  # meta.app_origin of every message outreach writes
OPTOUT_CONFIRMATION = "optout_confirmation"  # meta.kind of the one reply to an opt-out: not outreach volume

# Our outreach messages (openers, follow-ups, closings), not the opt-out confirmation. The app_origin test is
# spelled as the predicate of the partial index `ix_messages_outreach_number`, so the planner can use it.
IS_OUTREACH_SEND = (
    "direction = 'out' AND (meta->>'app_origin') = 'outreach' "
    f"AND COALESCE(meta->>'kind', '') <> '{OPTOUT_CONFIRMATION}'"
)

# Of those, the ones that use up the caps since :since, by the send pipeline's rule: a claimed slot (sent_at)
# counts until the send is known to have failed; an ambiguous failure ("unknown_delivery") keeps counting, as it
# may have gone out. No upper bound on sent_at: a claim stamped by a worker whose clock runs slightly ahead still
# counts (and pushes the gap out).
COUNTS_TOWARDS_CAPS = f"{IS_OUTREACH_SEND} AND sent_at >= :since AND {counted_sends('messages')}"

NUMBER_COUNTS = text(
    f"""
    SELECT count(*) FILTER (WHERE sent_at >= :hour_start) AS last_hour,
           min(sent_at) FILTER (WHERE sent_at >= :hour_start) AS oldest_in_hour,
           count(*) FILTER (WHERE sent_at >= :day_start) AS today,
           max(sent_at) AS last_sent
    FROM messages
    WHERE from_number_id = :n AND {COUNTS_TOWARDS_CAPS} AND id <> :self
    """
)

NUMBERS_COUNTS = text(
    f"""
    SELECT from_number_id AS number_id,
           count(*) FILTER (WHERE sent_at >= :day_start) AS today,
           count(*) FILTER (WHERE sent_at >= :hour_start) AS last_hour
    FROM messages
    WHERE from_number_id = ANY(:ids) AND {COUNTS_TOWARDS_CAPS}
    GROUP BY from_number_id
    """
)

QUEUED_FROM_NUMBER = text(
    f"SELECT EXISTS (SELECT 1 FROM messages WHERE from_number_id = :n AND status = 'queued' AND {IS_OUTREACH_SEND})"
)


def is_optout_confirmation(meta: dict[str, Any]) -> bool:
    return (
        meta.get("app_origin") == OUTREACH
        and meta.get("kind") == OPTOUT_CONFIRMATION
        and str(meta.get("send_key") or "").startswith("optout:")
    )


@dataclass(frozen=True, slots=True)
class PolicyCaps:
    """A policy's limits on its number's outreach volume."""

    daily_limit: int
    hourly_limit: int
    min_gap_minutes: int

    @classmethod
    def of(cls, row: Any) -> PolicyCaps:
        return cls(int(row.daily_limit), int(row.hourly_limit), int(row.min_gap_minutes or 0))


@dataclass(frozen=True, slots=True)
class SentCounts:
    today: int
    last_hour: int


def sent_state(
    s, number_id: uuid.UUID, caps: PolicyCaps, now: datetime, tz: str, *, exclude: uuid.UUID | None = None
) -> CapState:
    """Outreach sends of `number_id` that count for `caps` at `now` (`exclude`: the message being claimed)."""
    hour_start = rolling_hour_start(now)
    day_start, _ = local_day_bounds(now, tz)
    since = min(hour_start, day_start, now - timedelta(minutes=caps.min_gap_minutes))
    row = s.execute(
        NUMBER_COUNTS,
        {
            "n": number_id,
            "hour_start": hour_start,
            "day_start": day_start,
            "since": since,
            "self": exclude or uuid.UUID(int=0),
        },
    ).one()
    return CapState(
        sent_last_hour=row.last_hour,
        sent_today=row.today,
        last_sent_at=row.last_sent,
        oldest_in_hour_at=row.oldest_in_hour,
    )


def cap_wait(
    s, number_id: uuid.UUID, caps: PolicyCaps, now: datetime, tz: str, *, exclude: uuid.UUID | None = None
) -> waits.Wait | None:
    """Why `number_id` may not send one more outreach message under `caps` at `now` (which cap, its use, until
    when), None when it may. The tick and the send guard both ask this, so a cap has one code."""
    state = sent_state(s, number_id, caps, now, tz, exclude=exclude)
    decision = check_send(
        now, state, hourly_limit=caps.hourly_limit, daily_limit=caps.daily_limit,
        min_gap=timedelta(minutes=caps.min_gap_minutes), quiet_hours=None, tz_name=tz,
    )  # fmt: skip
    if decision.allowed:
        return None
    return waits.cap_wait(decision, state, caps.hourly_limit, caps.daily_limit, codes=waits.OUTREACH_CODES)


def sent_counts(s, number_ids: list[uuid.UUID], now: datetime, tz: str) -> dict[uuid.UUID, SentCounts]:
    """Outreach sends per number today (tenant-local day) and in the rolling hour, for the policy pages."""
    day_start, _ = local_day_bounds(now, tz)
    hour_start = rolling_hour_start(now)
    rows = s.execute(
        NUMBERS_COUNTS,
        {"ids": number_ids, "day_start": day_start, "hour_start": hour_start, "since": min(day_start, hour_start)},
    )
    return {r.number_id: SentCounts(int(r.today), int(r.last_hour)) for r in rows}
