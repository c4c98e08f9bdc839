"""How moments, days and counts read: in the tenant's zone and the page's language, whatever the hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.i18n import EN, PT_BR, formats

SAO_PAULO = "America/Sao_Paulo"
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


def test_the_issue_example_reads_in_local_time():
    """21:28 in São Paulo is 00:28 UTC of the next day: the screen says 21:28 on the 5th."""
    at = datetime(2026, 12, 6, 0, 28, tzinfo=UTC)
    assert formats.stamp(at, SAO_PAULO, "pt-BR") == "5 dez 21:28"
    assert formats.stamp(at, SAO_PAULO, "en") == "Dec 5 21:28"
    assert formats.day(date(2026, 11, 29), "pt-BR") == "29 nov"
    assert formats.day(date(2026, 11, 29), "en", year=True) == "Nov 29, 2026"


def test_today_and_yesterday_read_short():
    now = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
    assert formats.stamp(now - timedelta(hours=1), SAO_PAULO, "pt-BR", now=now) == "11:00"
    assert formats.stamp(now - timedelta(days=1), SAO_PAULO, "pt-BR", now=now) == "ontem 12:00"
    assert formats.stamp(now - timedelta(days=1), SAO_PAULO, "en", now=now) == "yesterday 12:00"


@given(moments, st.sampled_from([SAO_PAULO, "Asia/Kolkata", "UTC", "Etc/GMT-14", "not/a zone"]))
def test_a_stamp_is_the_local_wall_clock(when, zone):
    local = formats.local(when, zone)
    assert formats.clock(when, zone) == f"{local.hour:02d}:{local.minute:02d}"
    assert formats.stamp(when, zone, "pt-BR").endswith(formats.clock(when, zone))
    assert formats.iso_local(when, zone).startswith(local.strftime("%Y-%m-%dT%H:%M"))


@given(moments)
def test_the_zone_label_names_the_offset(when):
    label = formats.zone_label(SAO_PAULO, when)
    assert label.startswith("America/Sao_Paulo (UTC−0")


def test_nothing_reads_as_dash():
    assert formats.stamp(None, SAO_PAULO, "en") == formats.DASH
    assert formats.day(None, "en") == formats.DASH
    assert formats.iso_local(None, SAO_PAULO) == ""


@given(st.integers(min_value=0, max_value=10_000))
def test_counts_agree_in_number(n):
    tr = {"x.one": "{n} número", "x.other": "{n} números"}
    assert formats.count(tr, "x", n) == (f"{n} número" if n == 1 else f"{n} números")


def test_an_unknown_enum_value_never_leaks():
    assert formats.label(PT_BR, "status", "connected") == PT_BR["status.connected"]
    assert formats.label(EN, "status", "server_ack_unknown") == formats.DASH
    assert formats.label(EN, "status", None) == formats.DASH
