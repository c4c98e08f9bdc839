"""Tenant defaults for pacing and safety: delays, hourly burst, quiet hours, humanising, bot-to-bot, warm-up.

Changing them needs `settings.tenant` (admin). Making any of them *less safe* — a higher burst or warm-up cap,
shorter delays, shorter or no quiet hours, humanising off, a faster warm-up — needs
`settings.safety_limits_raise` (admin with MFA). `safety_raises(before, after)` says which fields do that; the
conversation overrides (services/conversations.py) use the same rule.
"""

from __future__ import annotations

import hashlib
import uuid
from contextlib import suppress
from dataclasses import asdict, dataclass, fields
from datetime import datetime, time
from typing import Any

from rq.exceptions import DuplicateJobError
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.core.redis import queue
from mirage_app.i18n import LOCALES
from mirage_app.logic import retention
from mirage_app.logic.dayparts import parse_time, zone
from mirage_app.logic.warmup import WarmupPolicy
from mirage_app.models import Tenant, TenantSettings

FIELDS = (
    "min_delay_s",
    "max_delay_s",
    "hourly_burst_limit",
    "quiet_start",
    "quiet_end",
    "quiet_hours_enabled",
    "humanize",
    "allow_bot_to_bot",
    "warmup",
    "timezone",
    "locale",
    "webhook_retention_days",
    "body_retention_days",
)
# Warm-up fields where a higher value is less safe; for the others a lower value is.
_WARMUP_UP_IS_RISKIER = ("day1", "growth", "first_week_cap", "max_daily", "idle_reset_hours")
_WARMUP_DOWN_IS_RISKIER = ("settle_hours_after_pairing", "settle_hours_after_repair")


@dataclass(frozen=True)
class TenantSettingsView:
    timezone: str
    locale: str
    min_delay_s: int
    max_delay_s: int
    hourly_burst_limit: int
    quiet_start: str  # "HH:MM"
    quiet_end: str
    quiet_hours_enabled: bool
    humanize: bool
    allow_bot_to_bot: bool
    warmup: dict  # every WarmupPolicy field, defaults filled in
    updated_at: datetime | None
    # How long raw webhook payloads and message bodies are kept (logic.retention, engine.retention).
    webhook_retention_days: int = retention.WEBHOOK_DAYS_DEFAULT
    body_retention_days: int = retention.BODY_DAYS_DEFAULT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _view(tenant: Tenant, row: TenantSettings) -> TenantSettingsView:
    policy = WarmupPolicy.from_mapping(row.warmup or {})
    return TenantSettingsView(
        timezone=tenant.timezone,
        locale=tenant.locale,
        min_delay_s=row.min_delay_s,
        max_delay_s=row.max_delay_s,
        hourly_burst_limit=row.hourly_burst_limit,
        quiet_start=_hhmm(row.quiet_start),
        quiet_end=_hhmm(row.quiet_end),
        quiet_hours_enabled=row.quiet_start != row.quiet_end,
        humanize=row.humanize,
        allow_bot_to_bot=row.allow_bot_to_bot,
        warmup=asdict(policy),
        updated_at=row.updated_at,
        webhook_retention_days=row.webhook_retention_days,
        body_retention_days=row.body_retention_days,
    )


def settings_row(s, tenant_id: uuid.UUID) -> TenantSettings:
    row = s.exec(select(TenantSettings)).first()
    if row is None:  # tenants made before settings existed
        row = TenantSettings(tenant_id=tenant_id)
        s.add(row)
        s.flush()
    return row


def get_settings(actor: Actor) -> TenantSettingsView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _view(s.get(Tenant, actor.tenant_id), settings_row(s, actor.tenant_id))


def quiet_minutes(start: time, end: time) -> int:
    """Length of a daily quiet period in minutes (0 = off); it may span midnight."""
    a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return (b - a) % (24 * 60)


def safety_raises(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Fields whose new value is less safe than the old one (both dicts use TenantSettingsView's names; a
    missing or None value means "unchanged")."""
    raised = []

    def changed(key: str) -> bool:
        return after.get(key) is not None and before.get(key) is not None and after[key] != before[key]

    if changed("hourly_burst_limit") and after["hourly_burst_limit"] > before["hourly_burst_limit"]:
        raised.append("hourly_burst_limit")
    for key in ("min_delay_s", "max_delay_s"):
        if changed(key) and after[key] < before[key]:
            raised.append(key)
    if changed("humanize") and before["humanize"] and not after["humanize"]:
        raised.append("humanize")
    if "quiet_start" in before and ("quiet_start" in after or "quiet_end" in after):
        old = quiet_minutes(parse_time(before["quiet_start"]), parse_time(before["quiet_end"]))
        new = quiet_minutes(
            parse_time(after.get("quiet_start") or before["quiet_start"]),
            parse_time(after.get("quiet_end") or before["quiet_end"]),
        )
        if new < old:
            raised.append("quiet_hours")
    old_w, new_w = before.get("warmup") or {}, after.get("warmup") or {}
    for key in _WARMUP_UP_IS_RISKIER:
        if key in new_w and key in old_w and new_w[key] > old_w[key]:
            raised.append(f"warmup.{key}")
    for key in _WARMUP_DOWN_IS_RISKIER:
        if key in new_w and key in old_w and new_w[key] < old_w[key]:
            raised.append(f"warmup.{key}")
    return raised


def _int(value: Any, field: str, low: int, high: int, code: str) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(code, field=field, low=low, high=high)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(code, field=field, low=low, high=high) from None
    if number != value and not (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        raise ValidationFailed(code, field=field, low=low, high=high)
    if not low <= number <= high:
        raise ValidationFailed(code, field=field, low=low, high=high)
    return number


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed("settings.bool_invalid", field=field)
    return value


def _time(value: Any, field: str) -> time:
    try:
        return parse_time(value)
    except (ValueError, TypeError):
        raise ValidationFailed("settings.time_invalid", field=field) from None


def validate_warmup(value: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete warm-up policy dict (current values kept for missing keys), or ValidationFailed."""
    if not isinstance(value, dict):
        raise ValidationFailed("settings.warmup_invalid", field="warmup", detail="expected an object")
    merged = {**(current or {}), **value}
    try:
        for key, item in value.items():
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise ValueError(f"{key} must be a number")
        policy = WarmupPolicy.from_mapping(merged)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("settings.warmup_invalid", field="warmup", detail=str(exc)) from None
    known = {f.name for f in fields(WarmupPolicy)}
    return {k: v for k, v in asdict(policy).items() if k in known}


def update_settings(actor: Actor, clock: Clock = system_clock, **changes: Any) -> TenantSettingsView:
    """Change some tenant defaults (only the keys given). See the module docstring for the permissions."""
    authorize(actor, Action.settings_tenant)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("settings.unknown_field", field=name, name=name)
    with tenant_session(actor.tenant_id) as s:
        tenant = s.get(Tenant, actor.tenant_id)
        row = settings_row(s, actor.tenant_id)
        before = _view(tenant, row).as_dict()
        new: dict[str, Any] = {}
        if "min_delay_s" in changes:
            new["min_delay_s"] = _int(changes["min_delay_s"], "min_delay_s", 0, 3600, "settings.delay_invalid")
        if "max_delay_s" in changes:
            new["max_delay_s"] = _int(changes["max_delay_s"], "max_delay_s", 0, 86400, "settings.delay_invalid")
        if new.get("min_delay_s", row.min_delay_s) > new.get("max_delay_s", row.max_delay_s):
            raise ValidationFailed("settings.delay_order", field="min_delay_s")
        if "hourly_burst_limit" in changes:
            new["hourly_burst_limit"] = _int(
                changes["hourly_burst_limit"], "hourly_burst_limit", 1, 1000, "settings.burst_invalid"
            )
        for key, low, high in (
            ("webhook_retention_days", retention.WEBHOOK_DAYS_MIN, retention.WEBHOOK_DAYS_MAX),
            ("body_retention_days", retention.BODY_DAYS_MIN, retention.BODY_DAYS_MAX),
        ):
            if key in changes:
                new[key] = _int(changes[key], key, low, high, "settings.retention_invalid")
        if "quiet_start" in changes:
            new["quiet_start"] = _time(changes["quiet_start"], "quiet_start")
        if "quiet_end" in changes:
            new["quiet_end"] = _time(changes["quiet_end"], "quiet_end")
        if "quiet_hours_enabled" in changes and not _bool(changes["quiet_hours_enabled"], "quiet_hours_enabled"):
            new["quiet_start"] = new["quiet_end"] = time(0, 0)
        for key in ("humanize", "allow_bot_to_bot"):
            if key in changes:
                new[key] = _bool(changes[key], key)
        if "warmup" in changes:
            new["warmup"] = validate_warmup(changes["warmup"], before["warmup"])
        tenant_changes: dict[str, Any] = {}
        if "timezone" in changes:
            try:
                zone(str(changes["timezone"]))
            except ValueError:
                raise ValidationFailed("settings.timezone_invalid", field="timezone") from None
            tenant_changes["timezone"] = str(changes["timezone"])
        if "locale" in changes:
            if changes["locale"] not in LOCALES:
                raise ValidationFailed("settings.locale_invalid", field="locale")
            tenant_changes["locale"] = changes["locale"]

        proposed = {k: (_hhmm(v) if isinstance(v, time) else v) for k, v in new.items()}
        if safety_raises(before, proposed):
            authorize(actor, Action.settings_safety_limits_raise)
        for key, value in new.items():
            setattr(row, key, value)
        row.updated_at = clock.now()
        s.add(row)
        for key, value in tenant_changes.items():
            setattr(tenant, key, value)
        if tenant_changes:
            tenant.updated_at = clock.now()
            s.add(tenant)
        after = _view(tenant, row)
        audit.record(s, actor, "settings.update", "settings_tenant", row.id, before=before, after=after.as_dict())
        s.commit()
        if "timezone" in tenant_changes:
            _replan_all(s, clock)
            # The metric rollups hold tenant-local hours: recomputed in the new zone, in the background. The job
            # reads the zone when it runs, so one job per tenant and zone is enough: saving twice queues one
            # rebuild, and a different zone saved while one runs queues its own.
            zone_key = hashlib.sha256(tenant.timezone.encode()).hexdigest()[:12]
            with suppress(DuplicateJobError):
                queue("low").enqueue(
                    "workers.jobs.rebuild_metric_rollups",
                    str(actor.tenant_id),
                    job_id=f"rebuild-metric-rollups-{actor.tenant_id}-{zone_key}",
                    unique=True,
                    result_ttl=0,  # the id is free again once the rebuild is done
                )
        return after


def _replan_all(s, clock: Clock) -> None:
    """Windows moved with the timezone: let the scheduler look at every active conversation again."""
    from sqlalchemy import text

    s.execute(text("UPDATE conversations SET next_due_at = :now WHERE active"), {"now": clock.now()})
    s.commit()
