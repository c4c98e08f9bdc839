from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.rounds import (
    PAIR,
    PAUSE,
    RANDOM,
    ROUND_ROBIN,
    WINDOW_FULL,
    pause_after_round,
    pick_topic,
    plan_round,
    round_seed,
    rounds_allowed,
)

NOW = datetime(2024, 5, 6, 12, tzinfo=UTC)
people = st.lists(st.text(min_size=1, max_size=5), min_size=2, max_size=8, unique=True)


@given(people, st.sampled_from([ROUND_ROBIN, RANDOM]), st.integers(0, 10_000), st.integers(0, 1000))
def test_every_plan_is_well_formed(participants: list[str], mode: str, seed: int, cursor: int) -> None:
    plan = plan_round(participants, mode, random.Random(seed), cursor)
    assert plan.speaker_a != plan.speaker_b
    assert {plan.speaker_a, plan.speaker_b} <= set(participants)
    assert 2 <= plan.exchanges <= 4 and len(plan.phases) == 2 * plan.exchanges
    assert plan.next_index == cursor + 1
    assert plan.turns[0] == ("greeting", plan.speaker_a) and plan.turns[-1][0] == "goodbye"


def test_exchange_counts_cover_two_to_four() -> None:
    rng = random.Random(0)
    assert {plan_round(["a", "b"], PAIR, rng).exchanges for _ in range(100)} == {2, 3, 4}


def test_pair_mode_alternates_the_opener() -> None:
    rng = random.Random(0)
    openers = [plan_round(["a", "b"], PAIR, rng, i).speaker_a for i in range(4)]
    assert openers == ["a", "b", "a", "b"]


def test_pair_mode_keeps_fixed_partners() -> None:
    rng = random.Random(0)
    plans = [plan_round(list("abcd"), PAIR, rng, i) for i in range(8)]
    assert {frozenset((p.speaker_a, p.speaker_b)) for p in plans} == {frozenset("ab"), frozenset("cd")}


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_round_robin_meets_every_pair_once_per_cycle(n: int) -> None:
    names = [f"p{i}" for i in range(n)]
    total = n * (n - 1) // 2
    rng = random.Random(0)
    plans = [plan_round(names, ROUND_ROBIN, rng, i) for i in range(2 * total)]
    first_cycle = [frozenset((p.speaker_a, p.speaker_b)) for p in plans[:total]]
    assert set(first_cycle) == {frozenset(c) for c in combinations(names, 2)}
    # the second cycle swaps who opens
    assert [(p.speaker_b, p.speaker_a) for p in plans[total:]] == [(p.speaker_a, p.speaker_b) for p in plans[:total]]


def test_round_robin_spreads_people_out() -> None:
    rng = random.Random(0)
    plans = [plan_round(list("abcd"), ROUND_ROBIN, rng, i) for i in range(6)]
    # consecutive rounds inside each tournament round share nobody
    for first, second in zip(plans[::2], plans[1::2], strict=True):
        assert not {first.speaker_a, first.speaker_b} & {second.speaker_a, second.speaker_b}


def test_random_mode_is_reproducible() -> None:
    one = [plan_round(list("abcde"), RANDOM, random.Random(5), i) for i in range(5)]
    two = [plan_round(list("abcde"), RANDOM, random.Random(5), i) for i in range(5)]
    assert one == two


@pytest.mark.parametrize(
    ("participants", "mode", "cursor", "message"),
    [
        (["a"], PAIR, 0, "two"),
        (["a", "a"], ROUND_ROBIN, 0, "distinct"),
        (["a", "b", "c"], PAIR, 0, "even"),
        (["a", "b"], "chaos", 0, "mode"),
        (["a", "b"], PAIR, -1, "last_index"),
    ],
)
def test_plan_round_rejects_bad_input(participants: list[str], mode: str, cursor: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_round(participants, mode, random.Random(0), cursor)


class TestRoundsAllowed:
    def test_first_round_of_a_window(self) -> None:
        assert rounds_allowed(0, 2, None, NOW, 20, 60, "seed").allowed

    def test_window_full(self) -> None:
        decision = rounds_allowed(2, 2, None, NOW, 20, 60, "seed")
        assert (decision.allowed, decision.reason, decision.retry_at) == (False, WINDOW_FULL, None)
        assert rounds_allowed(50, None, None, NOW, 20, 60, "seed").allowed

    def test_pause_between_rounds(self) -> None:
        ended = NOW - timedelta(minutes=10)
        decision = rounds_allowed(1, 3, ended, NOW, 20, 60, "seed")
        assert decision.reason == PAUSE and decision.retry_at is not None
        assert ended + timedelta(minutes=20) <= decision.retry_at <= ended + timedelta(minutes=60)
        assert rounds_allowed(1, 3, ended, decision.retry_at, 20, 60, "seed").allowed
        assert rounds_allowed(1, 3, ended, ended + timedelta(minutes=60), 20, 60, "seed").allowed

    def test_naive_now_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            rounds_allowed(0, 2, None, datetime(2024, 5, 6, 12), 20, 60, "seed")

    @given(st.text(max_size=20), st.integers(0, 10), st.integers(0, 120), st.integers(0, 120))
    def test_pause_is_deterministic_and_bounded(self, seed: str, done: int, low: int, extra: int) -> None:
        pause = pause_after_round(seed, done, low, low + extra)
        assert pause == pause_after_round(seed, done, low, low + extra)
        # whole seconds, so allow the rounding half-second at each edge
        assert timedelta(minutes=low) - timedelta(seconds=1) <= pause <= timedelta(minutes=low + extra, seconds=1)

    def test_pauses_vary_between_windows_and_rounds(self) -> None:
        windows = {pause_after_round(round_seed("conv-1", f"2024-05-{d:02d}:morning"), 1, 20, 60) for d in range(1, 21)}
        rounds = {pause_after_round(round_seed("conv-1", "2024-05-06:morning"), n, 20, 60) for n in range(20)}
        assert len(windows) > 10 and len(rounds) > 10

    def test_bad_pause_range(self) -> None:
        with pytest.raises(ValueError):
            pause_after_round("s", 0, 30, 10)


topic_lists = st.lists(st.integers(), min_size=1, max_size=6, unique=True)
moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))


@given(topic_lists, st.sampled_from(["rotate", "random"]), st.integers(1, 24 * 60), moments)
def test_a_topic_holds_for_its_whole_refresh_period(topics, strategy, minutes, now):
    start = datetime.fromtimestamp(now.timestamp() // (minutes * 60) * (minutes * 60), UTC)
    picked = pick_topic(topics, strategy, minutes, start, "conv")
    assert picked in topics
    for offset in (timedelta(0), timedelta(seconds=minutes * 60 - 1)):
        assert pick_topic(topics, strategy, minutes, start + offset, "conv") == picked


@given(topic_lists, st.integers(1, 600), moments)
def test_rotate_visits_every_topic_in_order(topics, minutes, now):
    period = timedelta(minutes=minutes)
    seen = [pick_topic(topics, "rotate", minutes, now + period * i, "c") for i in range(len(topics))]
    assert sorted(seen) == sorted(topics)
    first = topics.index(seen[0])
    assert seen == [topics[(first + i) % len(topics)] for i in range(len(topics))]


def test_no_topic_without_topics_and_an_aware_clock_is_required():
    assert pick_topic([], "rotate", 60, NOW, "c") is None
    with pytest.raises(ValueError):
        pick_topic([1], "rotate", 60, NOW.replace(tzinfo=None), "c")
