"""Restrictions and the monthly allowance as services: who may change what, bad input, and what the audit keeps."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mirage_app.base.errors import NotFound, PermissionDenied, ValidationFailed
from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.models import UserRole
from mirage_app.services import restrictions
from tests.conftest import make_number
from workers.scheduler import PERIODIC_JOBS


@pytest.fixture
def now() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 10, 15, 0, tzinfo=UTC))


def test_the_allowance_is_lowered_by_admins_and_raised_only_with_two_factor(admin_actor, now):
    assert restrictions.get_allowance(admin_actor, now).allowance == 200
    assert restrictions.set_allowance(admin_actor, "50", now).allowance == 50
    without_mfa = dataclasses.replace(admin_actor, mfa_enabled=False)
    restrictions.set_allowance(without_mfa, 40, now)  # lower: safer
    with pytest.raises(PermissionDenied) as caught:
        restrictions.set_allowance(without_mfa, 400, now)
    assert caught.value.reason == "mfa_required"
    with pytest.raises(PermissionDenied):
        restrictions.set_allowance(dataclasses.replace(admin_actor, role=UserRole.operator), 10, now)
    for bad in ("abc", -1, 1.5, True, "100001"):
        with pytest.raises(ValidationFailed) as invalid:
            restrictions.set_allowance(admin_actor, bad, now)
        assert invalid.value.field == "allowance"
    view = restrictions.get_allowance(admin_actor, now)
    assert (view.allowance, view.left) == (40, 40)
    assert view.month_ends_at == datetime(2026, 4, 1, 3, 0, tzinfo=UTC)  # midnight in São Paulo
    with tenant_session(admin_actor.tenant_id) as s:
        changes = (
            s.execute(
                text(
                    "SELECT after->>'allowance' FROM audit_log WHERE action = 'settings.first_message_allowance' "
                    "ORDER BY at"
                )
            )
            .scalars()
            .all()
        )
    assert sorted(changes) == ["40", "50"]  # same frozen moment: order by value


def test_a_reported_restriction_shows_until_it_ends_and_lifting_it_needs_two_factor(admin_actor, now, monkeypatch):
    told = []
    monkeypatch.setattr(restrictions, "on_restriction", lambda *args: told.append(args))
    number = make_number(admin_actor.tenant_id)
    operator = dataclasses.replace(admin_actor, role=UserRole.operator, mfa_enabled=False)
    with pytest.raises(ValidationFailed):
        restrictions.report_restriction(operator, number, now.now() - timedelta(hours=1), now)
    view = restrictions.report_restriction(operator, number, now.now() + timedelta(days=2), now)
    assert (view.source, view.ends_at_estimated) == ("reported", False)
    assert told == [(admin_actor.tenant_id, number, view.id, view.ends_at)]
    assert restrictions.active_restrictions(operator, now)[number].id == view.id
    later = FrozenClock(view.ends_at)
    assert restrictions.active_restrictions(operator, later) == {}  # over at its end

    with pytest.raises(PermissionDenied):
        restrictions.lift_restriction(operator, view.id, now)
    restrictions.lift_restriction(admin_actor, view.id, now)
    assert restrictions.active_restrictions(admin_actor, now) == {}
    with pytest.raises(NotFound):
        restrictions.lift_restriction(admin_actor, "not-an-id", now)


def test_the_sweep_and_the_probe_are_periodic_jobs():
    names = {job.name: job.func for job in PERIODIC_JOBS}
    assert names["restriction-sweep"] == "workers.jobs.sweep_restrictions"
    assert names["proxy-probe"] == "workers.jobs.probe_proxies"
