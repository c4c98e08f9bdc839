"""What the tenant's numbers sent, by kind (text, reaction, voice note, picture...), per day and per number: the
mix an operator checks to see that warming looks like people, not like a text-only bot.

Read from `messages.kind` (the materialized facts of services.metrics do not keep kinds): the tenant's sent
messages since the period's first day, one grouped statement, under row-level security. Same filters and days as
the other charts of /metrics.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import text

from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.models.enums import MessageKind
from mirage_app.services.metrics import PERIODS, MetricsFilter, period_start

KINDS: tuple[str, ...] = tuple(k.value for k in MessageKind)

_SQL = """
SELECT (m.created_at AT TIME ZONE :tz)::date AS day, COALESCE(n.label, '—') AS label, m.kind::text AS kind,
       count(*) AS n
FROM messages m JOIN numbers n ON n.id = m.from_number_id
WHERE m.direction = 'out' AND m.status NOT IN ('queued', 'failed') AND m.created_at >= :since_ts {extra}
GROUP BY 1, 2, 3
"""


@dataclass
class ActionMix:
    days: list[str] = field(default_factory=list)  # ISO days of the period, oldest first
    per_day: dict[str, list[int]] = field(default_factory=dict)  # kind → count per day (kinds sent only)
    numbers: list[str] = field(default_factory=list)  # the numbers' labels, the busiest first
    per_number: dict[str, list[int]] = field(default_factory=dict)  # kind → count per number


def action_mix(actor: Actor, flt: MetricsFilter, clock: Clock = system_clock) -> ActionMix:
    authorize(actor, Action.data_read)
    if flt.period_days not in PERIODS:
        raise ValidationFailed("metrics.period_invalid", field="period")
    extra, params = "", {}
    for column in ("number_id", "conversation_id"):
        value = getattr(flt, column)
        if value:
            try:
                params[column] = uuid.UUID(value)
            except ValueError as exc:
                raise ValidationFailed("validation.invalid_id", field=column) from exc
            extra += f" AND m.{'from_number_id' if column == 'number_id' else column} = :{column}"
    with tenant_session(actor.tenant_id) as s:
        tz, day_list = period_start(s, actor, flt, clock)
        since_ts = datetime.combine(day_list[0], time.min, tz)
        rows = s.execute(text(_SQL.format(extra=extra)), {**params, "tz": str(tz), "since_ts": since_ts}).all()
    mix = ActionMix(days=[d.isoformat() for d in day_list])
    by_number: dict[str, int] = {}
    for r in rows:
        by_number[r.label] = by_number.get(r.label, 0) + int(r.n)
    mix.numbers = sorted(by_number, key=lambda label: (-by_number[label], label))[:30]
    kinds = [k for k in KINDS if any(r.kind == k for r in rows)]
    day_index = {d: i for i, d in enumerate(day_list)}
    number_index = {label: i for i, label in enumerate(mix.numbers)}
    mix.per_day = {k: [0] * len(day_list) for k in kinds}
    mix.per_number = {k: [0] * len(mix.numbers) for k in kinds}
    for r in rows:
        if r.day in day_index:
            mix.per_day[r.kind][day_index[r.day]] += int(r.n)
        if r.label in number_index:
            mix.per_number[r.kind][number_index[r.label]] += int(r.n)
    return mix
