"""/metrics' action mix (services.action_mix): what each number sent by kind, per day of the tenant's calendar and
per number, sent messages only, under the page's filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import ValidationFailed
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.services.action_mix import action_mix
from mirage_app.services.metrics import MetricsFilter
from tests.conftest import make_numbers

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def _sent(tenant, a, b, kind, at, status="read", n=1):
    with tenant_session(tenant) as s:
        for _ in range(n):
            s.execute(
                text(
                    "INSERT INTO messages (tenant_id, from_number_id, to_number_id, body, kind, direction, status, "
                    "created_at) VALUES (:t, :a, :b, 'x', CAST(:k AS message_kind), 'out', "
                    "CAST(:st AS message_status), :at)"
                ),
                {"t": tenant, "a": a, "b": b, "k": kind, "st": status, "at": at},
            )
        s.commit()


def test_the_mix_per_day_and_per_number(admin_actor):
    tenant = admin_actor.tenant_id
    a, b = make_numbers(tenant, 2, prefix="Mix")
    _sent(tenant, a, b, "text", NOW - timedelta(hours=1), n=3)
    _sent(tenant, a, b, "voice", NOW - timedelta(hours=2))
    _sent(tenant, b, a, "reaction", NOW - timedelta(days=1), n=2)
    _sent(tenant, b, a, "sticker", NOW - timedelta(days=2))
    _sent(tenant, a, b, "image", NOW - timedelta(hours=1), status="queued")  # not sent: counts nowhere
    _sent(tenant, a, b, "image", NOW - timedelta(hours=1), status="failed")
    _sent(tenant, a, b, "text", NOW - timedelta(days=9))  # before the period

    mix = action_mix(admin_actor, MetricsFilter(7), FrozenClock(NOW))
    assert len(mix.days) == 7 and mix.days[-1] == "2026-12-06"
    assert set(mix.per_day) == {"text", "voice", "reaction", "sticker"}
    assert mix.per_day["text"][-1] == 3 and mix.per_day["voice"][-1] == 1
    assert mix.per_day["reaction"][-2] == 2 and mix.per_day["sticker"][-3] == 1
    assert mix.numbers == ["Mix0", "Mix1"]  # the busiest first
    assert mix.per_number["text"] == [3, 0] and mix.per_number["reaction"] == [0, 2]

    only_b = action_mix(admin_actor, MetricsFilter(7, number_id=str(b)), FrozenClock(NOW))
    assert only_b.numbers == ["Mix1"] and set(only_b.per_day) == {"reaction", "sticker"}


def test_bad_filters_are_refused(admin_actor):
    with pytest.raises(ValidationFailed):
        action_mix(admin_actor, MetricsFilter(9))
    with pytest.raises(ValidationFailed) as refused:
        action_mix(admin_actor, MetricsFilter(7, number_id="nope"))
    assert refused.value.field == "number_id"
