"""logic.retention: the cutoff is a UTC day start, `days` to `days`+1 back, the same bound partitions drop by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic import retention

instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
zones = st.sampled_from([UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=9, minutes=30))])


@given(instants, st.integers(retention.BODY_DAYS_MIN, retention.BODY_DAYS_MAX), zones)
def test_cutoff_keeps_between_days_and_one_day_more(now, days, zone):
    cut = retention.cutoff(now.astimezone(zone), days)
    assert cut.tzinfo == UTC and (cut.hour, cut.minute, cut.second, cut.microsecond) == (0, 0, 0, 0)
    assert timedelta(days=days) <= now - cut < timedelta(days=days + 1)


@given(instants, zones)
def test_partition_start_is_the_utc_day(now, zone):
    assert retention.partition_start(now.astimezone(zone)) == now.date()


def test_bounds_leave_reputation_its_week_of_connection_events():
    from mirage_app.logic.reputation import WEEK_DAYS

    assert retention.WEBHOOK_DAYS_MIN > WEEK_DAYS
    assert retention.WEBHOOK_DAYS_MIN <= retention.WEBHOOK_DAYS_DEFAULT <= retention.WEBHOOK_DAYS_MAX
    assert retention.BODY_DAYS_MIN <= retention.BODY_DAYS_DEFAULT <= retention.BODY_DAYS_MAX
