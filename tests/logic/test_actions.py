"""logic.actions: who does what, when (issue 15)."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_app.logic import actions
from mirage_app.logic.actions import ActionRules, Habits, TurnPlan, plan_turn
from mirage_app.logic.group_names import suggest
from mirage_app.logic.status_posts import PICTURE_SHARE, post_time, status_line, with_picture

rates = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
habits_st = st.builds(
    Habits, reactions=rates, quotes=rates, typos=rates, voice_notes=rates, pictures=rates, stickers=rates,
    locations=rates, contacts=rates, status_posts=rates, group_talk=rates, emoji=rates,
)  # fmt: skip
incoming_st = st.sampled_from([None, "text", "voice", "image", "sticker", "reaction", "location"])


@settings(max_examples=300, deadline=None)
@given(habits_st, st.integers(1, 40), st.integers(0, 2**32), incoming_st)
def test_a_plan_never_breaks_the_phase_rules(habits, day, seed, incoming):
    rules = ActionRules.default()
    plan = plan_turn(habits, rules, day, random.Random(seed), incoming_kind=incoming)
    assert plan.kind in actions.MAIN_ACTIONS
    assert rules.allows(plan.kind, day)
    if plan.react is not None:
        assert rules.allows(actions.REACTION, day) and incoming not in (None, "reaction")
        assert plan.react in actions.REACTIONS
    if plan.quote:
        assert rules.allows(actions.QUOTE, day) and incoming is not None
    if plan.typo:
        assert plan.kind == actions.TEXT and rules.allows(actions.TYPO_EDIT, day)
    assert not plan.unreact or plan.react is not None


@settings(max_examples=200, deadline=None)
@given(habits_st, st.integers(1, 40), st.integers(0, 2**32))
def test_actions_switched_off_never_happen(habits, day, seed):
    rules = ActionRules.from_mapping({"off": ["voice", "image", "sticker", "reaction", "quote", "typo_edit"]})
    plan = plan_turn(habits, rules, day, random.Random(seed), incoming_kind="voice")
    assert plan.kind in (actions.TEXT, actions.LOCATION, actions.CONTACT)
    assert plan.react is None and not plan.quote and not plan.typo


def test_day_one_is_text_and_reactions_only():
    eager = Habits(reactions=1, quotes=1, typos=1, voice_notes=0.3, pictures=0.3, stickers=0.3, locations=0.05)
    kinds = Counter()
    for seed in range(500):
        plan = plan_turn(eager, ActionRules.default(), 1, random.Random(seed), incoming_kind="text")
        kinds[plan.kind] += 1
        assert plan.react is not None and not plan.quote and not plan.typo
    assert kinds == Counter({"text": 500})


def test_the_mix_follows_the_habits_once_mature():
    chatty = Habits(voice_notes=0.3, pictures=0.2, stickers=0.1, reactions=0.5, quotes=0.5, typos=0.2)
    plans = [plan_turn(chatty, ActionRules.default(), 30, random.Random(i), incoming_kind="text") for i in range(4000)]
    share = Counter(p.kind for p in plans)
    assert 0.25 < share["voice"] / 4000 < 0.35
    assert 0.15 < share["image"] / 4000 < 0.25
    assert 0.4 < sum(p.react is not None for p in plans) / 4000 < 0.6


def test_people_answer_a_voice_note_in_kind():
    shy = Habits(voice_notes=0.02)
    rules = ActionRules.default()
    after_text = sum(
        plan_turn(shy, rules, 30, random.Random(i), incoming_kind="text").kind == "voice" for i in range(2000)
    )
    after_voice = sum(
        plan_turn(shy, rules, 30, random.Random(i), incoming_kind="voice").kind == "voice" for i in range(2000)
    )
    assert after_voice > 5 * after_text


def test_a_kind_without_content_is_not_chosen():
    plan = plan_turn(
        Habits(voice_notes=1.0), ActionRules.default(), 30, random.Random(1), available=frozenset({"text"})
    )
    assert plan == TurnPlan(kind="text")


def test_rules_validate_and_merge():
    rules = ActionRules.merged({"min_day": {"voice": 3}, "off": ["contact"]}, {"min_day": {"group": 1}})
    assert rules.min_day["voice"] == 3 and rules.min_day["group"] == 1 and rules.off == frozenset({"contact"})
    assert rules.why_not("contact", 99) == "action_off" and rules.why_not("voice", 2) == "phase_too_early"
    for bad in ({"min_day": {"voice": 0}}, {"min_day": {"dance": 3}}, {"off": ["dance"]}, {"colour": 1}):
        with pytest.raises(ValueError):
            ActionRules.from_mapping(bad)
    # a bad stored value falls back to the level above instead of stopping sends
    assert ActionRules.merged({"min_day": {"voice": "soon"}}, None) == ActionRules.default()


def test_habits_are_rates():
    with pytest.raises(ValueError):
        Habits.from_mapping({"voice_notes": 1.5})
    with pytest.raises(ValueError):
        Habits.from_mapping({"dancing": 0.5})
    assert Habits.from_mapping_or_default({"voice_notes": "x"}) == Habits()


@given(st.text(max_size=200), st.integers(0, 2**32))
def test_a_typo_only_moves_visible_letters(text_in, seed):
    typo = actions.make_typo(text_in, random.Random(seed))
    if typo is not None:
        assert typo != text_in and sorted(typo) == sorted(text_in) and len(typo) == len(text_in)


def test_weights_put_media_above_taps():
    assert actions.cap_weight("reaction") < actions.cap_weight("text") < actions.cap_weight("voice")
    assert actions.cap_weight("edit") < 1 and actions.cap_weight("image") > 1


def test_group_speakers_never_repeat_and_follow_talkativeness():
    members = [("a", Habits(group_talk=0.9)), ("b", Habits(group_talk=0.9)), ("c", Habits(group_talk=0.05))]
    order = actions.group_speakers(members, 3000, random.Random(4), opener="c")
    assert order[0] == "c"
    assert all(x != y for x, y in itertools.pairwise(order))
    assert Counter(order)["c"] < Counter(order)["a"] / 3


def test_status_posts_follow_the_day_and_the_rate():
    habits, rules = Habits(status_posts=0.5), ActionRules.default()
    assert post_time(habits, rules, 1, None, "n1", date(2026, 1, 5)) is None  # too early in the warm-up
    days = [date(2026, 1, d) for d in range(1, 31)]
    posting = [post_time(habits, rules, 30, None, "n1", d) for d in days]
    assert 5 < sum(t is not None for t in posting) < 25
    assert all(9 <= t.hour < 20 for t in posting if t)
    assert posting == [post_time(habits, rules, 30, None, "n1", d) for d in days]  # stable for the day
    assert not any(post_time(habits, rules, 30, "cold", "n1", d) for d in days)  # a cold band posts no status
    assert status_line("en", "n1", days[0]) and suggest("pt-BR", "c1")[0]


def test_some_status_posts_are_pictures_where_pictures_are_allowed():
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(400)]
    rules = ActionRules.default()
    share = sum(with_picture(rules, 30, None, "n1", d) for d in days) / len(days)
    assert abs(share - PICTURE_SHARE) < 0.08
    assert not any(with_picture(rules, 1, None, "n1", d) for d in days)  # pictures are not allowed on day 1
    no_pictures = ActionRules.from_mapping({"off": ["image"]})
    assert not any(with_picture(no_pictures, 30, None, "n1", d) for d in days)
    assert not any(with_picture(rules, 30, "cold", "n1", d) for d in days)  # nor a cold band's pictures
