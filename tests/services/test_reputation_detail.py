"""A number's reputation detail as its dialog reads it: history oldest first, the band and cooldown, the signals
that moved it most; readable by a viewer, another tenant's number not found (row-level security)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mirage_app.base.errors import NotFound
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.engine import reputation
from mirage_app.engine.runtime import EngineRuntime, use_runtime
from mirage_app.models import Number, NumberStatus, UserRole
from mirage_app.services import reputation as reputation_view

NOW = datetime(2031, 3, 3, 15, tzinfo=UTC)


def _number(tenant_id, paired_days_ago: int) -> uuid.UUID:
    with tenant_session(tenant_id) as s:
        n = Number(tenant_id=tenant_id, session_id=f"rep-{uuid.uuid4().hex[:8]}", label="Rep",
                   status=NumberStatus.connected, paired_at=NOW - timedelta(days=paired_days_ago))  # fmt: skip
        s.add(n)
        s.commit()
        return n.id


def test_detail_shows_history_band_and_what_moved_it(admin_actor, tenant_b):
    clock = FrozenClock(NOW)
    number_id = _number(admin_actor.tenant_id, paired_days_ago=0)
    with use_runtime(EngineRuntime(clock=clock)):
        for day in range(3):
            clock.set(NOW + timedelta(days=day * 15))
            with tenant_session(admin_actor.tenant_id) as s:
                reputation.recompute(s, admin_actor.tenant_id, [number_id], clock.now())
                s.commit()
    viewer = replace(admin_actor, role=UserRole.viewer, mfa_enabled=False)
    detail = reputation_view.detail(viewer, number_id, clock=clock)
    assert [p.at for p in detail.history] == sorted(p.at for p in detail.history) and len(detail.history) >= 2
    assert detail.history[0].band == "cold" and detail.band == detail.history[-1].band
    assert detail.score == detail.history[-1].score > detail.history[0].score  # it aged
    assert detail.top_signals[0]["signal"] == "age" and len(detail.top_signals) <= 3

    other = replace(admin_actor, tenant_id=tenant_b)
    with pytest.raises(NotFound):
        reputation_view.detail(other, number_id)
