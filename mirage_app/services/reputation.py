"""A number's reputation for its detail: the score over time, its band and cooldown, and the signals that moved it
most (engine.reputation computes and stores them; logic.reputation says how)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text

from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.services.instances import get_number

HISTORY_DAYS = 30


@dataclass(frozen=True)
class ReputationPoint:
    at: datetime
    score: float
    band: str


@dataclass(frozen=True)
class ReputationDetail:
    number_id: uuid.UUID
    label: str
    score: float | None  # None: not computed yet
    band: str | None
    cooldown_until: datetime | None
    top_signals: list[dict] = field(default_factory=list)  # [{"signal", "points"}], biggest first
    history: list[ReputationPoint] = field(default_factory=list)  # oldest first


def detail(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> ReputationDetail:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        rows = s.execute(
            text("SELECT at, score, band FROM reputation_history WHERE number_id = :n AND at >= :since ORDER BY at"),
            {"n": number.id, "since": clock.now() - timedelta(days=HISTORY_DAYS)},
        ).all()
    return ReputationDetail(
        number.id,
        number.label,
        number.reputation_score,
        number.reputation_band,
        number.reputation_cooldown_until,
        list((number.reputation_signals or {}).get("top") or []),
        [ReputationPoint(r.at, r.score, r.band) for r in rows],
    )
