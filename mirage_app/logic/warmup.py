"""Warm-up ramp for a newly paired number (reference/peers-and-practices.md §5.2 and §7.1).

Start at `day1` sends/day, grow by `growth` per *active* day, never above `first_week_cap` during days 1–7;
from day 8 the ramp keeps growing from the first-week ceiling (not from the raw exponential, which would jump
straight to the maximum) up to `max_daily`. After `idle_reset_hours` without activity the number re-enters
warm-up at day 1; while health is not ok the stage is held at the previous day's cap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

FIRST_WEEK_DAYS = 7
MAX_RAMP_DAYS = 365  # bounds the ramp search for degenerate policies (e.g. day1 = 0)


@dataclass(frozen=True)
class WarmupPolicy:
    day1: int = 20
    growth: float = 1.5
    first_week_cap: int = 50
    max_daily: int = 200
    idle_reset_hours: float = 72.0
    settle_hours_after_pairing: float = 12.0
    settle_hours_after_repair: float = 6.0

    def __post_init__(self) -> None:
        if min(self.day1, self.first_week_cap, self.max_daily) < 0:
            raise ValueError("warm-up caps must be non-negative")
        if self.growth < 1.0:
            raise ValueError("growth must be >= 1 (the ramp never shrinks)")
        if min(self.idle_reset_hours, self.settle_hours_after_pairing, self.settle_hours_after_repair) < 0:
            raise ValueError("warm-up durations must be non-negative")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> WarmupPolicy:
        """Build from the tenant's `warmup` JSON; missing or null keys keep their defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(data or {}) - known
        if unknown:
            raise ValueError(f"unknown warm-up settings: {sorted(unknown)}")
        return cls(**{k: v for k, v in (data or {}).items() if v is not None})

    @classmethod
    def from_mapping_or_default(cls, data: Mapping[str, Any] | None) -> WarmupPolicy:
        """As `from_mapping`, but the defaults for a value that does not read: settings are validated on save, and a
        hand-edited bad value must not stop every send."""
        try:
            return cls.from_mapping(data)
        except (TypeError, ValueError):
            return cls()


DEFAULT_POLICY = WarmupPolicy()


def idle_reset(policy: WarmupPolicy, hours_idle: float) -> bool:
    """Has a spell of `hours_idle` without sending been long enough to start the warm-up again at day 1?"""
    return hours_idle >= policy.idle_reset_hours


def effective_day(policy: WarmupPolicy, active_days: int, hours_idle: float) -> int:
    """The warm-up day that applies now (1-based): day 1 again after a long idle spell.

    The caller should store this back as its active-day count, so a reset sticks once the number is active.
    """
    if idle_reset(policy, hours_idle):
        return 1
    return max(1, active_days)


def _grown(base: float, growth: float, steps: int) -> float:
    """base * growth**steps without float overflow for absurd settings."""
    if base == 0:
        return 0.0
    if steps * math.log(growth) > 700:
        return math.inf
    return base * growth**steps


def _ramp(policy: WarmupPolicy, day: int) -> int:
    raw = _grown(policy.day1, policy.growth, day - 1)
    if day <= FIRST_WEEK_DAYS:
        ceiling = float(policy.first_week_cap)
    else:
        ceiling = _grown(policy.first_week_cap, policy.growth, day - FIRST_WEEK_DAYS)
    return math.floor(min(raw, ceiling, policy.max_daily))


def warm_day(policy: WarmupPolicy = DEFAULT_POLICY) -> int:
    """First day at the final cap: max_daily, or the post-week-one plateau when the ramp cannot reach it."""
    day = 1
    while day < MAX_RAMP_DAYS and _ramp(policy, day) < policy.max_daily:
        if day > FIRST_WEEK_DAYS and _ramp(policy, day + 1) == _ramp(policy, day):
            break
        day += 1
    return day


def daily_cap(policy: WarmupPolicy, active_days: int, health_ok: bool = True) -> int:
    """Outbound messages allowed today for a number on its `active_days`-th active day (1 = first day; an idle
    spell's restart is already in it: day_today); `health_ok=False` holds yesterday's stage instead of growing.
    """
    day = max(1, active_days)
    if not health_ok:
        day = max(1, day - 1)
    return _ramp(policy, min(day, warm_day(policy)))


def day_today(
    policy: WarmupPolicy, active_days: int, sent_today: bool, last_before_today: datetime | None, now: datetime
) -> int:
    """The warm-up day a number is on now: the one rule behind the send caps, the round planner and the card.

    `active_days` counts the days it sent on in its current streak (today included once it sent today); a first
    send today opens the next day, unless the number was idle for `idle_reset_hours`, which starts again at day 1.
    """
    if sent_today:
        return max(1, active_days)
    if last_before_today is None:
        return 1
    return effective_day(policy, active_days + 1, (now - last_before_today).total_seconds() / 3600)


def streak_days(spans: Sequence[tuple[datetime, datetime]], policy: WarmupPolicy = DEFAULT_POLICY) -> int:
    """Active days in the current streak, from the real sends: `spans` holds each active (tenant-local) day's first
    and last send, oldest first. A gap of `idle_reset_hours` between two active days ends a streak, as it does
    for the caps; so a number with a week of history is on day 8, not day 1."""
    if not spans:
        return 0
    days = 1
    for earlier, later in zip(reversed(spans[:-1]), reversed(spans[1:]), strict=True):
        if idle_reset(policy, (later[0] - earlier[1]).total_seconds() / 3600):
            break
        days += 1
    return days


def warmed_up(day: int, policy: WarmupPolicy = DEFAULT_POLICY) -> bool:
    """Past the ramp: the number is at its final daily cap."""
    return day >= warm_day(policy)


def settle_ends_at(paired_at: datetime, policy: WarmupPolicy = DEFAULT_POLICY, repaired: bool = False) -> datetime:
    """When a freshly (re)paired number may send its first automated message."""
    hours = policy.settle_hours_after_repair if repaired else policy.settle_hours_after_pairing
    return paired_at + timedelta(hours=hours)


def settled(
    paired_at: datetime | None, now: datetime, policy: WarmupPolicy = DEFAULT_POLICY, repaired: bool = False
) -> bool:
    """Has the post-pairing settle time passed? An unpaired number (paired_at None) never is."""
    if paired_at is None:
        return False
    return now >= settle_ends_at(paired_at, policy, repaired)
