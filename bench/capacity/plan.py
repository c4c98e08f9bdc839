"""What a run is made of: its sizes, the production pacing compressed by the factor, and the constants the
simulator, the world and the bench share (one place, so the simulator's key and capacity match what Mirage is told)."""

from __future__ import annotations

import argparse
import random
import statistics
from dataclasses import dataclass

HOST = "127.0.0.1"
SIM_KEY = "capacity-bench-key"  # not the demo key: Mirage runs out of demo mode, as in production
CAPACITY = 80
# Production defaults that --factor compresses.
MIN_DELAY_S, MAX_DELAY_S = 15, 180  # settings_tenant reply delays (and the minimum gap)
PAUSE_MIN_MIN, PAUSE_MAX_MIN = 20, 60  # conversation_schedule pause between rounds, minutes
ACK_DELAYS_S = (0.5, 2.0, 6.0)  # SimConfig.demo(): server ack, delivery, read
READING_MEAN_S = 3.0  # logic/pacing.reading_ms for the offline generator's lengths (not compressible)


@dataclass(frozen=True)
class Size:
    numbers: int
    servers: int
    minutes: float

    @property
    def label(self) -> str:
        return f"{self.numbers:,}/{self.servers}"


def parse_size(text: str) -> Size:
    """`N/S` or `N/S:minutes`."""
    try:
        head, _, minutes = text.partition(":")
        n, s = head.split("/")
        size = Size(int(n), int(s), float(minutes) if minutes else 0.0)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected NUMBERS/SERVERS[:MINUTES], got {text!r}") from exc
    if size.numbers < 2 or size.servers < 1 or size.numbers > size.servers * CAPACITY:
        raise argparse.ArgumentTypeError(f"{text}: need 2..{CAPACITY} x servers numbers")
    return size


@dataclass(frozen=True)
class Pacing:
    """The production pacing compressed by `factor` (see the package docstring)."""

    factor: float
    min_delay_s: int
    max_delay_s: int
    pause_min: int
    pause_max: int
    cycle_s: float  # expected seconds from one round's start to the next one's, in one conversation
    turns: float  # expected messages per round
    round_s: float  # expected duration of a round

    @classmethod
    def of(cls, factor: float) -> Pacing:
        from mirage_app.logic.pacing import lognormal_delay_s
        from mirage_app.logic.prompts import MAX_EXCHANGES, MIN_EXCHANGES

        lo = max(0, round(MIN_DELAY_S / factor))
        hi = max(lo, round(MAX_DELAY_S / factor))
        pmin = max(0, round(PAUSE_MIN_MIN / factor))
        pmax = max(pmin, round(PAUSE_MAX_MIN / factor))
        rng = random.Random(7)
        gap = statistics.fmean(lognormal_delay_s(rng, lo, hi, 0.05) for _ in range(4000))
        pause = statistics.fmean(lognormal_delay_s(rng, pmin * 60, pmax * 60) for _ in range(4000))
        turns = 2 * (MIN_EXCHANGES + MAX_EXCHANGES) / 2
        round_s = (turns - 1) * (gap + READING_MEAN_S + 0.5) + 1
        # The tick looks every minute: ~30 s after the round ends (pause drawn), ~30 s after the pause ends.
        return cls(factor, lo, hi, pmin, pmax, round_s + pause + 60, turns, round_s)

    def describe(self) -> str:
        return (
            f"compression factor {self.factor:g}: reply delays {self.min_delay_s}..{self.max_delay_s} s (production "
            f"{MIN_DELAY_S}..{MAX_DELAY_S}; also the minimum gap), pause between rounds "
            f"{self.pause_min}..{self.pause_max} min ({PAUSE_MIN_MIN}..{PAUSE_MAX_MIN}), simulator acks "
            f"/{self.factor:g}; reading 1..15 s and typing "
            f"2..8 s as in production"
        )
