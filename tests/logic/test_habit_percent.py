"""The persona editor's habits as percents: shown as typed numbers, sent as rates, anything else left for the
server to refuse."""

from __future__ import annotations

from mirage_app.logic.habit_percent import habit_percents, habit_rate, number_or_zero


def test_rates_read_as_percents():
    assert habit_percents({"reactions": 0.2, "typos": 0.055, "emoji": 1, "odd": "x"}) == {
        "reactions": "20",
        "typos": "5.5",
        "emoji": "100",
        "odd": "x",
    }


def test_percents_go_back_as_rates():
    assert [habit_rate(t) for t in ("20", " 5,5 ", "0", "", "abc", "150")] == [0.2, 0.055, 0.0, None, "abc", 1.5]


def test_the_slider_reads_zero_until_the_field_is_a_number():
    assert [number_or_zero(t) for t in ("35", "2,5", "", "x")] == [35.0, 2.5, 0.0, 0.0]
