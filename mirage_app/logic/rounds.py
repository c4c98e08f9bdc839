"""Round planning for warming conversations: who talks to whom, how long, and whether a round may start.

Modes (SPEC §3 conversations.mode):
- pair: participants are fixed partners taken two by two ([a, b, c, d] -> a<->b, c<->d); the cursor cycles
  through the pairs and the opener alternates every cycle, so with one pair A and B take turns opening.
- round_robin: every pair meets in turn, ordered by the circle method so consecutive rounds involve different
  people where possible; the opener flips on every full cycle.
- random: two distinct participants drawn from the injected rng.

The caller stores `RoundPlan.next_index` and passes it back as `last_index` next time. Topics: `pick_topic`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from mirage_app.logic.caps import ALLOW, Decision
from mirage_app.logic.pacing import lognormal_delay_s
from mirage_app.logic.prompts import MAX_EXCHANGES, MIN_EXCHANGES, SPEAKER_A, PhaseTurn, round_phases

PAIR = "pair"
ROUND_ROBIN = "round_robin"
RANDOM = "random"
MODES: tuple[str, ...] = (PAIR, ROUND_ROBIN, RANDOM)

T = TypeVar("T")

WINDOW_FULL = "window_full"
PAUSE = "pause"


@dataclass(frozen=True)
class RoundPlan:
    speaker_a: str
    speaker_b: str
    exchanges: int
    phases: tuple[PhaseTurn, ...]
    next_index: int

    @property
    def turns(self) -> tuple[tuple[str, str], ...]:
        """(phase, participant id) for every planned message, in order."""
        return tuple((t.phase, self.speaker_a if t.speaker == SPEAKER_A else self.speaker_b) for t in self.phases)


def _fixed_pairs(n: int) -> list[tuple[int, int]]:
    if n % 2:
        raise ValueError("pair mode needs an even number of participants (fixed partners, two by two)")
    return [(i, i + 1) for i in range(0, n, 2)]


def _circle_pairs(n: int) -> list[tuple[int, int]]:
    """All unordered pairs of range(n), grouped in rounds of disjoint pairs (round-robin tournament)."""
    seats: list[int | None] = list(range(n)) + ([None] if n % 2 else [])
    size = len(seats)
    pairs = []
    for _ in range(size - 1):
        for i in range(size // 2):
            a, b = seats[i], seats[size - 1 - i]
            if a is not None and b is not None:
                pairs.append((a, b))
        seats = [seats[0], seats[-1], *seats[1:-1]]
    return pairs


def plan_round(participants: Sequence[str], mode: str, rng: random.Random, last_index: int = 0) -> RoundPlan:
    """Choose the two speakers and the length (2..4 exchanges) of the next round."""
    people = list(participants)
    if len(people) < 2:
        raise ValueError("a round needs at least two participants")
    if len(set(people)) != len(people):
        raise ValueError("participants must be distinct")
    if last_index < 0:
        raise ValueError("last_index must be >= 0")
    if mode not in MODES:
        raise ValueError(f"unknown mode: {mode!r} (expected one of {MODES})")

    if mode == RANDOM:
        a, b = rng.sample(people, 2)
    else:
        pairs = _fixed_pairs(len(people)) if mode == PAIR else _circle_pairs(len(people))
        first, second = pairs[last_index % len(pairs)]
        if (last_index // len(pairs)) % 2:  # every other cycle the other partner opens
            first, second = second, first
        a, b = people[first], people[second]

    exchanges = rng.randint(MIN_EXCHANGES, MAX_EXCHANGES)
    return RoundPlan(a, b, exchanges, tuple(round_phases(exchanges)), last_index + 1)


def pick_topic(topics: Sequence[T], strategy: str, refresh_minutes: int, now: datetime, seed: object) -> T | None:
    """The topic of a round started at `now`: a conversation keeps one subject for `refresh_minutes`, as people do,
    then moves on — to the next in order (`rotate`) or to a seeded draw (`random`; the same answer on every
    evaluation within the period)."""
    if not topics:
        return None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    period = int(now.timestamp() // (max(1, refresh_minutes) * 60))
    if strategy == "random":
        return random.Random(f"{seed}|{period}").choice(list(topics))
    return topics[period % len(topics)]


def round_seed(conversation_id: object, window_key: str) -> str:
    """The per-(conversation, window) seed for `rounds_allowed`, e.g. with `dayparts.Window.key`."""
    return f"{conversation_id}|{window_key}"


def pause_after_round(
    rng_seed: str | int, rounds_done: int, pause_min_minutes: float, pause_max_minutes: float
) -> timedelta:
    """The pause after the `rounds_done`-th round of a window: log-normal within min/max, the same on every
    evaluation (seeded by window and round count) so each scheduler tick agrees with the last."""
    if pause_min_minutes < 0 or pause_max_minutes < pause_min_minutes:
        raise ValueError(f"need 0 <= pause min <= max, got {pause_min_minutes}..{pause_max_minutes}")
    rng = random.Random(f"{rng_seed}|{rounds_done}")
    seconds = lognormal_delay_s(rng, pause_min_minutes * 60, pause_max_minutes * 60)
    return timedelta(seconds=round(seconds))


def rounds_allowed(
    window_rounds_done: int,
    max_rounds_per_window: int | None,
    last_round_ended_at: datetime | None,
    now: datetime,
    pause_min_minutes: float,
    pause_max_minutes: float,
    rng_seed: str | int,
) -> Decision:
    """May a new round start now in this window?

    Blocked with `window_full` (retry_at None: wait for the next window) once the window has had its
    rounds, or with `pause` until the drawn pause after the last round has elapsed. max None = no limit.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if max_rounds_per_window is not None and window_rounds_done >= max_rounds_per_window:
        return Decision(False, WINDOW_FULL, None, (WINDOW_FULL,))
    if last_round_ended_at is None:
        return ALLOW
    pause = pause_after_round(rng_seed, window_rounds_done, pause_min_minutes, pause_max_minutes)
    resume_at = last_round_ended_at.astimezone(UTC) + pause
    if now.astimezone(UTC) < resume_at:
        return Decision(False, PAUSE, resume_at, (PAUSE,))
    return ALLOW
