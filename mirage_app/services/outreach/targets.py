"""Outreach targets: who a policy writes to, in which order (the queue). Commands for the `/outreach/targets` page
and `/api/outreach/targets`; the engine moves targets through their exchange (`engine.outreach_exchange`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.logic import waits
from mirage_app.logic.untrusted_input import MAX_OFFSET
from mirage_app.models import ConsentStatus, OutreachPolicy, OutreachTarget, TargetStatus
from mirage_app.services.outreach.common import TARGET_STATUSES, parse_id
from mirage_app.services.outreach.policies import find_policy

MAX_PRIORITY = 1_000_000
MAX_PAGE = 500
MAX_BULK = 5000
BULK_ACTIONS = ("pause", "resume", "reset", "remove", "set_priority")
SETTABLE_STATUSES = ("pending", "paused", "done")  # PATCH; optout / in_progress / failed are set by the engine


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
    wait: waits.Wait | None = None  # why a pending / in-progress target waits, and until when (logic.waits)


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


@dataclass
class BulkResult:
    changed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # [{id, reason}]


# -- commands ---------------------------------------------------------------------------------------------------

_TARGET_VIEW_SQL = """
    SELECT t.id, t.policy_id, t.contact_id, c.wa_number, c.display_name, c.consent_status::text AS consent_status,
           (c.opted_out_at IS NOT NULL OR EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number))
               AS suppressed,
           t.priority, t.status::text AS status, t.last_contact_at, t.rounds_done, p.max_rounds_per_contact,
           t.last_error, n.label AS number_label, t.created_at, t.updated_at,
           p.active AS policy_active, p.wait_reason AS policy_wait, p.wait_until AS policy_wait_until,
           EXISTS (SELECT 1 FROM outreach_targets o WHERE o.contact_id = t.contact_id AND o.status = 'in_progress'
                   AND o.id <> t.id) AS other_exchange,
           q.id IS NOT NULL AS queued, q.wait_reason AS queued_reason, q.dispatched_at AS queued_dispatched_at,
           q.meta AS queued_meta, q.send_after AS queued_send_after
    FROM outreach_targets t
    JOIN contacts c ON c.id = t.contact_id
    JOIN outreach_policies p ON p.id = t.policy_id
    JOIN numbers n ON n.id = p.number_id
    LEFT JOIN LATERAL (
        SELECT m.id, m.wait_reason, m.dispatched_at, m.meta, m.send_after FROM messages m
        WHERE t.status = 'in_progress' AND m.outreach_target_id = t.id AND m.status = 'queued'
        ORDER BY m.created_at DESC LIMIT 1
    ) q ON true
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
        wait=waits.target_wait(
            waits.TargetFacts(
                r.status, r.consent_status, bool(r.suppressed), r.other_exchange, r.policy_active, r.policy_wait,
                r.policy_wait_until, r.queued, r.queued_reason,
                waits.message_until(r.queued_reason, r.queued_send_after, r.queued_dispatched_at, r.queued_meta),
                r.queued_send_after,
            ),
            system_clock.now(),
        ),
    )  # fmt: skip


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
    # An archived policy's targets are history, no longer a queue.
    where = ["NOT EXISTS (SELECT 1 FROM outreach_policies ap WHERE ap.id = t.policy_id AND ap.archived_at IS NOT NULL)"]
    params: dict[str, Any] = {}
    if policy_id:
        params["policy"] = parse_id(policy_id, "outreach.policy_not_found", "policy_id")
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
    offset = max(0, min(int(offset), MAX_OFFSET))
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
    tid = parse_id(target_id, "outreach.target_not_found")
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
        policy = find_policy(s, policy_id)
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
    """The target to change or delete: an archived policy's targets are history (`outreach.policy_archived`)."""
    tid = parse_id(target_id, "outreach.target_not_found")
    target = s.exec(select(OutreachTarget).where(OutreachTarget.id == tid).with_for_update()).first()
    if target is None:
        raise NotFound("outreach.target_not_found")
    find_policy(s, target.policy_id)
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
        live = (OutreachTarget.id.in_(ids), col(OutreachPolicy.archived_at).is_(None))  # archived: history, unseen
        query = select(OutreachTarget).join(OutreachPolicy, col(OutreachPolicy.id) == OutreachTarget.policy_id)
        rows = {t.id: t for t in s.exec(query.where(*live).with_for_update(of=OutreachTarget))}
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
