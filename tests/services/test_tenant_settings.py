"""Tenant defaults: validation, and raising a safety limit needs an admin with MFA."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mirage_app.base.errors import PermissionDenied, ValidationFailed
from mirage_app.base.permissions import Actor
from mirage_app.core.db import tenant_session
from mirage_app.models import UserRole
from mirage_app.services import tenant_settings
from mirage_app.services.tenant_settings import safety_raises


def _admin(tenant, mfa):
    return Actor(tenant_id=tenant, role=UserRole.admin, label="a@test", mfa_enabled=mfa)


def test_defaults_follow_the_practices_reference(admin_actor):
    view = tenant_settings.get_settings(admin_actor)
    assert (view.quiet_start, view.quiet_end, view.quiet_hours_enabled) == ("22:00", "08:00", True)
    assert (view.min_delay_s, view.max_delay_s, view.humanize) == (15, 180, True)
    assert view.warmup["first_week_cap"] <= 50 and view.warmup["day1"] <= 20
    assert view.timezone == "America/Sao_Paulo"


def test_making_things_safer_needs_only_the_admin_role(tenant_a):
    admin = _admin(tenant_a, mfa=False)
    view = tenant_settings.update_settings(
        admin, hourly_burst_limit=10, min_delay_s=30, max_delay_s=240, quiet_start="21:00",
        warmup={"day1": 10, "first_week_cap": 30}, timezone="America/Manaus", locale="en",
    )  # fmt: skip
    assert view.hourly_burst_limit == 10 and view.quiet_start == "21:00" and view.warmup["day1"] == 10
    assert view.timezone == "America/Manaus" and view.locale == "en"
    with tenant_session(tenant_a) as s:
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'settings.update'")).scalar() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"hourly_burst_limit": 50},
        {"min_delay_s": 5},
        {"max_delay_s": 60},
        {"humanize": False},
        {"quiet_hours_enabled": False},
        {"quiet_start": "23:30"},
        {"warmup": {"first_week_cap": 80}},
        {"warmup": {"settle_hours_after_pairing": 1}},
    ],
)
def test_raising_a_safety_limit_needs_mfa(tenant_a, change):
    with pytest.raises(PermissionDenied) as err:
        tenant_settings.update_settings(_admin(tenant_a, mfa=False), **change)
    assert err.value.reason == "mfa_required"
    assert tenant_settings.get_settings(_admin(tenant_a, False)).humanize is True  # unchanged
    tenant_settings.update_settings(_admin(tenant_a, mfa=True), **change)


def test_retention_periods_are_tenant_settings(admin_actor):
    view = tenant_settings.get_settings(admin_actor)
    assert (view.webhook_retention_days, view.body_retention_days) == (30, 365)
    view = tenant_settings.update_settings(admin_actor, webhook_retention_days="8", body_retention_days=3650)
    assert (view.webhook_retention_days, view.body_retention_days) == (8, 3650)


def test_operators_cannot_change_tenant_settings(tenant_a):
    with pytest.raises(PermissionDenied):
        tenant_settings.update_settings(Actor(tenant_id=tenant_a, role=UserRole.operator, label="o"), min_delay_s=20)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_delay_s": -1}, "min_delay_s"),
        ({"min_delay_s": 200, "max_delay_s": 100}, "min_delay_s"),
        ({"hourly_burst_limit": 0}, "hourly_burst_limit"),
        ({"hourly_burst_limit": 2.5}, "hourly_burst_limit"),
        ({"quiet_start": "25:00"}, "quiet_start"),
        ({"humanize": "yes"}, "humanize"),
        ({"warmup": {"growth": 0.5}}, "warmup"),
        ({"warmup": {"bogus": 1}}, "warmup"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"locale": "de"}, "locale"),
        ({"colour": "blue"}, "colour"),
        ({"webhook_retention_days": 7}, "webhook_retention_days"),  # reputation reads a week of them
        ({"webhook_retention_days": 91}, "webhook_retention_days"),
        ({"body_retention_days": 6}, "body_retention_days"),
        ({"body_retention_days": "30.5"}, "body_retention_days"),
    ],
)
def test_validation(admin_actor, change, field):
    with pytest.raises(ValidationFailed) as err:
        tenant_settings.update_settings(admin_actor, **change)
    assert err.value.field == field


def test_safety_raises():
    base = {"hourly_burst_limit": 20, "min_delay_s": 15, "max_delay_s": 180, "humanize": True,
            "quiet_start": "22:00", "quiet_end": "08:00", "warmup": {"day1": 20, "growth": 1.5}}  # fmt: skip
    assert safety_raises(base, {"hourly_burst_limit": 10, "min_delay_s": 30}) == []
    assert safety_raises(base, {"quiet_start": "21:00", "quiet_end": "09:00"}) == []
    assert safety_raises(base, {"quiet_start": "00:00", "quiet_end": "00:00"}) == ["quiet_hours"]
    assert safety_raises(base, {"warmup": {"day1": 30, "growth": 1.2}}) == ["warmup.day1"]


def test_each_new_time_zone_queues_one_rollup_rebuild(tenant_a):
    """The rebuild reads the zone when it runs: one job per tenant and zone while queued, so going back to a zone
    whose rebuild still waits adds none, and a zone saved while another's rebuild runs still gets its own."""
    from mirage_app.core.redis import queue

    admin = _admin(tenant_a, mfa=False)
    low = queue("low")
    before = low.count
    tenant_settings.update_settings(admin, timezone="America/Manaus")
    tenant_settings.update_settings(admin, timezone="America/Recife")
    tenant_settings.update_settings(admin, timezone="America/Manaus")
    assert low.count == before + 2
    assert len([j for j in low.job_ids if j.startswith(f"rebuild-metric-rollups-{tenant_a}-")]) == 2
