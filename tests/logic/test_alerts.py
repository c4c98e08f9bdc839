"""The pure alert rules: backoff, retry decisions, de-duplication, the rate limit, the signature, field checks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic import alerts as rules

T0 = datetime(2031, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=60))
def test_backoff_doubles_and_is_capped(attempt):
    wait = rules.backoff_s(attempt)
    assert rules.BACKOFF_BASE_S <= wait <= rules.BACKOFF_CAP_S
    assert rules.backoff_s(attempt + 1) in (2 * wait, rules.BACKOFF_CAP_S)


@given(st.integers(min_value=1, max_value=20), st.one_of(st.none(), st.integers(min_value=100, max_value=599)))
def test_retry_only_what_can_succeed_and_never_past_the_attempts(attempt, status):
    transient = status is None or status >= 500 or status in (408, 429)  # no answer, a server fault, "slow down"
    assert rules.should_retry(attempt, status) == (attempt < rules.MAX_ATTEMPTS and transient)


@given(st.integers(min_value=0, max_value=3600))
def test_duplicates_are_those_inside_the_window(seconds_ago):
    last = T0 - timedelta(seconds=seconds_ago)
    assert rules.is_duplicate(last, T0) == (seconds_ago < rules.DEDUPE_WINDOW.total_seconds())
    assert not rules.is_duplicate(None, T0)


@given(st.integers(min_value=0, max_value=50))
def test_the_rate_limit(sent):
    assert rules.over_rate_limit(sent) == (sent >= rules.RATE_LIMIT)


@given(st.text(min_size=1), st.binary())
def test_the_signature_is_hmac_sha256_of_the_body(secret, body):
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert rules.sign(secret, body) == f"sha256={expected}"


def test_subjects():
    assert rules.subject_of("n1", "s1") == "number:n1"
    assert rules.subject_of(None, "s1") == "server:s1"
    assert rules.subject_of(None, None) == "tenant"


def test_webhook_urls():
    for good in ("https://hooks.example.com/mirage", "http://127.0.0.1:8080/x?y=1", "http://[::1]:9000/"):
        assert rules.check_webhook_url(good) is None, good
    for bad in ("", "ftp://x.com", "https://", "https://exa mple.com", "javascript:alert(1)", "x" * 600):
        assert rules.check_webhook_url(bad) == rules.FieldError("url", "alerts.url_invalid"), bad


@given(st.integers())
def test_ports(port):
    assert (rules.check_port(port) is None) == (1 <= port <= 65535)


def test_ports_that_are_not_numbers():
    assert rules.check_port("smtp") == rules.FieldError("port", "alerts.port_invalid")


def test_recipients():
    assert rules.recipients(" a@b.co;c@d.co\ne@f.co ,") == ["a@b.co", "c@d.co", "e@f.co"]
    assert rules.check_recipients("a@b.co, c@d.co") is None
    assert rules.check_recipients("") == rules.FieldError("to", "alerts.recipients_invalid")
    assert rules.check_recipients("a@b.co, nope") == rules.FieldError("to", "alerts.email_invalid")
    many = ", ".join(f"u{i}@x.co" for i in range(rules.MAX_RECIPIENTS + 1))
    assert rules.check_recipients(many) == rules.FieldError("to", "alerts.recipients_invalid")
