"""The reach-out restriction rule, its end estimate and the monthly allowance (pure, property-tested)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.dayparts import to_local
from mirage_app.logic.restrictions import (
    DEFAULT_RULE,
    SendResult,
    Verdict,
    allowance_left,
    estimated_end,
    infer,
    is_active,
    month_bounds,
)

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
RULE = DEFAULT_RULE
in_window = st.integers(min_value=0, max_value=int(RULE.window.total_seconds())).map(
    lambda s: NOW - timedelta(seconds=s)
)
results = st.lists(st.builds(SendResult, at=in_window, new_contact=st.booleans(), failed=st.booleans()), max_size=40)


def sends(at: datetime, *, new: bool, failed: bool, count: int) -> list[SendResult]:
    return [SendResult(at, new, failed) for _ in range(count)]


def test_errors_on_first_messages_while_known_chats_deliver_is_a_restriction():
    history = sends(NOW, new=True, failed=True, count=3) + sends(NOW, new=False, failed=False, count=5)
    inference = infer(history, NOW)
    assert inference.verdict == Verdict.reach_out
    assert inference.evidence()["new_errors"] == 3


def test_known_chats_failing_too_is_not_a_restriction():
    history = sends(NOW, new=True, failed=True, count=4) + sends(NOW, new=False, failed=True, count=4)
    assert infer(history, NOW).verdict == Verdict.all_failing


def test_without_known_chats_a_suspicion_is_kept():
    assert infer(sends(NOW, new=True, failed=True, count=3), NOW).verdict == Verdict.reach_out


def test_first_messages_that_mostly_arrive_are_clear():
    history = sends(NOW, new=True, failed=True, count=3) + sends(NOW, new=True, failed=False, count=7)
    assert infer(history, NOW).verdict == Verdict.clear


@given(results)
def test_fewer_errors_than_the_threshold_are_clear(history):
    if sum(1 for r in history if r.new_contact and r.failed) < RULE.min_new_errors:
        assert infer(history, NOW).verdict == Verdict.clear


@given(results, st.integers(min_value=1, max_value=5))
def test_more_first_message_errors_never_clear_a_verdict(history, extra):
    before = infer(history, NOW).verdict
    after = infer(history + sends(NOW, new=True, failed=True, count=extra), NOW).verdict
    assert before == Verdict.clear or after != Verdict.clear


@given(results, st.integers(min_value=1, max_value=5))
def test_known_chats_delivering_never_undo_a_restriction(history, extra):
    if infer(history, NOW).verdict == Verdict.reach_out:
        more = history + sends(NOW, new=False, failed=False, count=extra)
        assert infer(more, NOW).verdict == Verdict.reach_out


@given(results, st.randoms())
def test_order_does_not_matter(history, rnd):
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert infer(shuffled, NOW) == infer(history, NOW)


@given(results, st.lists(st.builds(SendResult, st.just(NOW - RULE.window - timedelta(seconds=1)), st.booleans(),
                                  st.booleans())))  # fmt: skip
def test_sends_before_the_window_are_ignored(history, old):
    assert infer(history + old, NOW) == infer(history, NOW)


@given(st.integers(min_value=0, max_value=40))
def test_estimated_end_grows_with_earlier_restrictions_and_is_bounded(earlier):
    end = estimated_end(NOW, earlier)
    assert NOW + RULE.base_length <= end <= NOW + RULE.max_length
    assert estimated_end(NOW, earlier + 1) >= end


@given(st.integers(min_value=-60, max_value=60))
def test_active_until_its_end_unless_lifted(minutes):
    ends = NOW + timedelta(minutes=minutes)
    assert is_active(ends, None, NOW) == (minutes > 0)
    assert not is_active(ends, NOW, NOW)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(["America/Sao_Paulo", "UTC", "Asia/Tokyo", "America/New_York"]))  # fmt: skip
def test_month_bounds_hold_now_and_start_on_the_first(now, tz):
    start, end = month_bounds(now, tz)
    assert start <= now < end
    assert to_local(start, tz).day == 1 and to_local(end, tz).day == 1
    assert timedelta(days=27) < end - start < timedelta(days=32)


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=2000))
def test_allowance_left_is_never_negative_and_falls_as_answers_lack(allowance, unanswered):
    left = allowance_left(allowance, unanswered)
    assert 0 <= left <= allowance
    assert allowance_left(allowance, unanswered + 1) <= left
