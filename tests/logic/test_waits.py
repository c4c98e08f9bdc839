"""logic.waits: stored reasons read back, a cap's use, a queued message's and a target's wait, and the words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mirage_app.i18n import catalog
from mirage_app.logic import waits
from mirage_app.logic.caps import CapState, check_send

NOW = datetime(2030, 6, 3, 13, 0, tzinfo=UTC)


def test_a_cap_block_keeps_its_use():
    state = CapState(sent_last_hour=4, sent_today=9, oldest_in_hour_at=NOW - timedelta(minutes=20))
    decision = check_send(NOW, state, hourly_limit=4, daily_limit=50)
    wait = waits.cap_wait(decision, state, 4, 50)
    assert wait == waits.Wait("hourly_cap", NOW + timedelta(minutes=40), 4, 4)
    assert waits.parse(wait.stored(), wait.until) == wait
    daily = check_send(NOW, state, hourly_limit=None, daily_limit=9)
    assert waits.cap_wait(daily, state, None, 9, codes=waits.WARMUP_CODES).stored() == "warmup_cap:9/9"
    assert waits.cap_wait(decision, state, 4, 50, codes=waits.OUTREACH_CODES).stored() == "outreach_hourly_cap:4/4"


def test_planned_and_due_messages_say_so_without_a_stored_reason():
    assert waits.of_queued(None, None, NOW + timedelta(seconds=40), NOW) == waits.Wait(
        "planned", NOW + timedelta(seconds=40)
    )
    assert waits.of_queued(None, None, NOW - timedelta(minutes=9), NOW) == waits.Wait("due")
    # A stored wait that has run out no longer explains anything: the row is due again.
    assert waits.of_queued("min_gap", NOW - timedelta(seconds=1), NOW - timedelta(seconds=1), NOW).reason == "due"
    assert waits.parse("connection_closed").reason == "send_retry"  # an Evolution error reads as a retry


def test_a_messages_wait_lasts_until_its_next_attempt_or_the_end_of_its_typing():
    later = NOW + timedelta(minutes=5)
    assert waits.message_until("hourly_cap:2/2", later, None, {}) == later
    typing = {"plan": {"typing_ms": 4200}}
    assert waits.message_until("typing", NOW - timedelta(minutes=1), NOW, typing) == NOW + timedelta(seconds=4.2)
    assert waits.message_until("typing", None, NOW, {}) == NOW  # humanising off: no typing time
    assert waits.message_until(None, later, None, {}) is None  # nothing stored: no stored wait to last


def _target(status="pending", **kw) -> waits.TargetFacts:
    facts = {"consent": "granted", "suppressed": False, "other_exchange": False, "policy_active": True,
             "policy_wait": None, "policy_wait_until": None, "queued": False} | kw  # fmt: skip
    return waits.TargetFacts(status, **facts)


def test_a_target_says_its_own_block_first_then_the_policys():
    later = NOW + timedelta(hours=2)
    assert waits.target_wait(_target(consent="unknown", policy_wait="outside_dayparts"), NOW).reason == "no_consent"
    assert waits.target_wait(_target(suppressed=True), NOW).reason == "opted_out"
    assert waits.target_wait(_target(other_exchange=True), NOW).reason == "other_policy"
    assert waits.target_wait(_target(policy_active=False), NOW).reason == "inactive"
    assert waits.target_wait(_target(policy_wait="outside_dayparts", policy_wait_until=later), NOW) == waits.Wait(
        "outside_dayparts", later
    )
    assert waits.target_wait(_target(), NOW).reason == "queue"
    assert waits.target_wait(_target("in_progress"), NOW).reason == "exchange"
    queued = _target("in_progress", queued=True, queued_reason="min_gap", queued_until=later)
    assert waits.target_wait(queued, NOW) == waits.Wait("min_gap", later)
    assert waits.target_wait(_target("done"), NOW) is None


def test_every_code_has_words_in_both_languages():
    for locale in ("pt-BR", "en"):
        tr = catalog(locale)
        assert {f"wait.{code}" for code in waits.KNOWN} <= set(tr)
        assert "{" not in waits.explain(tr, waits.Wait("hourly_cap", NOW, 5, 5), "10:00")
    assert waits.explain(catalog("pt-BR"), waits.Wait("hourly_cap", NOW, 5, 5), "10:00") == (
        "Limite por hora usado 5/5 · até 10:00"
    )
