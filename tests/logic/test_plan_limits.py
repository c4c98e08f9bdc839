"""Plan limits as pure decisions: overrides over defaults, whether one more fits, the bar's percentage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.plan_limits import LIMIT_KINDS, Use, clean_limit, effective_limits, fits

limit = st.none() | st.integers(min_value=0, max_value=10_000)
limits = st.fixed_dictionaries({kind: limit for kind in LIMIT_KINDS})


@given(limits, limits)
def test_an_override_wins_and_a_missing_one_keeps_the_plans(defaults, overrides):
    merged = effective_limits(defaults, overrides)
    for kind in LIMIT_KINDS:
        assert merged[kind] == (overrides[kind] if overrides[kind] is not None else defaults[kind])


@given(limit, st.integers(min_value=0, max_value=20_000), st.integers(min_value=1, max_value=50))
def test_fits_exactly_up_to_the_limit(cap, used, adding):
    assert fits(cap, used, adding) == (cap is None or used + adding <= cap)


@given(limit, st.integers(min_value=0, max_value=20_000))
def test_the_bar_stays_between_0_and_100_and_is_full_when_reached(cap, used):
    use = Use("contacts", used, cap)
    assert 0 <= use.percent <= 100
    if use.reached and cap:
        assert use.percent == 100 or used < cap
    if cap is None:
        assert not use.reached and use.percent == 0


@pytest.mark.parametrize(("typed", "value"), [("", None), ("  ", None), (None, None), ("12", 12), (0, 0)])
def test_typed_limits(typed, value):
    assert clean_limit(typed) == value


@pytest.mark.parametrize("typed", ["-1", "abc", "1.5"])
def test_bad_typed_limits(typed):
    with pytest.raises(ValueError):
        clean_limit(typed)
