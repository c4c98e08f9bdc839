from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_app.logic.pacing import (
    HumanizeConfig,
    SendPlan,
    lognormal_delay_s,
    plan_send,
    reading_ms,
    typing_ms,
)

seeds = st.integers(0, 2**32 - 1)


def test_typing_follows_words_per_minute() -> None:
    rng = random.Random(1)
    # 10 chars = 2 words at exactly 40 WPM (sd 0) = 3 s
    assert typing_ms("x" * 10, rng, wpm_mean=40, wpm_sd=0) == 3000
    assert typing_ms("", rng, wpm_sd=0) == 2000  # clamped up to the minimum
    assert typing_ms("x" * 500, rng, wpm_sd=0) == 8000  # clamped down to the maximum


@given(st.text(max_size=600), seeds)
def test_typing_stays_within_bounds(text: str, seed: int) -> None:
    assert 2000 <= typing_ms(text, random.Random(seed)) <= 8000


@given(st.integers(0, 400), st.integers(0, 400), seeds)
def test_typing_grows_with_length_for_the_same_draw(a: int, b: int, seed: int) -> None:
    short, long = sorted((a, b))
    assert typing_ms("x" * short, random.Random(seed)) <= typing_ms("x" * long, random.Random(seed))


def test_reading_time() -> None:
    assert reading_ms("", random.Random(0)) == 1000
    values = [reading_ms("x" * 100, random.Random(s)) for s in range(200)]
    assert min(values) >= 4000 and max(values) <= 7500  # 100/20 s x U(0.8, 1.5)
    assert reading_ms("x" * 5000, random.Random(0)) == 15_000


@settings(max_examples=300)
@given(
    seeds,
    st.floats(0, 600, allow_nan=False),
    st.floats(0, 3600, allow_nan=False),
    st.floats(0, 1),
)
def test_lognormal_delay_never_leaves_its_bounds(seed: int, low: float, extra: float, p: float) -> None:
    high = low + extra
    value = lognormal_delay_s(random.Random(seed), low, high, long_pause_p=p)
    assert low <= value <= high


def test_lognormal_delay_shape_is_skewed_not_uniform() -> None:
    rng = random.Random(42)
    samples = [lognormal_delay_s(rng, 15, 180) for _ in range(5000)]
    midpoint = (15 + 180) / 2
    assert statistics.median(samples) < midpoint * 0.6  # right-skewed: most gaps are short
    # a uniform draw would put 10 % in each tenth of the range; the first tenth is far fuller here
    first_tenth = sum(s < 15 + 16.5 for s in samples) / len(samples)
    assert first_tenth > 0.15
    # nothing piles up on the edges (no clamping artefacts) yet long pauses do happen
    assert sum(s in (15, 180) for s in samples) == 0
    assert sum(s > 150 for s in samples) > 0


def test_long_pause_probability_moves_the_mass_up() -> None:
    never = [lognormal_delay_s(random.Random(s), 15, 180, long_pause_p=0) for s in range(1000)]
    always = [lognormal_delay_s(random.Random(s), 15, 180, long_pause_p=1) for s in range(1000)]
    assert statistics.median(always) > 2 * statistics.median(never)


def test_lognormal_delay_edge_cases() -> None:
    assert lognormal_delay_s(random.Random(0), 30, 30) == 30
    assert 0 <= lognormal_delay_s(random.Random(0), 0, 5) <= 5
    with pytest.raises(ValueError):
        lognormal_delay_s(random.Random(0), 10, 5)
    with pytest.raises(ValueError):
        lognormal_delay_s(random.Random(0), -1, 5)
    with pytest.raises(ValueError):
        lognormal_delay_s(random.Random(0), 1, 5, long_pause_p=2)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="delay"):
        HumanizeConfig(min_delay_s=200, max_delay_s=100)
    with pytest.raises(ValueError, match="typing"):
        HumanizeConfig(typing_min_ms=-1)
    with pytest.raises(ValueError, match="wpm"):
        HumanizeConfig(wpm_mean=0)
    with pytest.raises(ValueError, match="probability"):
        HumanizeConfig(long_pause_p=1.5)


def test_plan_send_without_humanising_is_all_zeros() -> None:
    assert plan_send("Oi!", random.Random(0), humanize=False) == SendPlan(0, 0, 0.0)


def test_plan_send_reads_only_when_replying() -> None:
    opener = plan_send("Bom dia! Tudo bem?", random.Random(0))
    assert opener.read_delay_ms == 0
    reply = plan_send("Tudo ótimo, e você?", random.Random(0), incoming="Bom dia! Tudo bem?")
    assert 1000 <= reply.read_delay_ms <= 15_000


@given(st.text(max_size=300), st.text(max_size=300), seeds)
def test_plan_send_respects_the_config(text: str, incoming: str, seed: int) -> None:
    cfg = HumanizeConfig(min_delay_s=5, max_delay_s=20, typing_min_ms=1000, typing_max_ms=3000)
    plan = plan_send(text, random.Random(seed), cfg, incoming=incoming)
    assert 1000 <= plan.typing_ms <= 3000
    assert 5 <= plan.gap_s <= 20
    assert plan.read_delay_ms == 0 if not incoming else 1000 <= plan.read_delay_ms <= 15_000
    assert plan == plan_send(text, random.Random(seed), cfg, incoming=incoming)  # deterministic
