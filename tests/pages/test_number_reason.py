"""Why a number is paused or disconnected reads as words, whatever the engine stored (even a multi-line error)."""

from __future__ import annotations

from mirage_app.i18n import catalog
from mirage_app.states.instances import reason_text

PT, EN = catalog("pt-BR"), catalog("en")


def test_a_failure_streak_with_a_multi_line_error_reads_as_its_reason():
    assert reason_text(PT, "failure_streak:line1\nline2", None) == PT["instances.reason.failure_streak"]


def test_a_ban_shows_its_code():
    assert "401" in reason_text(EN, None, "banned (401)")
    assert reason_text(EN, None, "banned (401)").startswith("WhatsApp ended the session as a block")


def test_a_known_code_without_detail():
    assert reason_text(EN, "stopped", None) == EN["instances.reason.stopped"]
    assert reason_text(PT, None, "qr_limit") == PT["instances.reason.qr_limit"]


def test_an_unknown_reason_reads_as_disconnected():
    assert reason_text(PT, None, "something odd:\n{x}") == PT["instances.reason.other"]
    assert reason_text(EN, None, "weird (thing") == EN["instances.reason.other"]


def test_no_reason_is_no_text():
    assert reason_text(EN, None, None) == reason_text(EN, "", "") == ""
