"""Pure send-cap decisions: quiet hours, daily cap, hourly burst cap and minimum gap.

Windows (chosen so the counting query and the decision agree; use the helpers below for both):
- hourly: a *rolling* 60-minute window ending at `now` ([now - 60 min, now)). A calendar hour would let a
  number send a full burst at 10:59 and another at 11:00.
- daily: the tenant-local *calendar day* ([local midnight, next local midnight)), 23 or 25 hours long on DST
  days, because operators think of "today's" quota in their own timezone.

The database stays the source of truth for the counts (see SPEC §7); this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mirage_app.logic.dayparts import DEFAULT_TZ, MIDNIGHT, QuietHours, at_local, to_local, zone

QUIET_HOURS = "quiet_hours"
DAILY_CAP = "daily_cap"
HOURLY_CAP = "hourly_cap"
MIN_GAP = "min_gap"

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class CapState:
    """What the caller counted for one sender.

    `oldest_in_hour_at` (optional) is the earliest send inside the rolling hour; with it an hourly block can
    say exactly when a slot frees up instead of assuming a full hour. Counts are weighted where the caller sums
    `messages.cap_weight` (logic.actions.CAP_WEIGHT: a reaction is a quarter of a text, a voice note one and a half).
    """

    sent_last_hour: float = 0
    sent_today: float = 0
    last_sent_at: datetime | None = None
    oldest_in_hour_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """Outcome of a gate (caps here, rounds elsewhere).

    When blocked, `retry_at` (UTC) is the earliest instant at which every current block has lifted and quiet
    hours are over; the caller re-checks then with fresh counts (a new block may have appeared).
    `reasons` lists every block, `reason` is the first of them.
    `retry_at` is None when waiting alone cannot help (e.g. a window's round quota is used up).
    """

    allowed: bool
    reason: str | None = None
    retry_at: datetime | None = None
    reasons: tuple[str, ...] = ()


ALLOW = Decision(True)


def rolling_hour_start(now: datetime) -> datetime:
    """Start of the rolling hour that `sent_last_hour` must count from (inclusive)."""
    return now.astimezone(UTC) - HOUR


def local_day_bounds(now: datetime, tz_name: str = DEFAULT_TZ) -> tuple[datetime, datetime]:
    """UTC [start, end) of the tenant-local calendar day holding `now`, for counting `sent_today`."""
    tz = zone(tz_name)
    today = to_local(now, tz_name).date()
    start = at_local(today, MIDNIGHT, tz)
    end = at_local(today + timedelta(days=1), MIDNIGHT, tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def tightest_limit(*limits: int | None) -> int | None:
    """The smallest configured limit (None means "no limit"), e.g. policy daily limit vs warm-up cap."""
    present = [limit for limit in limits if limit is not None]
    return min(present) if present else None


def check_send(
    now: datetime,
    state: CapState,
    hourly_limit: int | None,
    daily_limit: int | None,
    min_gap: timedelta = timedelta(0),
    quiet_hours: QuietHours | None = None,
    tz_name: str = DEFAULT_TZ,
    weight: float = 1.0,
) -> Decision:
    """May this sender send one more message at `now`? `weight`: what it counts for (logic.actions.CAP_WEIGHT);
    it goes only if the count stays within the limit with it.

    Limits of None mean unlimited; a limit of 0 blocks. `quiet_hours` None means no quiet hours (pass
    `QuietHours()` for the 22:00–08:00 default); they are read on the tenant's wall clock (`tz_name`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_utc = now.astimezone(UTC)
    blocks: list[tuple[str, datetime]] = []

    if quiet_hours is not None:
        local = to_local(now_utc, tz_name)
        if quiet_hours.contains(local.time()):
            blocks.append((QUIET_HOURS, quiet_hours.next_end(local).astimezone(UTC)))

    # A small tolerance: weights are quarters and halves, sums of floats must not block a send that fits exactly.
    if daily_limit is not None and state.sent_today + weight > daily_limit + 1e-9:
        blocks.append((DAILY_CAP, local_day_bounds(now_utc, tz_name)[1]))

    if hourly_limit is not None and state.sent_last_hour + weight > hourly_limit + 1e-9:
        frees_at = now_utc + HOUR
        if state.oldest_in_hour_at is not None and hourly_limit > 0:
            frees_at = max(now_utc, state.oldest_in_hour_at.astimezone(UTC) + HOUR)
        blocks.append((HOURLY_CAP, frees_at))

    if state.last_sent_at is not None and min_gap > timedelta(0):
        gap_ends = state.last_sent_at.astimezone(UTC) + min_gap
        if now_utc < gap_ends:
            blocks.append((MIN_GAP, gap_ends))

    if not blocks:
        return ALLOW
    retry_at = max(at for _, at in blocks)
    if quiet_hours is not None:  # e.g. a daily cap lifting at midnight must still wait for quiet hours to end
        retry_at = quiet_hours.next_end(to_local(retry_at, tz_name)).astimezone(UTC)
    return Decision(False, blocks[0][0], retry_at, tuple(reason for reason, _ in blocks))
