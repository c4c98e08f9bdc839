"""Humanised timings for one send: reading before replying, typing in proportion to length, gaps after it.

Figures follow reference/peers-and-practices.md §5.4–5.5: ~40 WPM mobile typing clamped to 2–8 s, reading at
len/20 s x U(0.8, 1.5) with a 1 s floor, and inter-message gaps drawn from a log-normal (never uniform, never
fixed) inside the tenant's min/max delay, with a rare longer pause that still respects the maximum.
The random source is always injected so tests and replays are deterministic.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

CHARS_PER_WORD = 5
MIN_WPM = 10.0  # floor for the Gaussian draw so a far-left sample cannot explode the typing time
_STD_NORMAL = NormalDist()
_SHIFT_S = 1.0  # log-normal is shifted by 1 s so a zero minimum delay is allowed


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def typing_ms(
    text: str,
    rng: random.Random,
    wpm_mean: float = 40.0,
    wpm_sd: float = 6.0,
    min_ms: int = 2000,
    max_ms: int = 8000,
) -> int:
    """How long "typing..." shows before the text is sent (Evolution's `delay`)."""
    words = len(text) / CHARS_PER_WORD
    wpm = max(MIN_WPM, rng.gauss(wpm_mean, wpm_sd))
    return round(_clamp(words / wpm * 60_000, min_ms, max_ms))


def reading_ms(text: str, rng: random.Random, min_ms: int = 1000, max_ms: int = 15_000) -> int:
    """How long to "read" an incoming message before marking it read and starting to type."""
    seconds = len(text) / 20 * rng.uniform(0.8, 1.5)
    return round(_clamp(seconds * 1000, min_ms, max_ms))


def lognormal_delay_s(rng: random.Random, min_s: float, max_s: float, long_pause_p: float = 0.05) -> float:
    """A delay in [min_s, max_s] with a human, right-skewed shape.

    The body is a log-normal truncated to the bounds (exact inverse-CDF sampling, so nothing piles up on the
    edges) with its median a third of the way up the log range; with probability `long_pause_p` the draw
    instead comes from a log-normal centred near the maximum, the occasional "got distracted" pause.
    """
    if min_s < 0 or max_s < min_s:
        raise ValueError(f"need 0 <= min_s <= max_s, got {min_s}..{max_s}")
    if not 0.0 <= long_pause_p <= 1.0:
        raise ValueError("long_pause_p must be a probability")
    lo, hi = math.log(min_s + _SHIFT_S), math.log(max_s + _SHIFT_S)
    span = hi - lo
    if span < 1e-9:  # min == max (or indistinguishable): nothing to draw
        return float(min_s)
    long_pause = rng.random() < long_pause_p
    mu = hi - 0.15 * span if long_pause else lo + 0.33 * span
    sigma = span / 4
    a, b = _STD_NORMAL.cdf((lo - mu) / sigma), _STD_NORMAL.cdf((hi - mu) / sigma)
    u = a + (b - a) * rng.random()
    u = _clamp(u, 1e-12, 1 - 1e-12)  # inv_cdf is undefined at exactly 0 or 1
    z = _STD_NORMAL.inv_cdf(u)
    return _clamp(math.exp(mu + sigma * z) - _SHIFT_S, min_s, max_s)


@dataclass(frozen=True)
class HumanizeConfig:
    """Tunable pacing knobs (tenant settings with per-conversation overrides)."""

    min_delay_s: float = 15.0
    max_delay_s: float = 180.0
    typing_min_ms: int = 2000
    typing_max_ms: int = 8000
    wpm_mean: float = 40.0
    wpm_sd: float = 6.0
    reading_min_ms: int = 1000
    reading_max_ms: int = 15_000
    long_pause_p: float = 0.05

    def __post_init__(self) -> None:
        pairs = (
            ("delay", self.min_delay_s, self.max_delay_s),
            ("typing", self.typing_min_ms, self.typing_max_ms),
            ("reading", self.reading_min_ms, self.reading_max_ms),
        )
        for name, low, high in pairs:
            if low < 0 or high < low:
                raise ValueError(f"{name}: need 0 <= min <= max, got {low}..{high}")
        if self.wpm_mean <= 0 or self.wpm_sd < 0:
            raise ValueError("wpm_mean must be positive and wpm_sd non-negative")
        if not 0.0 <= self.long_pause_p <= 1.0:
            raise ValueError("long_pause_p must be a probability")


@dataclass(frozen=True)
class SendPlan:
    """Timings for one outgoing message: wait `read_delay_ms` then mark read, type `typing_ms`, send.
    `gap_s` is the pause to leave after this send before the sender's next one."""

    read_delay_ms: int
    typing_ms: int
    gap_s: float


def plan_send(
    text: str,
    rng: random.Random,
    cfg: HumanizeConfig | None = None,
    humanize: bool = True,
    incoming: str | None = None,
) -> SendPlan:
    """Timings for sending `text`, optionally in reply to `incoming` (reading time is based on what is read).

    humanize=False gives zeros everywhere (operator switched humanising off, e.g. for transactional sends).
    """
    if not humanize:
        return SendPlan(0, 0, 0.0)
    cfg = cfg or HumanizeConfig()
    read = reading_ms(incoming, rng, cfg.reading_min_ms, cfg.reading_max_ms) if incoming else 0
    typing = typing_ms(text, rng, cfg.wpm_mean, cfg.wpm_sd, cfg.typing_min_ms, cfg.typing_max_ms)
    gap = lognormal_delay_s(rng, cfg.min_delay_s, cfg.max_delay_s, cfg.long_pause_p)
    return SendPlan(read, typing, gap)


def planned_typing_ms(meta: Mapping[str, Any] | None) -> int:
    """The typing time stored with a queued message (`meta.plan.typing_ms`, the SendPlan's), 0 without one."""
    return int(((meta or {}).get("plan") or {}).get("typing_ms") or 0)
