"""Demo data over the simulator, then every metrics chart reads it back from the materialized views."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from mirage_app.base.errors import Conflict, ValidationFailed
from mirage_app.services import media_library, metrics, outreach
from mirage_app.services.demo_data import load_demo_data


def test_demo_data_feeds_every_chart(simulator, admin_actor):
    steps = []
    result = load_demo_data(admin_actor, progress=lambda pct, label: steps.append(pct))
    assert steps[-1] == 100 and steps == sorted(steps)
    assert result.numbers == 3 and result.messages > 200
    starter = media_library.list_assets(admin_actor, tag="demo")  # 4 pictures, 4 stickers, 2 voice notes
    assert sorted(v.kind for v in starter) == ["image"] * 4 + ["sticker"] * 4 + ["voice"] * 2
    # The loader says which settings it changed (demo mode only), and the demo policy passes its own form's rules.
    assert result.changed_settings == [
        "demo.changed.settle_hours_after_pairing",
        "demo.changed.settle_hours_after_repair",
    ]
    (policy,) = outreach.list_policies(admin_actor)
    assert outreach.validate_policy(asdict(policy))["optout_keywords"] == policy.optout_keywords != []

    week = metrics.dashboard(admin_actor, metrics.MetricsFilter(period_days=7))
    month = metrics.dashboard(admin_actor, metrics.MetricsFilter(period_days=30))
    assert len(week.days) == 7 and len(month.days) == 30
    assert sum(month.sent_per_day) > sum(week.sent_per_day) > 0
    assert sum(week.received_per_day) > 0
    assert len(month.numbers) == 3 and all(v is not None for v in month.latency_per_number)
    assert sum(map(sum, month.heatmap)) == sum(month.sent_per_day)  # each message once: by the number that sent it
    assert month.topics and month.topics[0][1] >= month.topics[-1][1]
    assert month.totals["optouts"] == 1

    numbers, conversations = metrics.filter_choices(admin_actor)
    one = metrics.dashboard(admin_actor, metrics.MetricsFilter(period_days=30, number_id=numbers[0][0]))
    assert 0 < sum(one.sent_per_day) < sum(month.sent_per_day)
    conv = metrics.dashboard(admin_actor, metrics.MetricsFilter(period_days=30, conversation_id=conversations[0][0]))
    # Its warming messages are sent by one participant and received by the other (contact replies are not in it).
    assert sum(conv.received_per_day) == sum(conv.sent_per_day) > 0

    with pytest.raises(ValidationFailed):
        metrics.dashboard(admin_actor, metrics.MetricsFilter(period_days=9))
    with pytest.raises(Conflict):
        load_demo_data(admin_actor)
