"""Outreach: policies (which number writes, how much, when), targets (who, in which order), opt-outs, and the
exchange that follows a contact's reply. Shared by `/outreach/*` pages and `/api/outreach/*`.

Outreach is off until a policy is activated. The periodic tick (`services.outreach_scheduler`) sends openers;
this module handles what comes back:

- `check_optout(tenant, message)`: called by the webhook route right after an inbound contact message is stored
  (and again by the `on_message` job): if the text is an opt-out (the keywords of any of the tenant's policies
  plus the defaults SAIR, PARAR, PARE, STOP, CANCELAR, DESCADASTRAR; case, accents and punctuation folded; the
  whole message or its first word), in ONE transaction: the number goes on the tenant-wide suppression list, the
  contact's consent is revoked (`opted_out_at`), every target of that contact becomes `optout`, queued outreach
  sends to it are cancelled, ONE confirmation message is queued (send key `optout:<suppression id>`, so
  redeliveries and repeated keywords never confirm twice) and an audit entry is written. The send pipeline's
  guard (`services.contact_guard`) then refuses every later send to that number from any number of the tenant.
- `handle_inbound_from_contact(tenant, message)` (the `on_message` job): the opt-out check above, then, if the
  contact has an exchange in progress with the number it wrote to, the next round (follow-up, or closing on the
  last round) in the policy persona's voice, through the humanised send pipeline (read receipt, reading delay,
  typing). One reply per inbound message (send key `outreach-reply:<message id>`); a contact's second message
  while our reply is still queued is answered by that same reply.

Rounds: the opener is round 1; each reply from the contact earns one more message until
`max_rounds_per_contact`; the last one is a closing and the target is then `done`. Policy caps (daily per
tenant-local day, hourly rolling, minimum gap) count every outreach message the number sends (openers and
follow-ups), and are enforced at the send claim with the database as the source of truth.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize, can
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import contact_guard, sending
from mirage_app.engine.effective_settings import effective
from mirage_app.engine.llm import DEFAULT_MODEL, LLMError
from mirage_app.engine.replies import OFFLINE_FALLBACK, Reply
from mirage_app.engine.runtime import EngineRuntime, runtime
from mirage_app.engine.suppression import apply_suppression
from mirage_app.logic.dayparts import DAYPARTS, WEEKDAYS, daypart_at, to_local
from mirage_app.logic.offline_generator import OfflineGenerator
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, confirmation_text, fold, matched_keyword, with_optout_hint
from mirage_app.logic.pacing import plan_send
from mirage_app.logic.phone import InvalidPhone, normalise_e164
from mirage_app.logic.prompts import (
    CLOSING,
    FOLLOW_UP,
    OPENER,
    ContactOptedOut,
    PersonaSpec,
    Turn,
    as_turns,
    build_outreach_messages,
    sanitize_reply,
)
from mirage_app.models import ConsentStatus, Number, OutreachPolicy, OutreachTarget, Persona, TargetStatus

log = logging.getLogger("mirage.outreach")

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
MAX_PRIORITY = 1_000_000
MAX_PAGE = 500
MAX_BULK = 5000
NO_REPLY_AFTER = timedelta(hours=72)  # an exchange with no reply for this long is done
OUTREACH_TEMPERATURE = 0.7

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
TARGET_STATUSES = tuple(s.value for s in TargetStatus)
BULK_ACTIONS = ("pause", "resume", "reset", "remove", "set_priority")
SETTABLE_STATUSES = ("pending", "paused", "done")  # PATCH; optout / in_progress / failed are set by the engine


# -- views ------------------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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

    def as_api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "number_id": str(self.number_id),
            "number_label": self.number_label,
            "number_wa": self.number_wa,
            "number_status": self.number_status,
            "persona_id": str(self.persona_id) if self.persona_id else None,
            "persona_name": self.persona_name,
            "daily_limit": self.daily_limit,
            "hourly_limit": self.hourly_limit,
            "max_rounds_per_contact": self.max_rounds_per_contact,
            "min_gap_minutes": self.min_gap_minutes,
            "dayparts": list(self.dayparts),
            "allow_days": list(self.allow_days),
            "optout_keywords": list(self.optout_keywords),
            "active": self.active,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "targets": dict(self.targets),
            "sent_today": self.sent_today,
            "sent_last_hour": self.sent_last_hour,
        }


@dataclass(frozen=True)
class TargetView:
    id: uuid.UUID
    policy_id: uuid.UUID
    contact_id: uuid.UUID
    wa_number: str
    display_name: str
    consent_status: str
    suppressed: bool
    priority: int
    status: str
    last_contact_at: datetime | None
    rounds_done: int
    max_rounds: int
    last_error: str | None
    number_label: str
    created_at: datetime
    updated_at: datetime | None

    def as_api(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("id", "policy_id", "contact_id"):
            out[key] = str(out[key])
        for key in ("last_contact_at", "created_at", "updated_at"):
            out[key] = _iso(out[key])
        return out


@dataclass(frozen=True)
class TargetPage:
    items: list[TargetView]
    total: int
    limit: int
    offset: int
    counts: dict[str, int]  # status → count for the same policy / search filter (the tabs of the page)


@dataclass
class AddTargetsReport:
    added: int = 0
    already: int = 0  # already a target of this policy (priority updated)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # [{contact_id, wa_number, reason}]
    target_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BulkResult:
    changed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # [{id, reason}]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- policy validation ------------------------------------------------------------------------------------------


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


def _check_safety(actor: Actor, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Going above the safe limits (or raising limits that already are) needs admin + MFA."""
    for key, safe in (("daily_limit", SAFE_DAILY_LIMIT), ("hourly_limit", SAFE_HOURLY_LIMIT)):
        raised = after[key] > safe and (before is None or after[key] > before[key])
        if raised and not can(actor, Action.settings_safety_limits_raise):
            authorize(actor, Action.settings_safety_limits_raise)  # raises the precise PermissionDenied (403)


def _as_uuid(value: Any, code: str, field_name: str | None = None) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise NotFound(code, field=field_name) from None


def _check_refs(s, data: dict[str, Any]) -> None:
    number_id = _as_uuid(data.get("number_id"), "outreach.number_not_found", "number_id")
    if s.get(Number, number_id) is None:  # another tenant's number is invisible (RLS): 404
        raise NotFound("outreach.number_not_found", field="number_id")
    data["number_id"] = number_id
    if data.get("persona_id") is not None:
        persona_id = _as_uuid(data["persona_id"], "outreach.persona_not_found", "persona_id")
        if s.get(Persona, persona_id) is None:
            raise NotFound("outreach.persona_not_found", field="persona_id")
        data["persona_id"] = persona_id


# -- policies ---------------------------------------------------------------------------------------------------

_POLICY_VIEW_SQL = """
    SELECT p.*, n.label AS number_label, n.wa_number AS number_wa, n.status::text AS number_status,
           pe.name AS persona_name,
           (SELECT json_object_agg(x.status, x.n) FROM (
                SELECT t.status::text AS status, count(*) AS n FROM outreach_targets t WHERE t.policy_id = p.id
                GROUP BY t.status) x) AS target_counts
    FROM outreach_policies p
    JOIN numbers n ON n.id = p.number_id
    LEFT JOIN personas pe ON pe.id = p.persona_id
"""

_SENT_COUNTS = text(
    """
    SELECT from_number_id AS number_id,
           count(*) FILTER (WHERE sent_at >= :day_start) AS today,
           count(*) FILTER (WHERE sent_at >= :hour_start) AS last_hour
    FROM messages
    WHERE from_number_id = ANY(:ids) AND direction = 'out' AND (meta->>'app_origin') = 'outreach'
      AND COALESCE(meta->>'kind', '') <> 'optout_confirmation' AND sent_at >= :since
      AND (status <> 'failed' OR error = 'unknown_delivery')
    GROUP BY from_number_id
    """
)


def _policy_views(s, where: str = "", params: dict[str, Any] | None = None, clock: Clock = system_clock):
    rows = s.execute(text(f"{_POLICY_VIEW_SQL} {where} ORDER BY p.created_at, p.id"), params or {}).all()
    if not rows:
        return []
    tz = s.execute(text("SELECT timezone FROM tenants")).scalar() or "America/Sao_Paulo"
    from mirage_app.logic.caps import local_day_bounds, rolling_hour_start

    now = clock.now()
    day_start, _ = local_day_bounds(now, tz)
    hour_start = rolling_hour_start(now)
    sent = {
        r.number_id: r
        for r in s.execute(
            _SENT_COUNTS,
            {
                "ids": list({r.number_id for r in rows}),
                "day_start": day_start,
                "hour_start": hour_start,
                "since": min(day_start, hour_start),
            },
        )
    }
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
                sent_today=int(usage.today) if usage else 0,
                sent_last_hour=int(usage.last_hour) if usage else 0,
            )
        )
    return views


def _policy_row(s, policy_id: uuid.UUID | str, *, lock: bool = False) -> OutreachPolicy:
    pid = _as_uuid(policy_id, "outreach.policy_not_found")
    statement = select(OutreachPolicy).where(OutreachPolicy.id == pid)
    if lock:
        statement = statement.with_for_update()
    policy = s.exec(statement).first()
    if policy is None:
        raise NotFound("outreach.policy_not_found")
    return policy


def _policy_snapshot(p: OutreachPolicy) -> dict[str, Any]:
    return {k: getattr(p, k) for k in POLICY_FIELDS}


def list_policies(actor: Actor, *, clock: Clock = system_clock) -> list[PolicyView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _policy_views(s, clock=clock)


def get_policy(actor: Actor, policy_id: uuid.UUID | str, *, clock: Clock = system_clock) -> PolicyView:
    authorize(actor, Action.data_read)
    pid = _as_uuid(policy_id, "outreach.policy_not_found")
    with tenant_session(actor.tenant_id) as s:
        views = _policy_views(s, "WHERE p.id = :id", {"id": pid}, clock=clock)
    if not views:
        raise NotFound("outreach.policy_not_found")
    return views[0]


def create_policy(
    actor: Actor, *, number_id: uuid.UUID | str, clock: Clock = system_clock, **fields: Any
) -> PolicyView:
    """Create a policy. Only `number_id` is required; other values default to POLICY_DEFAULTS (inactive: outreach
    stays off until the policy is activated) and the default opt-out keywords."""
    authorize(actor, Action.outreach_manage)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("outreach.field_unknown", field=name, name=name)
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
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("outreach.field_unknown", field=name, name=name)
    with tenant_session(actor.tenant_id) as s:
        policy = _policy_row(s, policy_id, lock=True)
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


def delete_policy(actor: Actor, policy_id: uuid.UUID | str) -> None:
    """Delete a policy and its targets (queued sends under it are refused by the send guard)."""
    authorize(actor, Action.outreach_manage)
    with tenant_session(actor.tenant_id) as s:
        policy = _policy_row(s, policy_id, lock=True)
        before = _policy_snapshot(policy)
        s.delete(policy)
        audit.record(s, actor, "outreach.policy_delete", "outreach_policy", policy.id, before=before)
        s.commit()


# -- targets ----------------------------------------------------------------------------------------------------

_TARGET_VIEW_SQL = """
    SELECT t.id, t.policy_id, t.contact_id, c.wa_number, c.display_name, c.consent_status::text AS consent_status,
           (c.opted_out_at IS NOT NULL OR EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number))
               AS suppressed,
           t.priority, t.status::text AS status, t.last_contact_at, t.rounds_done, p.max_rounds_per_contact,
           t.last_error, n.label AS number_label, t.created_at, t.updated_at
    FROM outreach_targets t
    JOIN contacts c ON c.id = t.contact_id
    JOIN outreach_policies p ON p.id = t.policy_id
    JOIN numbers n ON n.id = p.number_id
"""

_TARGET_SORTS = {
    "queue": "t.priority DESC, t.created_at",
    "priority": "t.priority DESC, t.created_at",
    "created_at": "t.created_at DESC",
    "last_contact_at": "t.last_contact_at DESC NULLS LAST",
    "name": "lower(c.display_name)",
    "status": "t.status, t.priority DESC",
}


def _target_view(r: Any) -> TargetView:
    return TargetView(
        id=r.id,
        policy_id=r.policy_id,
        contact_id=r.contact_id,
        wa_number=r.wa_number,
        display_name=r.display_name,
        consent_status=r.consent_status,
        suppressed=bool(r.suppressed),
        priority=r.priority,
        status=r.status,
        last_contact_at=r.last_contact_at,
        rounds_done=r.rounds_done,
        max_rounds=r.max_rounds_per_contact,
        last_error=r.last_error,
        number_label=r.number_label,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _priority(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationFailed("outreach.priority_invalid", field="priority")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("outreach.priority_invalid", field="priority") from None
    if not -MAX_PRIORITY <= number <= MAX_PRIORITY or (isinstance(value, float) and not value.is_integer()):
        raise ValidationFailed("outreach.priority_invalid", field="priority")
    return number


def _statuses(status: str | Iterable[str] | None) -> list[str]:
    if status is None or status == "":
        return []
    values = [status] if isinstance(status, str) else list(status)
    out = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part and part not in TARGET_STATUSES:
                raise ValidationFailed("outreach.status_invalid", field="status")
            if part:
                out.append(part)
    return out


def list_targets(
    actor: Actor,
    *,
    policy_id: uuid.UUID | str | None = None,
    status: str | Iterable[str] | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: str = "queue",
) -> TargetPage:
    """The queue: by default highest priority first, then oldest. `status` is one status, several (list or
    comma-separated), or None; `search` matches name or number. `counts` gives every status's total under the
    same policy/search filter, for the page's tabs."""
    authorize(actor, Action.data_read)
    where, params = ["true"], {}
    if policy_id:
        params["policy"] = _as_uuid(policy_id, "outreach.policy_not_found", "policy_id")
        where.append("t.policy_id = :policy")
    if search and search.strip():
        term = search.strip()
        params["q"] = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses = ["c.display_name ILIKE :q", "c.wa_number LIKE :q"]
        digits = "".join(ch for ch in term if ch.isdigit())
        if len(digits) >= 3:
            params["digits"] = f"%{digits}%"
            clauses.append("c.wa_number LIKE :digits")
        where.append("(" + " OR ".join(clauses) + ")")
    base = " AND ".join(where)
    statuses = _statuses(status)
    condition = base
    if statuses:
        params["statuses"] = statuses
        condition += " AND t.status::text = ANY(:statuses)"
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    order = _TARGET_SORTS.get(sort, _TARGET_SORTS["queue"])
    with tenant_session(actor.tenant_id) as s:
        counts = {st: 0 for st in TARGET_STATUSES}
        for row in s.execute(
            text(
                "SELECT t.status::text AS status, count(*) AS n FROM outreach_targets t "
                f"JOIN contacts c ON c.id = t.contact_id WHERE {base} GROUP BY t.status"
            ),
            params,
        ):
            counts[row.status] = int(row.n)
        total = sum(counts[st] for st in statuses) if statuses else sum(counts.values())
        rows = s.execute(
            text(f"{_TARGET_VIEW_SQL} WHERE {condition} ORDER BY {order}, t.id LIMIT :lim OFFSET :off"),
            {**params, "lim": limit, "off": offset},
        ).all()
    return TargetPage([_target_view(r) for r in rows], total, limit, offset, counts)


def get_target(actor: Actor, target_id: uuid.UUID | str) -> TargetView:
    authorize(actor, Action.data_read)
    tid = _as_uuid(target_id, "outreach.target_not_found")
    with tenant_session(actor.tenant_id) as s:
        row = s.execute(text(f"{_TARGET_VIEW_SQL} WHERE t.id = :id"), {"id": tid}).first()
    if row is None:
        raise NotFound("outreach.target_not_found")
    return _target_view(row)


def add_targets(
    actor: Actor,
    policy_id: uuid.UUID | str,
    contact_ids: Iterable[uuid.UUID | str] | None = None,
    *,
    tag: str | None = None,
    priority: int = 0,
    clock: Clock = system_clock,
) -> AddTargetsReport:
    """Queue contacts for a policy: the given ids and/or every contact with `tag`. Only contacts with consent
    granted and not suppressed are added; the others come back in `skipped` with a reason (no_consent,
    suppressed, not_found). A contact already queued keeps its place (its priority is updated)."""
    authorize(actor, Action.outreach_manage)
    priority = _priority(priority)
    ids: list[uuid.UUID] = []
    report = AddTargetsReport()
    for raw in contact_ids or []:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            report.skipped.append({"contact_id": str(raw), "wa_number": None, "reason": "not_found"})
    if not ids and not (tag and tag.strip()) and not report.skipped:
        raise ValidationFailed("outreach.contacts_required", field="contact_ids")
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        policy = _policy_row(s, policy_id)
        clauses, params = [], {"ids": ids}
        if ids:
            clauses.append("c.id = ANY(:ids)")
        if tag and tag.strip():
            params["tag"] = tag.strip().casefold()
            clauses.append("EXISTS (SELECT 1 FROM unnest(c.tags) x WHERE lower(x) = :tag)")
        rows = (
            s.execute(
                text(
                    "SELECT c.id, c.wa_number, c.consent_status::text AS consent, c.opted_out_at, "
                    "EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number) AS suppressed "
                    f"FROM contacts c WHERE {' OR '.join(clauses)} ORDER BY c.created_at"
                ),
                params,
            ).all()
            if clauses
            else []
        )
        order = {cid: i for i, cid in enumerate(ids)}
        rows = sorted(rows, key=lambda r: order.get(r.id, len(order)))  # the given order first (stable)
        found = {r.id for r in rows}
        for missing in [i for i in ids if i not in found]:
            report.skipped.append({"contact_id": str(missing), "wa_number": None, "reason": "not_found"})
        for index, r in enumerate(rows):
            if r.suppressed or r.opted_out_at is not None:
                report.skipped.append({"contact_id": str(r.id), "wa_number": r.wa_number, "reason": "suppressed"})
                continue
            if r.consent != ConsentStatus.granted.value:
                report.skipped.append({"contact_id": str(r.id), "wa_number": r.wa_number, "reason": "no_consent"})
                continue
            inserted = s.execute(
                text(
                    "INSERT INTO outreach_targets (id, tenant_id, policy_id, contact_id, priority, status, "
                    "rounds_done, created_at) VALUES (gen_random_uuid(), :t, :p, :c, :prio, 'pending', 0, :now) "
                    "ON CONFLICT (policy_id, contact_id) DO UPDATE SET priority = EXCLUDED.priority, "
                    "updated_at = :now "
                    "RETURNING id, (xmax = 0) AS inserted"
                ),
                # One microsecond apart: equal priorities keep the order they were added in (FIFO).
                {
                    "t": actor.tenant_id,
                    "p": policy.id,
                    "c": r.id,
                    "prio": priority,
                    "now": now + timedelta(microseconds=index),
                },
            ).one()
            report.target_ids.append(str(inserted.id))
            if inserted.inserted:
                report.added += 1
            else:
                report.already += 1
        audit.record(s, actor, "outreach.targets_add", "outreach_policy", policy.id,
                     after={"added": report.added, "already": report.already, "skipped": len(report.skipped),
                            "tag": tag, "priority": priority}, clock=clock)  # fmt: skip
        s.commit()
    return report


def update_target(
    actor: Actor,
    target_id: uuid.UUID | str,
    *,
    priority: int | None = None,
    status: str | None = None,
    clock: Clock = system_clock,
) -> TargetView:
    """PATCH a target: priority, and/or status pending / paused / done (resume = back to pending, or to in
    progress when an exchange had started)."""
    authorize(actor, Action.outreach_manage)
    if status is not None and status not in TARGET_STATUSES:
        raise ValidationFailed("outreach.status_invalid", field="status")
    if status is not None and status not in SETTABLE_STATUSES:
        raise ValidationFailed("outreach.status_not_settable", field="status")
    with tenant_session(actor.tenant_id) as s:
        target = _target_row(s, target_id)
        before = {"priority": target.priority, "status": target.status.value}
        if priority is not None:
            target.priority = _priority(priority)
        if status is not None and status != target.status.value:
            if target.status == TargetStatus.optout:
                raise ValidationFailed("outreach.status_not_settable", field="status")
            if status == "pending" and target.status == TargetStatus.paused and target.rounds_done > 0:
                target.status = TargetStatus.in_progress  # resume an exchange that had started
            else:
                target.status = TargetStatus(status)
        target.updated_at = clock.now()
        s.add(target)
        audit.record(s, actor, "outreach.target_update", "outreach_target", target.id, before,
                     {"priority": target.priority, "status": target.status.value}, clock=clock)  # fmt: skip
        s.commit()
    return get_target(actor, target_id)


def delete_target(actor: Actor, target_id: uuid.UUID | str) -> None:
    authorize(actor, Action.outreach_manage)
    with tenant_session(actor.tenant_id) as s:
        target = _target_row(s, target_id)
        s.delete(target)
        audit.record(s, actor, "outreach.target_delete", "outreach_target", target.id,
                     before={"contact_id": target.contact_id, "status": target.status.value})  # fmt: skip
        s.commit()


def _target_row(s, target_id: uuid.UUID | str) -> OutreachTarget:
    tid = _as_uuid(target_id, "outreach.target_not_found")
    target = s.exec(select(OutreachTarget).where(OutreachTarget.id == tid).with_for_update()).first()
    if target is None:
        raise NotFound("outreach.target_not_found")
    return target


def bulk_targets(
    actor: Actor,
    action: str,
    target_ids: Iterable[uuid.UUID | str],
    *,
    priority: int | None = None,
    clock: Clock = system_clock,
) -> BulkResult:
    """Bulk actions on selected targets:
    - pause: pending / in progress → paused (a queued follow-up is then not sent);
    - resume: paused → pending (in progress when an exchange had started);
    - reset: back to pending with no rounds (not for opted-out targets, never);
    - remove: delete the targets;
    - set_priority: `priority` for all of them.
    Ids that are unknown (or another tenant's) come back in `skipped` with reason not_found."""
    authorize(actor, Action.outreach_manage)
    if action not in BULK_ACTIONS:
        raise ValidationFailed("outreach.bulk_action_invalid", field="action")
    raw_ids = list(target_ids)
    if len(raw_ids) > MAX_BULK:
        raise ValidationFailed("outreach.bulk_too_many", field="ids")
    if action == "set_priority":
        priority = _priority(priority)
    result = BulkResult()
    ids: list[uuid.UUID] = []
    for raw in raw_ids:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            result.skipped.append({"id": str(raw), "reason": "not_found"})
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        rows = {t.id: t for t in s.exec(select(OutreachTarget).where(OutreachTarget.id.in_(ids)).with_for_update())}
        for tid in ids:
            target = rows.get(tid)
            if target is None:
                result.skipped.append({"id": str(tid), "reason": "not_found"})
                continue
            reason = _bulk_one(s, action, target, priority, now)
            if reason is None:
                result.changed += 1
            else:
                result.skipped.append({"id": str(tid), "reason": reason})
        audit.record(s, actor, f"outreach.targets_{action}", "outreach_target", None,
                     after={"changed": result.changed, "skipped": len(result.skipped), "priority": priority},
                     clock=clock)  # fmt: skip
        s.commit()
    return result


def _bulk_one(s, action: str, target: OutreachTarget, priority: int | None, now: datetime) -> str | None:
    """Apply one bulk action; None when it changed the target, else why it did not."""
    status = target.status
    if action == "remove":
        s.delete(target)
        return None
    if action == "set_priority":
        target.priority = int(priority or 0)
    elif action == "pause":
        if status not in (TargetStatus.pending, TargetStatus.in_progress):
            return f"status_{status.value}"
        target.status = TargetStatus.paused
    elif action == "resume":
        if status != TargetStatus.paused:
            return f"status_{status.value}"
        target.status = TargetStatus.in_progress if target.rounds_done > 0 else TargetStatus.pending
    elif action == "reset":
        if status == TargetStatus.optout:
            return "status_optout"
        target.status = TargetStatus.pending
        target.rounds_done = 0
        target.last_error = None
    target.updated_at = now
    s.add(target)
    return None


# -- suppression and opt-out ------------------------------------------------------------------------------------


INBOUND = text(
    """
    SELECT m.id, m.direction::text AS direction, m.body, m.meta, m.contact_id, m.to_number_id, m.from_number_id,
           m.wa_msg_id, m.created_at, c.wa_number AS contact_wa, c.display_name
    FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id
    WHERE m.id = :id
    """
)


def optout_keywords(s) -> tuple[str, ...]:
    """The defaults plus every keyword of every policy of the tenant (a word that stops one policy stops all)."""
    rows = s.execute(text("SELECT DISTINCT k FROM outreach_policies p, unnest(p.optout_keywords) AS k")).scalars()
    return tuple(dict.fromkeys([*DEFAULT_OPTOUT_KEYWORDS, *rows]))


@dataclass(frozen=True)
class OptoutResult:
    keyword: str
    wa_number: str | None
    contact_id: uuid.UUID | None
    new: bool  # False when the number was already suppressed (no second confirmation)
    confirmation_id: uuid.UUID | None


def _mark(s, message_id: uuid.UUID, **meta: Any) -> None:
    s.execute(
        text("UPDATE messages SET meta = meta || CAST(:m AS jsonb) WHERE id = :id"),
        {"m": json.dumps(meta), "id": message_id},
    )


def _peer_number(msg: Any) -> str | None:
    raw = msg.contact_wa or (msg.meta or {}).get("peer")
    if not raw:
        return None
    try:
        return normalise_e164(str(raw))
    except InvalidPhone:
        return None


def check_optout(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> OptoutResult | None:
    """If this stored inbound message is an opt-out, record it (see the module docstring) and queue the one
    confirmation. Idempotent: safe on redeliveries and from several callers. None when it is not an opt-out."""
    rt = runtime()
    tenant, mid = uuid.UUID(str(tenant_id)), uuid.UUID(str(message_id))
    with tenant_session(tenant) as s:
        msg = s.execute(INBOUND, {"id": mid}).first()
        if msg is None or msg.direction != "in":
            return None
        result = _optout_in_tx(s, rt, tenant, msg)
        s.commit()
    if result is not None and result.confirmation_id is not None:
        sending.schedule(rt, tenant, result.confirmation_id, None)
    return result


def check_optout_safely(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> OptoutResult | None:
    """`check_optout` for the webhook route: never raises (the `on_message` job and the tick's sweep retry)."""
    try:
        return check_optout(tenant_id, message_id)
    except Exception:
        log.exception("opt-out check failed for message %s; the on_message job will retry", message_id)
        return None


def _optout_in_tx(s, rt: EngineRuntime, tenant: uuid.UUID, msg: Any) -> OptoutResult | None:
    meta = msg.meta or {}
    if "optout_check" in meta:
        keyword = meta["optout_check"]
        if not keyword:
            return None
        return OptoutResult(keyword, _peer_number(msg), msg.contact_id, False, None)
    keyword = matched_keyword(msg.body or "", optout_keywords(s))
    if keyword is None:
        _mark(s, msg.id, optout_check="")
        return None
    now = rt.clock.now()
    number = _peer_number(msg)
    if number is None:  # e.g. an @lid sender with no phone number: nothing to suppress by
        log.warning("opt-out from message %s without a phone number; cannot suppress", msg.id)
        _mark(s, msg.id, optout_check=keyword)
        return OptoutResult(keyword, None, msg.contact_id, False, None)
    contact_id = msg.contact_id
    if contact_id is None:
        contact_id = s.execute(text("SELECT id FROM contacts WHERE wa_number = :n"), {"n": number}).scalar()
    if contact_id is None:  # someone we never stored: keep them, visible as suppressed, so the opt-out shows
        contact_id = s.execute(
            text(
                "INSERT INTO contacts (id, tenant_id, wa_number, display_name, tags, notes, consent_status, "
                "consent_source, consent_at, opted_out_at, created_at) VALUES (gen_random_uuid(), :t, :n, :name, "
                "'{}', '', 'revoked', 'opt-out via WhatsApp', :now, :now, :now) "
                "ON CONFLICT (tenant_id, wa_number) DO UPDATE SET updated_at = :now RETURNING id"
            ),
            {"t": tenant, "n": number, "name": str(meta.get("push_name") or "")[:120], "now": now},
        ).scalar()
    if msg.contact_id is None:
        s.execute(text("UPDATE messages SET contact_id = :c WHERE id = :id"), {"c": contact_id, "id": msg.id})
    result = apply_suppression(s, tenant, number, reason=f"optout:{keyword}", now=now, contact_id=contact_id)
    confirmation_id = None
    if result.suppression_id is not None and msg.to_number_id is not None:
        confirmation_id = _queue_confirmation(s, rt, tenant, msg, contact_id, result.suppression_id, now)
    if result.suppression_id is not None:
        audit.record(
            s,
            None,
            "contact.optout",
            "contact",
            contact_id,
            after={
                "wa_number": number,
                "keyword": keyword,
                "number_id": msg.to_number_id,
                "message_id": msg.id,
                "targets_opted_out": result.targets_opted_out,
                "sends_cancelled": result.sends_cancelled,
                "confirmation_id": confirmation_id,
            },
            tenant_id=tenant,
            clock=rt.clock,
        )
        log.info("contact %s opted out (%s) via number %s", contact_id, keyword, msg.to_number_id)
    _mark(s, msg.id, optout_check=keyword)
    return OptoutResult(keyword, number, contact_id, result.suppression_id is not None, confirmation_id)


def _sender_context(s, number_id: uuid.UUID, persona_id: uuid.UUID | None = None) -> Any:
    return s.execute(
        text(
            "SELECT n.label, n.persona_id, t.locale AS tenant_locale, t.timezone, p.name, p.style, "
            "p.greeting_morning, p.greeting_afternoon, p.greeting_evening, p.traits, p.locale, "
            "st.min_delay_s, st.max_delay_s, st.humanize "
            "FROM numbers n JOIN tenants t ON t.id = n.tenant_id "
            "LEFT JOIN personas p ON p.id = COALESCE(CAST(:pid AS uuid), n.persona_id) "
            "LEFT JOIN settings_tenant st ON st.tenant_id = n.tenant_id WHERE n.id = :n"
        ),
        {"n": number_id, "pid": persona_id},
    ).first()


def _locale(ctx: Any) -> str:
    return (ctx.locale if ctx is not None and ctx.name else None) or (ctx.tenant_locale if ctx else None) or "pt-BR"


def _persona(ctx: Any) -> PersonaSpec:
    if ctx is not None and ctx.name:
        return PersonaSpec.coerce(ctx)
    return PersonaSpec(name=ctx.label if ctx is not None else "")


def _humanize(ctx: Any):
    tenant = {k: getattr(ctx, k) for k in ("min_delay_s", "max_delay_s", "humanize") if getattr(ctx, k) is not None}
    return effective(tenant)


_INSERT_OUT = text(
    """
    INSERT INTO messages (id, tenant_id, from_number_id, contact_id, direction, body, meta, status, created_at,
                          send_after)
    VALUES (gen_random_uuid(), :t, :n, :c, 'out', :body, CAST(:meta AS jsonb), 'queued', :now, :send_after)
    ON CONFLICT (tenant_id, send_key) WHERE send_key IS NOT NULL DO NOTHING
    RETURNING id
    """
)


def _queue_confirmation(
    s, rt: EngineRuntime, tenant: uuid.UUID, msg: Any, contact_id: uuid.UUID, suppression_id: uuid.UUID, now: datetime
) -> uuid.UUID | None:
    ctx = _sender_context(s, msg.to_number_id)
    body = confirmation_text(_locale(ctx))
    settings = _humanize(ctx)
    rng = random.Random(f"optout|{suppression_id}")
    plan = plan_send(body, rng, settings.humanize_config, humanize=settings.humanize, incoming=msg.body)
    meta = {
        "app_origin": contact_guard.OUTREACH,
        "kind": contact_guard.OPTOUT_CONFIRMATION,
        "send_key": f"optout:{suppression_id}",
        "reply_to": {"message_id": str(msg.id), "wa_msg_id": msg.wa_msg_id},
        "plan": {"read_ms": plan.read_delay_ms, "typing_ms": plan.typing_ms, "gap_s": 0},
    }
    return s.execute(
        _INSERT_OUT,
        {"t": tenant, "n": msg.to_number_id, "c": contact_id, "body": body, "meta": json.dumps(meta), "now": now,
         "send_after": now},
    ).scalar()  # fmt: skip


# -- composing outreach messages --------------------------------------------------------------------------------


def compose(
    persona: PersonaSpec,
    contact_name: str | None,
    phase: str,
    history: Iterable[object] | None,
    locale: str | None,
    keywords: Iterable[str],
    daypart: str | None,
    *,
    seed: str,
    llm: Any | None,
) -> Reply:
    """An outreach message in the persona's voice: the LLM when configured (falling back to the offline
    generator on failure, empty or repeated text), else the offline generator. Openers always end with how to
    opt out. Raises prompts.ContactOptedOut when the history holds an opt-out."""
    turns = as_turns(history)
    keywords = tuple(keywords)
    error, spent = None, None
    if llm is not None:
        messages = build_outreach_messages(persona, contact_name, phase, turns, locale, keywords)
        try:
            spent = llm.complete(messages, DEFAULT_MODEL, OUTREACH_TEMPERATURE)
        except LLMError as exc:
            error = exc.reason
        else:
            reply_text = sanitize_reply(spent.text, persona.name)
            seen = {fold(t.text) for t in turns}
            if reply_text and fold(reply_text) not in seen:
                if phase == OPENER:
                    reply_text = with_optout_hint(reply_text, locale)
                return Reply(reply_text, llm.label, spent.model, spent.usage, spent.latency_ms)
            error = "repeated" if reply_text else "empty"
    generated = OfflineGenerator(random.Random(seed)).generate_outreach(
        persona, contact_name, phase, turns, locale, daypart, keywords
    )
    reply_text = sanitize_reply(generated)
    if phase == OPENER:
        reply_text = with_optout_hint(reply_text, locale)
    if llm is None:
        return Reply(reply_text, "offline")
    return Reply(reply_text, OFFLINE_FALLBACK, spent.model if spent else None, spent.usage if spent else {},
                 spent.latency_ms if spent else 0, error)  # fmt: skip


def phase_for(round_no: int, max_rounds: int) -> str:
    if round_no <= 1:
        return OPENER
    return CLOSING if round_no >= max_rounds else FOLLOW_UP


def outreach_meta(
    *, kind: str, policy_id: uuid.UUID, target_id: uuid.UUID, round_no: int, daypart: str | None, plan: Any,
    reply: Reply,
) -> dict[str, Any]:  # fmt: skip
    return {
        "app_origin": contact_guard.OUTREACH,
        "kind": kind,
        "phase": kind,
        "outreach_policy_id": str(policy_id),
        "outreach_target_id": str(target_id),
        "round": round_no,
        "daypart": daypart,
        "plan": {"read_ms": plan.read_delay_ms, "typing_ms": plan.typing_ms, "gap_s": round(plan.gap_s, 1)},
        "llm": reply.meta(),
    }


def exchange_history(s, target_id: uuid.UUID, number_id: uuid.UUID, contact_id: uuid.UUID, limit: int = 12):
    """This exchange's messages (since its latest opener) between the number and the contact, oldest first."""
    rows = s.execute(
        text(
            """
            SELECT body, direction::text AS direction FROM messages
            WHERE contact_id = :c AND (from_number_id = :n OR to_number_id = :n) AND body <> ''
              AND status <> 'failed' AND created_at >= COALESCE((
                  SELECT max(created_at) FROM messages WHERE outreach_target_id = CAST(:t AS uuid)
                    AND meta->>'kind' = 'opener'), '-infinity')
            ORDER BY created_at DESC LIMIT :lim
            """
        ),
        {"c": contact_id, "n": number_id, "t": str(target_id), "lim": limit},
    ).all()
    return [Turn(r.body, r.direction == "out") for r in reversed(rows)]


# -- inbound: opt-out, then the next round ----------------------------------------------------------------------

GONE = "gone"
NOT_INBOUND = "not_inbound"
OPTOUT = "optout"
NO_EXCHANGE = "no_exchange"
REPLY_QUEUED = "reply_queued"
ALREADY_ANSWERING = "already_answering"
EXCHANGE_DONE = "exchange_done"
POLICY_OFF = "policy_inactive"
NOT_CONTACTABLE = "not_contactable"
EXISTS = "exists"


@dataclass(frozen=True)
class InboundOutcome:
    state: str
    consumed: bool  # True: outreach handled this message (the conversation engine must not answer it)
    message_id: uuid.UUID | None = None


EXCHANGE = text(
    """
    SELECT t.id AS target_id, t.status::text AS status, t.rounds_done, t.contact_id, p.id AS policy_id, p.active,
           p.number_id, p.persona_id, p.max_rounds_per_contact, c.display_name, c.consent_status::text AS consent,
           c.opted_out_at, EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number) AS suppressed,
           EXISTS (SELECT 1 FROM messages m WHERE m.outreach_target_id = t.id AND m.status = 'queued') AS answering
    FROM outreach_targets t
    JOIN outreach_policies p ON p.id = t.policy_id
    JOIN contacts c ON c.id = t.contact_id
    WHERE t.contact_id = :c AND p.number_id = :n AND t.status = 'in_progress'
    ORDER BY t.last_contact_at DESC NULLS LAST
    LIMIT 1
    """
)


def handle_inbound_from_contact(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> InboundOutcome:
    """The follow-up of an inbound contact message (see the module docstring). `consumed` False means outreach
    has nothing to do with it and the conversation engine may look at it."""
    rt = runtime()
    tenant, mid = uuid.UUID(str(tenant_id)), uuid.UUID(str(message_id))
    with tenant_session(tenant) as s:
        msg = s.execute(INBOUND, {"id": mid}).first()
        if msg is None:
            return InboundOutcome(GONE, False)
        if msg.direction != "in" or msg.to_number_id is None:
            return InboundOutcome(NOT_INBOUND, False)
        optout = _optout_in_tx(s, rt, tenant, msg)
        if optout is not None:
            _mark(s, mid, outreach_handled=OPTOUT)
            s.commit()
            if optout.confirmation_id is not None:
                sending.schedule(rt, tenant, optout.confirmation_id, None)
            return InboundOutcome(OPTOUT, True, optout.confirmation_id)
        contact_id = msg.contact_id
        ex = s.execute(EXCHANGE, {"c": contact_id, "n": msg.to_number_id}).first() if contact_id else None
        if ex is None:
            _mark(s, mid, outreach_handled=NO_EXCHANGE)
            s.commit()
            return InboundOutcome(NO_EXCHANGE, False)
        now = rt.clock.now()
        s.execute(
            text("UPDATE outreach_targets SET last_contact_at = :now, updated_at = :now WHERE id = :t"),
            {"now": now, "t": ex.target_id},
        )
        state = None
        if not ex.active:
            state = POLICY_OFF
        elif ex.suppressed or ex.opted_out_at is not None or ex.consent != "granted":
            state = NOT_CONTACTABLE
        elif ex.rounds_done >= ex.max_rounds_per_contact:
            s.execute(
                text("UPDATE outreach_targets SET status = 'done', updated_at = :now WHERE id = :t"),
                {"now": now, "t": ex.target_id},
            )
            state = EXCHANGE_DONE
        elif ex.answering:
            state = ALREADY_ANSWERING
        if state is not None:
            _mark(s, mid, outreach_handled=state)
            s.commit()
            return InboundOutcome(state, True)
        round_no = ex.rounds_done + 1
        phase = phase_for(round_no, ex.max_rounds_per_contact)
        sender = _sender_context(s, ex.number_id, ex.persona_id)
        history = exchange_history(s, ex.target_id, ex.number_id, ex.contact_id, rt.settings.history_limit)
        if not history or history[-1].text != (msg.body or "") or history[-1].from_self:
            history.append(Turn(msg.body or "", False))
        keywords = optout_keywords(s)
        s.commit()
    locale = _locale(sender)
    daypart = daypart_at(to_local(now, sender.timezone).time())
    try:
        reply = compose(
            _persona(sender), ex.display_name, phase, history, locale, keywords, daypart,
            seed=f"{ex.target_id}|{round_no}|{mid}", llm=rt.llm_client(),
        )  # fmt: skip
    except ContactOptedOut:
        return InboundOutcome(OPTOUT, True)
    settings = _humanize(sender)
    plan = plan_send(reply.text, random.Random(f"{mid}|plan"), settings.humanize_config, humanize=settings.humanize,
                     incoming=msg.body)  # fmt: skip
    meta = outreach_meta(kind=phase, policy_id=ex.policy_id, target_id=ex.target_id, round_no=round_no,
                         daypart=daypart, plan=plan, reply=reply)  # fmt: skip
    meta["send_key"] = f"outreach-reply:{mid}"
    meta["reply_to"] = {"message_id": str(mid), "wa_msg_id": msg.wa_msg_id}
    send_after = now + timedelta(seconds=plan.gap_s)
    meta["reply_latency_s"] = round((send_after - msg.created_at).total_seconds(), 1) if msg.created_at else None
    with tenant_session(tenant) as s:
        target = s.execute(
            text("SELECT status::text AS status, rounds_done FROM outreach_targets WHERE id = :t FOR UPDATE"),
            {"t": ex.target_id},
        ).first()
        if target is None or target.status != "in_progress" or target.rounds_done != ex.rounds_done:
            _mark(s, mid, outreach_handled=EXISTS)
            s.commit()
            return InboundOutcome(EXISTS, True)
        new_id = s.execute(
            _INSERT_OUT,
            {"t": tenant, "n": ex.number_id, "c": ex.contact_id, "body": reply.text, "meta": json.dumps(meta),
             "now": now, "send_after": send_after},
        ).scalar()  # fmt: skip
        if new_id is None:
            _mark(s, mid, outreach_handled=EXISTS)
            s.commit()
            return InboundOutcome(EXISTS, True)
        s.execute(
            text(
                "UPDATE outreach_targets SET rounds_done = :r, last_contact_at = :now, updated_at = :now, "
                "status = CAST(:st AS target_status) WHERE id = :t"
            ),
            {"r": round_no, "now": now, "t": ex.target_id, "st": "done" if phase == CLOSING else "in_progress"},
        )
        _mark(s, mid, outreach_handled=REPLY_QUEUED)
        s.commit()
    sending.schedule(rt, tenant, new_id, send_after)
    return InboundOutcome(REPLY_QUEUED, True, new_id)


def on_message(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str, from_contact: bool | None = None) -> str:
    """The `on_message` job: outreach first (opt-outs, outreach exchanges), then the conversation engine.

    `from_contact` False (ingestion found the sender is one of our own numbers) skips the outreach look-up: outreach
    only ever answers contacts."""
    if from_contact is not False:
        outcome = handle_inbound_from_contact(tenant_id, message_id)
        if outcome.consumed:
            return f"outreach:{outcome.state}"
    from mirage_app.engine.rounds import on_message as round_on_message

    return round_on_message(tenant_id, message_id).state
