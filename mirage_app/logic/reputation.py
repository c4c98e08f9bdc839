"""A number's reputation: one 0–100 score from what WhatsApp and people did with its messages, the band that score
puts it in, and the send limits and actions each band allows. No I/O: the engine counts, this module decides.

Score (points, summing to 100 for a perfect mature number):

| signal | points | why |
|---|---|---|
| delivery rate | 25 | undelivered messages are the first thing WhatsApp's spam filters act on |
| read rate | 15 | messages read by a person, not only delivered to a phone |
| reciprocity (reply ratio) | 20 | a number that gets answers is a person talking, not a sender broadcasting |
| age | 30 | linear up to `MATURE_DAYS` (14, when the phase rules allow groups): young numbers are watched closely |
| recent activity | 10 | days with sends in the last week: steady use beats bursts after silence |

Rates are smoothed towards a prior (`PRIOR_WEIGHT` messages' worth of an ordinary number's rate), so three
messages never swing a score from 0 to 100. Then penalties are taken off:

| signal | points off each | at most | why |
|---|---|---|---|
| failed send | 2 | 20 | Evolution or WhatsApp refusing our messages |
| disconnect | 5 | 50 (with ban-like) | a session that keeps dropping |
| ban-like disconnect (402/403/406) | 20 | 50 (with the above) | WhatsApp closed the session on purpose |
| restriction signal | 30 | 60 | WhatsApp told us it limits the number |

The score is clamped to 0..100, so it rises with every good signal and falls with every bad one (weakly).

Bands: `cold` below 45, `warming` 45..75, `healthy` from 75, crossed only `HYSTERESIS` points past a threshold so a
number at an edge does not flip at every recompute. A drop of more than `DROP_POINTS` since the last score, or any
ban-like signal, puts it in `cooling_down` at once for `COOLDOWN` (`BAN_COOLDOWN` when ban-like): nothing is sent,
and when the time is up it comes back at most `warming`.

Each band SETS the number's limits (the send pipeline takes the tighter of these and the configured caps):

| band | per hour | per day | actions beyond text |
|---|---|---|---|
| cooling_down | 0 | 0 | none: every send waits for the cooldown's end |
| cold | 5 | 20 | reactions, quotes, typo fixes |
| warming | 20 | 100 | + stickers, pictures, voice notes, locations, contact cards, groups, status posts |
| healthy | 60 | 300 | the same, at the higher caps |

Groups and status posts stay with `warming`: they reach only the tenant's own numbers, and the warm-up phase rules
already keep them for mature numbers (day 14 and 12 by default); a number doing well should not wait for the score's
age points on top.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mirage_app.logic import actions
from mirage_app.logic.caps import DAILY_CAP, HOURLY_CAP
from mirage_app.logic.waits import REPUTATION_CAPS, WARMUP_CODES

COLD, WARMING, HEALTHY, COOLING_DOWN = "cold", "warming", "healthy", "cooling_down"
BANDS: tuple[str, ...] = (COOLING_DOWN, COLD, WARMING, HEALTHY)  # worst first
_THRESHOLDS = ((HEALTHY, 75.0), (WARMING, 45.0))  # the lowest score of each band above cold
HYSTERESIS = 4.0
DROP_POINTS = 15.0
COOLDOWN = timedelta(hours=6)
RECHECK = timedelta(minutes=1)  # a cooldown that has ended but not been recomputed yet
BAN_COOLDOWN = timedelta(hours=24)

WEIGHTS = {"delivery": 25.0, "read": 15.0, "reciprocity": 20.0, "age": 30.0, "activity": 10.0}
MATURE_DAYS = actions.DEFAULT_MIN_DAY[actions.GROUP]  # the phase rules call a number mature then (groups)
WEEK_DAYS = 7
PRIOR_WEIGHT = 10.0
PRIORS = {"delivery": 0.9, "read": 0.6, "reciprocity": 0.5}
FAILURE_POINTS, FAILURE_MAX = 2.0, 20.0
DISCONNECT_POINTS, BAN_POINTS, DISCONNECT_MAX = 5.0, 20.0, 50.0
RESTRICTION_POINTS, RESTRICTION_MAX = 30.0, 60.0


@dataclass(frozen=True)
class Limits:
    """What a band allows: messages per rolling hour and per tenant-local day, and the actions beyond text."""

    per_hour: int
    per_day: int
    actions: frozenset[str]

    def allows(self, action: str) -> bool:
        return action in self.actions


_BASIC = frozenset({actions.TEXT, actions.REACTION, actions.QUOTE, actions.TYPO_EDIT})
LIMITS: dict[str, Limits] = {
    COOLING_DOWN: Limits(0, 0, frozenset()),
    COLD: Limits(5, 20, _BASIC),
    WARMING: Limits(20, 100, frozenset(actions.ACTIONS)),
    HEALTHY: Limits(60, 300, frozenset(actions.ACTIONS)),
}


def band_allows(band: str | None, action: str) -> bool:
    """Whether a number in `band` may take `action` (one never computed has no band: its phase rules decide)."""
    limits = LIMITS.get(band or "")
    return limits is None or limits.allows(action)


def may_take(action: str, rules: actions.ActionRules, warm_day: int, band: str | None) -> bool:
    """The one gate for an action a number starts on its own (a group round, a status post, a picture): its warm-up
    phase rules by its day and its reputation band must both allow it. A turn's plan gets the same two gates from
    `actions.plan_turn` and `restrict`."""
    return rules.allows(action, warm_day) and band_allows(band, action)


@dataclass(frozen=True)
class Signals:
    """What one number did recently (the engine counts them over the last `WEEK_DAYS` days)."""

    sent: int = 0
    delivered: int = 0  # of `sent`, delivered or read
    read: int = 0  # of `sent`, read
    answered: int = 0  # of `sent`, followed by an answer from its peer
    failures: int = 0
    disconnects: int = 0  # ordinary closes (not ban-like, not the operator's)
    ban_disconnects: int = 0
    restrictions: int = 0
    age_days: int = 0
    active_days: int = 0  # days of the last week with a send


def _smoothed(hits: int, total: int, prior: float) -> float:
    total = max(total, 0)
    hits = min(max(hits, 0), total)
    return (hits + prior * PRIOR_WEIGHT) / (total + PRIOR_WEIGHT)


def _penalty(most: float, points: float) -> float:
    return -min(most, points) or 0.0  # no "-0.0" on screen


def contributions(sig: Signals) -> dict[str, float]:
    """Signed points each signal adds to the score (penalties negative); their sum is the raw score."""
    return {
        "delivery": WEIGHTS["delivery"] * _smoothed(sig.delivered, sig.sent, PRIORS["delivery"]),
        "read": WEIGHTS["read"] * _smoothed(sig.read, sig.sent, PRIORS["read"]),
        "reciprocity": WEIGHTS["reciprocity"] * _smoothed(sig.answered, sig.sent, PRIORS["reciprocity"]),
        "age": WEIGHTS["age"] * min(max(sig.age_days, 0), MATURE_DAYS) / MATURE_DAYS,
        "activity": WEIGHTS["activity"] * min(max(sig.active_days, 0), WEEK_DAYS) / WEEK_DAYS,
        "failures": _penalty(FAILURE_MAX, FAILURE_POINTS * max(sig.failures, 0)),
        "disconnects": _penalty(
            DISCONNECT_MAX, DISCONNECT_POINTS * max(sig.disconnects, 0) + BAN_POINTS * max(sig.ban_disconnects, 0)
        ),
        "restrictions": _penalty(RESTRICTION_MAX, RESTRICTION_POINTS * max(sig.restrictions, 0)),
    }


def score(sig: Signals) -> float:
    """The 0..100 score, rounded to one decimal."""
    raw = sum(contributions(sig).values())
    return round(min(100.0, max(0.0, raw)), 1)


NEUTRAL = contributions(Signals())  # a brand-new number: what "moved it" is measured from when there is no history


def moved_most(now: dict[str, float], top: int = 3) -> list[dict]:
    """The `top` signals whose points moved the score most away from a brand-new number's, biggest first, as
    `{"signal", "points"}` with the signed difference in points."""
    deltas = [(name, round(points - NEUTRAL.get(name, 0.0), 1)) for name, points in now.items()]
    deltas = [d for d in deltas if d[1] != 0]
    deltas.sort(key=lambda d: (-abs(d[1]), d[0]))
    return [{"signal": name, "points": points} for name, points in deltas[:top]]


def band_for(value: float, previous: str | None = None) -> str:
    """The band of `value`; with the `previous` band, a threshold counts only once crossed by HYSTERESIS points."""
    raw = _raw_band(value)
    if previous not in (COLD, WARMING, HEALTHY) or raw == previous:
        return raw
    rank = BANDS.index
    if rank(raw) > rank(previous):  # up: must clear the next threshold by the margin
        return _raw_band(value - HYSTERESIS) if rank(_raw_band(value - HYSTERESIS)) > rank(previous) else previous
    return _raw_band(value + HYSTERESIS) if rank(_raw_band(value + HYSTERESIS)) < rank(previous) else previous


def _raw_band(value: float) -> str:
    for band, lowest in _THRESHOLDS:
        if value >= lowest:
            return band
    return COLD


@dataclass(frozen=True)
class Standing:
    """A number's current reputation: its score, band and, while cooling down, until when."""

    score: float
    band: str
    cooldown_until: datetime | None = None


def next_standing(previous: Standing | None, sig: Signals, now: datetime, new_ban_signal: bool = False) -> Standing:
    """The standing after a recompute at `now`. `new_ban_signal`: a ban-like close or a restriction arrived since
    the last recompute (a ban-like signal still in the week's window does not restart the cooldown each time)."""
    value = score(sig)
    dropped = previous is not None and previous.score - value > DROP_POINTS
    if new_ban_signal or dropped:
        until = now + (BAN_COOLDOWN if new_ban_signal else COOLDOWN)
        if previous is not None and previous.cooldown_until is not None:
            until = max(until, previous.cooldown_until)
        return Standing(value, COOLING_DOWN, until)
    if previous is not None and previous.cooldown_until is not None and now < previous.cooldown_until:
        return Standing(value, COOLING_DOWN, previous.cooldown_until)
    if previous is None:
        return Standing(value, _raw_band(value))
    if previous.band == COOLING_DOWN:  # the cooldown is over: back carefully, at most warming
        band = _raw_band(value)
        return Standing(value, WARMING if band == HEALTHY else band)
    return Standing(value, band_for(value, previous.band))


def held_until(band: str | None, cooldown_until: datetime | None, now: datetime) -> datetime | None:
    """Until when a number's sends wait for its cooldown; None when it may send."""
    if band != COOLING_DOWN:
        return None
    if cooldown_until is not None and cooldown_until > now:
        return cooldown_until
    return now + RECHECK


def band_caps(band: str | None, hourly: int | None, daily: int | None) -> tuple[int | None, int | None, dict]:
    """The effective hourly and daily limits: the tighter of the configured ones (None: no limit) and the band's
    (a number never computed has none yet), with the wait codes (logic.waits) that say whose cap binds."""
    codes = dict(WARMUP_CODES)
    limits = LIMITS.get(band or "")
    if limits is None:
        return hourly, daily, codes
    if hourly is None or limits.per_hour < hourly:
        hourly, codes[HOURLY_CAP] = limits.per_hour, REPUTATION_CAPS[HOURLY_CAP]
    if daily is None or limits.per_day < daily:
        daily, codes[DAILY_CAP] = limits.per_day, REPUTATION_CAPS[DAILY_CAP]
    return hourly, daily, codes


def restrict(plan: actions.TurnPlan, band: str | None) -> actions.TurnPlan:
    """The turn as the number's band allows it: a forbidden main action goes as text, forbidden extras are dropped
    (a number never computed has no band yet: its warm-up phase rules alone decide)."""
    limits = LIMITS.get(band or "")
    if limits is None:
        return plan
    if not limits.allows(plan.kind):
        plan = actions.downgrade(plan, plan.kind)
    return replace(
        plan,
        react=plan.react if limits.allows(actions.REACTION) else None,
        unreact=plan.unreact and limits.allows(actions.REACTION),
        quote=plan.quote and limits.allows(actions.QUOTE),
        typo=plan.typo and limits.allows(actions.TYPO_EDIT),
    )
