"""Outreach policies: which number writes to contacts, as which persona, how much and when. Commands for the
`/outreach` pages and `/api/outreach/policies`.

Outreach is off until a policy is activated; the engine then writes (`engine.outreach_scheduler` sends openers,
`engine.outreach_exchange` answers). Policy caps (daily per tenant-local day, hourly rolling, minimum gap) count
every outreach message the number sends (`engine.outreach_sends`), and are enforced at the send claim with the
database as the source of truth.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.outreach_sends import sent_counts
from mirage_app.logic.dayparts import DAYPARTS, WEEKDAYS
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, fold
from mirage_app.models import Number, OutreachPolicy, Persona
from mirage_app.services.instances import get_number
from mirage_app.services.outreach.common import TARGET_STATUSES, parse_id

# Policy bounds. Above the "safe" limits (the first-week ceiling of peers-and-practices §5.2) only an admin with
# MFA may go (Action.settings_safety_limits_raise); above the hard maxima nobody may.
SAFE_DAILY_LIMIT = 50
SAFE_HOURLY_LIMIT = 10
MAX_DAILY_LIMIT = 500
MAX_HOURLY_LIMIT = 60
MAX_ROUNDS = 20
MAX_GAP_MINUTES = 24 * 60
MAX_KEYWORDS = 30
MAX_KEYWORD_LENGTH = 40

POLICY_DEFAULTS: dict[str, Any] = {
    "daily_limit": 20,
    "hourly_limit": 5,
    "max_rounds_per_contact": 3,
    "min_gap_minutes": 10,
    "dayparts": list(DAYPARTS),
    "allow_days": [],
    "active": False,
}
POLICY_FIELDS = (
    "number_id",
    "persona_id",
    "daily_limit",
    "hourly_limit",
    "max_rounds_per_contact",
    "min_gap_minutes",
    "dayparts",
    "allow_days",
    "optout_keywords",
    "active",
)


@dataclass(frozen=True)
class PolicyView:
    id: uuid.UUID
    number_id: uuid.UUID
    number_label: str
    number_wa: str | None
    number_status: str
    persona_id: uuid.UUID | None
    persona_name: str | None
    daily_limit: int
    hourly_limit: int
    max_rounds_per_contact: int
    min_gap_minutes: int
    dayparts: list[str]
    allow_days: list[str]
    optout_keywords: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime | None
    targets: dict[str, int]  # status → count
    sent_today: int
    sent_last_hour: int
    number_persona_name: str | None = None  # who writes when the policy names no persona (the number's own)


# -- validation -------------------------------------------------------------------------------------------------


def _int(value: Any, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or value is None:
        raise ValidationFailed("outreach.limit_invalid", field=field_name, min=low, max=high)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationFailed("outreach.limit_invalid", field=field_name, min=low, max=high)
        value = int(value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("outreach.limit_invalid", field=field_name, min=low, max=high) from None
    if not low <= number <= high:
        raise ValidationFailed("outreach.limit_invalid", field=field_name, min=low, max=high)
    return number


def _codes(value: Any, allowed: tuple[str, ...], field_name: str, code: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValidationFailed(code, field=field_name)
    wanted = set()
    for item in value:
        if not isinstance(item, str) or item.strip().lower() not in allowed:
            raise ValidationFailed(code, field=field_name)
        wanted.add(item.strip().lower())
    return [c for c in allowed if c in wanted]  # canonical order


def clean_keywords(value: Any) -> list[str]:
    if value is None:
        return list(DEFAULT_OPTOUT_KEYWORDS)
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",")]
    if not isinstance(value, list | tuple):
        raise ValidationFailed("outreach.keywords_invalid", field="optout_keywords")
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValidationFailed("outreach.keywords_invalid", field="optout_keywords")
        word = " ".join(item.split())
        if not word:
            continue
        if len(word) > MAX_KEYWORD_LENGTH or not fold(word):
            raise ValidationFailed("outreach.keywords_invalid", field="optout_keywords")
        key = fold(word)
        if key not in seen:
            seen.add(key)
            out.append(word.upper())
    if not out:
        raise ValidationFailed("outreach.keywords_required", field="optout_keywords")
    if len(out) > MAX_KEYWORDS:
        raise ValidationFailed("outreach.keywords_invalid", field="optout_keywords")
    return out


def validate_policy(data: dict[str, Any]) -> dict[str, Any]:
    """Check a complete set of policy values; returns them cleaned. ValidationFailed names the field at fault."""
    out = dict(data)
    out["daily_limit"] = _int(data.get("daily_limit"), "daily_limit", 0, MAX_DAILY_LIMIT)
    out["hourly_limit"] = _int(data.get("hourly_limit"), "hourly_limit", 0, MAX_HOURLY_LIMIT)
    if out["hourly_limit"] > out["daily_limit"]:
        raise ValidationFailed("outreach.hourly_above_daily", field="hourly_limit")
    out["max_rounds_per_contact"] = _int(data.get("max_rounds_per_contact"), "max_rounds_per_contact", 1, MAX_ROUNDS)
    out["min_gap_minutes"] = _int(data.get("min_gap_minutes"), "min_gap_minutes", 0, MAX_GAP_MINUTES)
    out["dayparts"] = _codes(data.get("dayparts"), DAYPARTS, "dayparts", "outreach.dayparts_invalid")
    if not out["dayparts"]:
        raise ValidationFailed("outreach.dayparts_required", field="dayparts")
    out["allow_days"] = _codes(data.get("allow_days"), WEEKDAYS, "allow_days", "outreach.days_invalid")
    if len(out["allow_days"]) == len(WEEKDAYS):
        out["allow_days"] = []  # every day
    out["optout_keywords"] = clean_keywords(data.get("optout_keywords"))
    if not isinstance(data.get("active", False), bool):
        raise ValidationFailed("outreach.active_invalid", field="active")
    return out


def _reject_unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("outreach.field_unknown", field=name, name=name)


def _check_safety(actor: Actor, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Going above the safe limits (or raising limits that already are) needs admin + MFA."""
    for key, safe in (("daily_limit", SAFE_DAILY_LIMIT), ("hourly_limit", SAFE_HOURLY_LIMIT)):
        raised = after[key] > safe and (before is None or after[key] > before[key])
        if raised:
            authorize(actor, Action.settings_safety_limits_raise)


def _check_refs(s, data: dict[str, Any]) -> None:
    # another tenant's number is invisible (RLS): 404; an archived one sends no more: 409
    data["number_id"] = get_number(s, data.get("number_id"), field="number_id").id
    if data.get("persona_id") is not None:
        persona_id = parse_id(data["persona_id"], "outreach.persona_not_found", "persona_id")
        if s.get(Persona, persona_id) is None:
            raise NotFound("outreach.persona_not_found", field="persona_id")
        data["persona_id"] = persona_id


# -- commands ---------------------------------------------------------------------------------------------------

_POLICY_VIEW_SQL = """
    SELECT p.*, n.label AS number_label, n.wa_number AS number_wa, n.status::text AS number_status,
           pe.name AS persona_name, np.name AS number_persona_name,
           (SELECT json_object_agg(x.status, x.n) FROM (
                SELECT t.status::text AS status, count(*) AS n FROM outreach_targets t WHERE t.policy_id = p.id
                GROUP BY t.status) x) AS target_counts
    FROM outreach_policies p
    JOIN numbers n ON n.id = p.number_id
    LEFT JOIN personas pe ON pe.id = p.persona_id
    LEFT JOIN personas np ON np.id = n.persona_id
    WHERE p.archived_at IS NULL
"""


def _policy_views(s, condition: str = "", params: dict[str, Any] | None = None, clock: Clock = system_clock):
    rows = s.execute(text(f"{_POLICY_VIEW_SQL} {condition} ORDER BY p.created_at, p.id"), params or {}).all()
    if not rows:
        return []
    tz = s.execute(text("SELECT timezone FROM tenants")).scalar() or "America/Sao_Paulo"
    sent = sent_counts(s, list({r.number_id for r in rows}), clock.now(), tz)
    views = []
    for r in rows:
        counts = {status: 0 for status in TARGET_STATUSES}
        counts.update({k: int(v) for k, v in (r.target_counts or {}).items()})
        usage = sent.get(r.number_id)
        views.append(
            PolicyView(
                id=r.id,
                number_id=r.number_id,
                number_label=r.number_label,
                number_wa=r.number_wa,
                number_status=r.number_status,
                persona_id=r.persona_id,
                persona_name=r.persona_name,
                number_persona_name=r.number_persona_name,
                daily_limit=r.daily_limit,
                hourly_limit=r.hourly_limit,
                max_rounds_per_contact=r.max_rounds_per_contact,
                min_gap_minutes=r.min_gap_minutes,
                dayparts=list(r.dayparts or []),
                allow_days=list(r.allow_days or []),
                optout_keywords=list(r.optout_keywords or []),
                active=r.active,
                created_at=r.created_at,
                updated_at=r.updated_at,
                targets=counts,
                sent_today=usage.today if usage else 0,
                sent_last_hour=usage.last_hour if usage else 0,
            )
        )
    return views


def find_policy(s, policy_id: uuid.UUID | str, *, lock: bool = False) -> OutreachPolicy:
    """The policy to change (or whose queue changes); an archived one is history: `outreach.policy_archived`."""
    pid = parse_id(policy_id, "outreach.policy_not_found")
    statement = select(OutreachPolicy).where(OutreachPolicy.id == pid)
    if lock:
        statement = statement.with_for_update()
    policy = s.exec(statement).first()
    if policy is None:
        raise NotFound("outreach.policy_not_found")
    if policy.archived_at is not None:
        raise Conflict("outreach.policy_archived")
    return policy


def _policy_snapshot(p: OutreachPolicy) -> dict[str, Any]:
    return {k: getattr(p, k) for k in POLICY_FIELDS}


def list_policies(actor: Actor, *, clock: Clock = system_clock) -> list[PolicyView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _policy_views(s, clock=clock)


def get_policy(actor: Actor, policy_id: uuid.UUID | str, *, clock: Clock = system_clock) -> PolicyView:
    authorize(actor, Action.data_read)
    pid = parse_id(policy_id, "outreach.policy_not_found")
    with tenant_session(actor.tenant_id) as s:
        views = _policy_views(s, "AND p.id = :id", {"id": pid}, clock=clock)
    if not views:
        raise NotFound("outreach.policy_not_found")
    return views[0]


def create_policy(
    actor: Actor, *, number_id: uuid.UUID | str, clock: Clock = system_clock, **fields: Any
) -> PolicyView:
    """Create a policy. Only `number_id` is required; other values default to POLICY_DEFAULTS (inactive: outreach
    stays off until the policy is activated) and the default opt-out keywords."""
    authorize(actor, Action.outreach_manage)
    _reject_unknown(fields)
    data = {**POLICY_DEFAULTS, "optout_keywords": None, "persona_id": None}
    data.update({k: v for k, v in fields.items() if not (v is None and k in POLICY_DEFAULTS)})
    data["number_id"] = number_id
    data = validate_policy(data)
    _check_safety(actor, None, data)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        _check_refs(s, data)
        policy = OutreachPolicy(tenant_id=actor.tenant_id, created_at=now, **{k: data[k] for k in POLICY_FIELDS})
        s.add(policy)
        s.flush()
        audit.record(s, actor, "outreach.policy_create", "outreach_policy", policy.id, after=_policy_snapshot(policy),
                     clock=clock)  # fmt: skip
        s.commit()
        policy_id = policy.id
    return get_policy(actor, policy_id, clock=clock)


def update_policy(
    actor: Actor, policy_id: uuid.UUID | str, *, clock: Clock = system_clock, **changes: Any
) -> PolicyView:
    """Change any policy values (PATCH semantics: only the given keys); the result is validated as a whole
    (e.g. a lower daily limit below the current hourly one is refused on `hourly_limit`)."""
    authorize(actor, Action.outreach_manage)
    _reject_unknown(changes)
    with tenant_session(actor.tenant_id) as s:
        policy = find_policy(s, policy_id, lock=True)
        before = _policy_snapshot(policy)
        data = {**before, **changes}
        if "optout_keywords" in changes and changes["optout_keywords"] is None:
            data["optout_keywords"] = None  # explicit null → back to the defaults
        data = validate_policy(data)
        _check_safety(actor, before, data)
        _check_refs(s, data)
        for key in POLICY_FIELDS:
            setattr(policy, key, data[key])
        policy.updated_at = clock.now()
        s.add(policy)
        after = _policy_snapshot(policy)
        action = "outreach.policy_update"
        if before["active"] != after["active"]:
            action = "outreach.policy_activate" if after["active"] else "outreach.policy_deactivate"
        audit.record(s, actor, action, "outreach_policy", policy.id, before, after, clock=clock)
        s.commit()
    return get_policy(actor, policy_id, clock=clock)


def activate_policy(actor: Actor, policy_id: uuid.UUID | str, *, clock: Clock = system_clock) -> PolicyView:
    return update_policy(actor, policy_id, active=True, clock=clock)


def deactivate_policy(actor: Actor, policy_id: uuid.UUID | str, *, clock: Clock = system_clock) -> PolicyView:
    """Stop the policy now: nothing more is sent under it, including sends already queued."""
    return update_policy(actor, policy_id, active=False, clock=clock)


def _history(s, policy: OutreachPolicy) -> tuple[int, int]:
    """(targets, messages already written under the policy)."""
    row = s.execute(
        text(
            "SELECT (SELECT count(*) FROM outreach_targets WHERE policy_id = :p) AS targets, "
            "(SELECT count(*) FROM messages m WHERE m.outreach_target_id IN "
            " (SELECT id FROM outreach_targets WHERE policy_id = :p)) AS messages"
        ),
        {"p": policy.id},
    ).one()
    return int(row.targets), int(row.messages)


def _policy_impact(s, policy: OutreachPolicy) -> Impact:
    """Outreach stops at once. A policy that already wrote to contacts is archived (its targets and messages stay
    readable); one that never did is deleted with its queue."""
    label = s.get(Number, policy.number_id).label
    targets, messages = _history(s, policy)
    if messages:
        return Impact(
            label,
            (Dependent("queue", str(targets), Effect.kept), Dependent("message", str(messages), Effect.kept)),
            archive=True,
        )
    return Impact(label, (Dependent("queue", str(targets), Effect.deleted),) if targets else ())


def policy_impact(actor: Actor, policy_id: uuid.UUID | str) -> Impact:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _policy_impact(s, find_policy(s, policy_id))


def delete_policy(actor: Actor, policy_id: uuid.UUID | str, *, clock: Clock = system_clock) -> Impact:
    """Stop a policy and remove it from the lists: archived (kept, inactive) when it already wrote to contacts,
    else deleted with its targets (queued sends under it are refused by the send guard). Returns what was done."""
    authorize(actor, Action.outreach_manage)
    with tenant_session(actor.tenant_id) as s:
        policy = find_policy(s, policy_id, lock=True)
        impact = _policy_impact(s, policy)
        before = _policy_snapshot(policy)
        if impact.archive:
            policy.active, policy.archived_at = False, clock.now()
            s.add(policy)
            audit.record(s, actor, "outreach.policy_archive", "outreach_policy", policy.id, before,
                         _policy_snapshot(policy), clock=clock)  # fmt: skip
        else:
            s.delete(policy)
            audit.record(s, actor, "outreach.policy_delete", "outreach_policy", policy.id, before=before, clock=clock)
        s.commit()
    return impact
