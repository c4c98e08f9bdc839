"""One definition of each total: the overview, the number cards and /metrics count the same messages on the same
tenant days, and a warming message between two of the tenant's numbers is sent for one and received for the other."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mirage_app.base.permissions import Actor
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.models import Contact, UserRole
from mirage_app.services import instances, metric_rollups, metrics
from tests.conftest import make_number

TZ = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def clock() -> FrozenClock:
    """Today's tenant-local noon: every offset below lands on a known tenant day, at any hour the suite runs."""
    noon = datetime.now(TZ).replace(hour=12, minute=0, second=0, microsecond=0)
    return FrozenClock(noon.astimezone(UTC))


@pytest.fixture
def actor(tenant_a) -> Actor:
    return Actor(tenant_id=tenant_a, role=UserRole.viewer, label="viewer@test")


def _message(s, tenant, at, status, *, direction="out", frm=None, to=None, contact=None, meta=None) -> None:
    s.execute(
        text(
            "INSERT INTO messages (id, tenant_id, direction, body, status, from_number_id, to_number_id, contact_id, "
            "meta, created_at) VALUES (gen_random_uuid(), :t, CAST(:d AS msg_direction), 'oi', "
            "CAST(:st AS message_status), :f, :to, :c, CAST(:meta AS jsonb), :at)"
        ),
        {"t": tenant, "d": direction, "st": status, "f": frm, "to": to, "c": contact, "meta": json.dumps(meta or {}),
         "at": at},
    )  # fmt: skip


@pytest.fixture
def history(tenant_a, clock):
    """A and B warm each other; a contact talks to A. Returns (A, B)."""
    now = clock.now()
    a, b = make_number(tenant_a, "A"), make_number(tenant_a, "B")
    with tenant_session(tenant_a) as s:
        contact = Contact(tenant_id=tenant_a, wa_number=f"+55219{uuid.uuid4().int % 10**8:08d}", display_name="C")
        s.add(contact)
        s.flush()
        hour = timedelta(hours=1)
        _message(s, tenant_a, now - hour, "delivered", frm=a, to=b, meta={"reply_latency_s": 30})  # today
        _message(s, tenant_a, now - hour, "queued", frm=a, to=b)  # not sent yet: counts nowhere
        _message(s, tenant_a, now - hour, "failed", frm=a, to=b)  # a failure, never "received"
        _message(s, tenant_a, now - 2 * hour, "delivered", direction="in", frm=None, to=a, contact=contact.id)
        _message(s, tenant_a, now - timedelta(days=1), "read", frm=a, contact=contact.id)  # yesterday, to a contact
        _message(s, tenant_a, now - timedelta(days=3), "read", frm=b, to=a)
        _message(s, tenant_a, now - timedelta(days=10), "sent", frm=a, to=b)  # outside the 7 days
        s.commit()
    metric_rollups.advance_all()
    return a, b


def test_overview_cards_and_metrics_agree(actor, clock, history):
    a, b = history
    cards = {v.id: v.activity for v in instances.list_instances(actor, clock)}
    assert cards[a] == metrics.Activity(sent_today=1, received_today=1, sent_week=2, received_week=2)
    assert cards[b] == metrics.Activity(sent_today=0, received_today=1, sent_week=1, received_week=1)

    overview = metrics.tenant_activity(actor, clock)
    assert overview == cards[a] + cards[b]

    week = metrics.dashboard(actor, metrics.MetricsFilter(7), clock)
    assert (week.totals["sent"], week.totals["received"]) == (overview.sent_week, overview.received_week) == (3, 3)
    assert (week.sent_per_day[-1], week.received_per_day[-1]) == (overview.sent_today, overview.received_today)
    assert week.totals["failed"] == 1 and week.totals["failure_rate"] == 25.0
    per_number = dict(zip(week.numbers, zip(week.sent_per_number, week.received_per_number, strict=True), strict=True))
    assert per_number == {"A": (2, 2), "B": (1, 1)}  # A answers B: each is received by the other

    month = metrics.dashboard(actor, metrics.MetricsFilter(30), clock)
    assert (month.totals["sent"], month.totals["received"]) == (4, 4)


def test_a_message_counts_before_any_rollup_step(actor, clock, history, tenant_a):
    a, b = history
    with tenant_session(tenant_a) as s:
        _message(s, tenant_a, clock.now() - timedelta(minutes=5), "server_ack", frm=b, to=a)
        s.commit()
    assert metrics.tenant_activity(actor, clock).sent_today == 2
    assert metrics.dashboard(actor, metrics.MetricsFilter(7), clock).sent_per_day[-1] == 2


def test_pending_changes_and_rollups_give_the_same_figures(actor, clock, tenant_a):
    """The same history read while every change is still pending, then after a rollup step took them all."""
    a, b = make_number(tenant_a, "A"), make_number(tenant_a, "B")
    with tenant_session(tenant_a) as s:
        for days in range(5):
            at = clock.now() - timedelta(days=days, hours=days)
            _message(s, tenant_a, at, "read", frm=a, to=b, meta={"reply_latency_s": 10 + days})
            _message(s, tenant_a, at, "failed", frm=b, to=a)
        s.commit()
    with tenant_session(tenant_a) as s:
        assert s.execute(text("SELECT count(*) FROM message_rollups")).scalar() == 0
    pending = metrics.dashboard(actor, metrics.MetricsFilter(7), clock)
    metric_rollups.advance_all()
    with tenant_session(tenant_a) as s:
        assert s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar() == 0
    rolled = metrics.dashboard(actor, metrics.MetricsFilter(7), clock)
    assert pending == rolled
    assert rolled.totals["sent"] == rolled.totals["received"] == rolled.totals["failed"] == 5
    assert rolled.latency_per_number[rolled.numbers.index("A")] == 12.0
