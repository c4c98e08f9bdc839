"""Recomputing each number's reputation (logic.reputation) from what its messages and its session did.

The periodic job (`workers.jobs.recompute_reputation`, every 60 s) looks only at numbers with something new since
their last recompute (a message sent, received or updated, a webhook of its session, a change of the number row)
or whose cooldown has ended, so its cost follows the change, not the size of the tenant. A ban-like close or an
automatic pause also asks for that number's recompute at once (`request_recompute`).

Signals are counted over the last `WEEK_DAYS` days with the same definitions as services.metrics: a message *sent*
left the number and is not queued or failed; *delivered* and *read* are its status; *answered* means its peer
(the other number, or the contact) wrote to it within `ANSWER_WITHIN` after it. Disconnects come from the stored
`CONNECTION_UPDATE` webhooks: a close with a ban-like code (evolution.webhook.BAN_LIKE_REASONS) weighs most; a
logout (401, what the operator's own stop sends too) is not counted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.core.clock import Clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine import alerts
from mirage_app.engine.runtime import TICK_QUEUE, job_id, runtime
from mirage_app.evolution.webhook import BAN_LIKE_REASONS
from mirage_app.logic import reputation
from mirage_app.logic.alerts import SCORE_DROP
from mirage_app.logic.reputation import Signals, Standing

RECOMPUTE_JOB = "workers.jobs.recompute_number_reputation"
ANSWER_WITHIN = timedelta(hours=24)
LOGGED_OUT = 401
HISTORY_MIN_CHANGE = 0.5  # score points: smaller wobbles update the number but add no history row
STALE_AFTER = timedelta(days=1)  # a quiet number is still recomputed daily (its age grows)
WINDOW = timedelta(days=reputation.WEEK_DAYS)  # signals older than this no longer count (nor are looked at)

CHANGED = text(
    """
    SELECT n.id FROM numbers n
    WHERE n.archived_at IS NULL AND (
      n.reputation_at IS NULL OR n.reputation_at < :stale OR n.updated_at > n.reputation_at
      OR (n.reputation_cooldown_until IS NOT NULL AND n.reputation_cooldown_until <= :now)
      OR EXISTS (SELECT 1 FROM messages m WHERE m.from_number_id = n.id AND m.created_at >= :since
                 AND GREATEST(m.created_at, m.updated_at) > n.reputation_at)
      OR EXISTS (SELECT 1 FROM messages m WHERE m.to_number_id = n.id AND m.created_at >= :since
                 AND m.created_at > n.reputation_at)
      OR EXISTS (SELECT 1 FROM webhook_events w WHERE w.session_id = n.session_id
                 AND w.received_at > n.reputation_at AND w.event_type = 'CONNECTION_UPDATE'))
    LIMIT :limit
    """
)

SIGNALS = text(
    """
    SELECT n.id, n.reputation_score, n.reputation_band, n.reputation_cooldown_until, n.reputation_signals,
           -- days since pairing, or the warm-up days its history shows when more (history written behind the
           -- send pipeline's back, as the demo's fortnight is, makes a number older than its pairing)
           GREATEST(0, (CAST(:now AS date) - CAST(COALESCE(n.paired_at, n.created_at) AS date)),
                    COALESCE(n.active_days, 0)) AS age_days,
           s.sent, s.delivered, s.read, s.answered, s.failures, s.active_days,
           d.disconnects, d.ban_disconnects,
           (SELECT count(*) FROM number_restrictions nr
              WHERE nr.number_id = n.id AND nr.started_at >= :since) AS restrictions
    FROM numbers n
    JOIN tenants t ON t.id = n.tenant_id
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE m.status IN ('sent', 'server_ack', 'delivered', 'read')) AS sent,
             count(*) FILTER (WHERE m.status IN ('delivered', 'read')) AS delivered,
             count(*) FILTER (WHERE m.status = 'read') AS read,
             count(*) FILTER (WHERE m.status = 'failed') AS failures,
             count(DISTINCT CAST(m.created_at AT TIME ZONE t.timezone AS date))
               FILTER (WHERE m.status <> 'failed') AS active_days,
             count(*) FILTER (WHERE m.status IN ('sent', 'server_ack', 'delivered', 'read') AND EXISTS (
               SELECT 1 FROM messages r WHERE r.to_number_id = n.id
                 AND r.created_at > m.created_at AND r.created_at <= m.created_at + :answer_within
                 AND ((m.to_number_id IS NOT NULL AND r.from_number_id = m.to_number_id)
                      OR (m.contact_id IS NOT NULL AND r.contact_id = m.contact_id AND r.direction = 'in'))
             )) AS answered
      FROM messages m
      WHERE m.from_number_id = n.id AND m.direction = 'out' AND m.status <> 'queued' AND m.created_at >= :since
    ) s
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE NOT w.ban AND w.code IS DISTINCT FROM :logged_out) AS disconnects,
             count(*) FILTER (WHERE w.ban) AS ban_disconnects
      FROM (SELECT CAST(NULLIF(w.payload->'data'->>'statusReason', '') AS int) AS code,
                   CAST(NULLIF(w.payload->'data'->>'statusReason', '') AS int) = ANY(:ban_codes) AS ban
            FROM webhook_events w
            WHERE w.session_id = n.session_id AND w.event_type = 'CONNECTION_UPDATE' AND w.received_at >= :since
              AND w.payload->'data'->>'state' = 'close') w
    ) d
    WHERE n.id = ANY(:ids)
    """
)


def recompute_changed(clock: Clock | None = None, limit: int = 500) -> int:
    """Recompute every number, in every tenant, with something new since its last recompute; how many were."""
    now = (clock or runtime().clock).now()
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    done = 0
    for tenant_id in tenants:
        with tenant_session(tenant_id) as s:
            params = {"now": now, "stale": now - STALE_AFTER, "since": now - WINDOW, "limit": limit}
            ids = s.execute(CHANGED, params).scalars().all()
            if ids:
                done += len(recompute(s, tenant_id, ids, now))
                s.commit()
    return done


def recompute_number(
    tenant_id: uuid.UUID | str, number_id: uuid.UUID | str, ban: bool = False, clock: Clock | None = None
) -> str | None:
    """Recompute one number now (the immediate path after a ban-like close or an automatic pause); its band.
    `ban`: a ban-like signal just arrived (it cools the number down whatever the counts say)."""
    now = (clock or runtime().clock).now()
    tenant, number = uuid.UUID(str(tenant_id)), uuid.UUID(str(number_id))
    with tenant_session(tenant) as s:
        standings = recompute(s, tenant, [number], now, banned={number} if ban else frozenset())
        s.commit()
    standing = standings.get(number)
    return standing.band if standing is not None else None


def request_recompute(tenant_id: uuid.UUID, number_id: uuid.UUID, clock: Clock, ban: bool = False) -> None:
    """Ask for `number_id`'s recompute in a few seconds (after the caller's transaction has committed); `ban`: a
    ban-like close is why."""
    when = clock.now() + timedelta(seconds=5)
    runtime().jobs().enqueue_at(
        when, RECOMPUTE_JOB, str(tenant_id), str(number_id), ban, queue=TICK_QUEUE,
        job_id=job_id("reputation", number_id, int(when.timestamp())),
    )  # fmt: skip


def recompute(
    s,
    tenant_id: uuid.UUID,
    number_ids: Iterable[uuid.UUID],
    now: datetime,
    banned: Collection[uuid.UUID] = frozenset(),
) -> dict[uuid.UUID, Standing]:
    """Recompute `number_ids` in the caller's transaction: store each standing, add history when it moved and call
    `on_band_change` when the band changed. `banned`: numbers a ban-like signal just hit (otherwise a rise in the
    week's ban-like counts says so). A reach-out restriction of the week (services.restrictions) lowers the score
    but is not a ban: the number stops only contacting new people, its chats under way go on."""
    params = {
        "ids": list(number_ids),
        "now": now,
        "since": now - WINDOW,
        "answer_within": ANSWER_WITHIN,
        "logged_out": LOGGED_OUT,
        "ban_codes": sorted(BAN_LIKE_REASONS),
    }
    out: dict[uuid.UUID, Standing] = {}
    for row in s.execute(SIGNALS, params).all():
        sig = Signals(
            sent=row.sent, delivered=row.delivered, read=row.read, answered=row.answered, failures=row.failures,
            disconnects=row.disconnects, ban_disconnects=row.ban_disconnects,
            restrictions=row.restrictions, age_days=row.age_days, active_days=row.active_days,
        )  # fmt: skip
        seen = (row.reputation_signals or {}).get("counts") or {}
        new_ban = row.id in banned or sig.ban_disconnects > int(seen.get("ban_disconnects", 0))
        before = None
        if row.reputation_band is not None:
            before = Standing(row.reputation_score, row.reputation_band, row.reputation_cooldown_until)
        after = reputation.next_standing(before, sig, now, new_ban_signal=new_ban)
        contributions = reputation.contributions(sig)
        top = reputation.moved_most(contributions)
        _store(s, tenant_id, row.id, now, after, top, contributions, sig, before)
        if before is None or before.band != after.band:
            on_band_change(s, tenant_id, row.id, before, after, top)
        out[row.id] = after
    return out


def _store(s, tenant_id, number_id, now, after: Standing, top, contributions, sig: Signals, before) -> None:
    signals = {
        "top": top,
        "contributions": {k: round(v, 2) for k, v in contributions.items()},
        "counts": {"ban_disconnects": sig.ban_disconnects, "restrictions": sig.restrictions},
    }
    s.execute(
        text(
            "UPDATE numbers SET reputation_score = :score, reputation_band = :band, "
            "reputation_cooldown_until = :until, reputation_signals = CAST(:signals AS jsonb), reputation_at = :now "
            "WHERE id = :n"
        ),
        {
            "score": after.score, "band": after.band, "until": after.cooldown_until,
            "signals": json.dumps(signals), "now": now, "n": number_id,
        },
    )  # fmt: skip
    moved = before is None or before.band != after.band or abs(before.score - after.score) >= HISTORY_MIN_CHANGE
    if moved:
        s.execute(
            text(
                "INSERT INTO reputation_history (tenant_id, number_id, at, score, band, top_signals) "
                "VALUES (:t, :n, :now, :score, :band, CAST(:top AS jsonb))"
            ),
            {"t": tenant_id, "n": number_id, "now": now, "score": after.score, "band": after.band,
             "top": json.dumps(top)},
        )  # fmt: skip


def on_band_change(
    s,
    tenant_id: uuid.UUID,
    number_id: uuid.UUID,
    before: Standing | None,
    after: Standing,
    top_signals: list[dict],
) -> None:
    """A number changed band (a cooldown started, it fell to cold, it recovered), in the recompute's transaction:
    audited here, and a fall to a worse band is a `score_drop` alert (queued: its job stores it)."""
    audit.record(
        s,
        None,
        "number.reputation_band",
        "number",
        number_id,
        before={"band": before.band, "score": before.score} if before is not None else None,
        after={
            "band": after.band,
            "score": after.score,
            "cooldown_until": after.cooldown_until.isoformat() if after.cooldown_until else None,
            "top_signals": top_signals,
        },
        tenant_id=tenant_id,
        clock=runtime().clock,
    )
    if before is not None and reputation.BANDS.index(after.band) < reputation.BANDS.index(before.band):
        detail = {"score": f"{before.score} → {after.score}", "band": f"{before.band} → {after.band}"}
        if after.cooldown_until is not None:
            detail["cooldown_until"] = after.cooldown_until.isoformat(timespec="minutes")
        alerts.emit_later(tenant_id, SCORE_DROP, number_id=number_id, detail=detail)
