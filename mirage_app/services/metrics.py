"""Statistics for /metrics, the overview and the number cards: one definition of each total.

A message that left one of the tenant's numbers is *sent* for that number; a message that reached one of its numbers
(from a contact, or a warming message from another of its numbers) is *received* for it. Queued messages count
nowhere, failed sends only as failures. Days are the tenant's calendar days.

Every figure reads FACTS: the incremental rollups of alembic 0019 (services/metric_rollups.py) plus the changes
not rolled up yet, so a chart costs in proportion to its period and filters, never to the `messages` table, and
shows every message as soon as its transaction commits. The overview, the cards and /metrics read the same rows, so
they agree with each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.models import Tenant

NONE = uuid.UUID(int=0)
PERIODS = (7, 30)


@dataclass(frozen=True)
class MetricsFilter:
    period_days: int = 7
    number_id: str | None = None
    conversation_id: str | None = None


@dataclass
class MetricsData:
    days: list[str] = field(default_factory=list)
    sent_per_day: list[int] = field(default_factory=list)
    received_per_day: list[int] = field(default_factory=list)
    failed_per_day: list[int] = field(default_factory=list)
    optouts_per_day: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    sent_per_number: list[int] = field(default_factory=list)
    received_per_number: list[int] = field(default_factory=list)
    latency_per_number: list[float | None] = field(default_factory=list)
    heatmap: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])  # [weekday sun..sat][h]
    topics: list[tuple[str, int]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)


# What every figure reads: the rollups (alembic 0019) plus the changes no rollup step has taken yet (at most a
# step's worth, a few seconds of traffic), both under row-level security. The one definition of what a message
# counts for is the database's `mirage_message_facts`; rollups and changes hold its rows.
FACTS = """(
    SELECT day, hour, number_id, conversation_id, direction, topic_id, messages, failed, latency_sum, latency_n
    FROM message_rollups
    UNION ALL
    SELECT (c.at AT TIME ZONE :tz)::date, extract(hour FROM c.at AT TIME ZONE :tz)::int, c.number_id,
           c.conversation_id, c.direction, c.topic_id, c.messages, c.failed, c.latency_sum, c.latency_n
    FROM message_fact_changes c
)"""
# Sent messages of a round with a topic.
TOPIC_FACTS = f"(SELECT * FROM {FACTS} t WHERE t.direction = 'out' AND t.topic_id <> :none)"
QUERIES: dict[str, str] = {
    "per_day": "SELECT f.day, f.direction, sum(f.messages) AS messages, sum(f.failed) AS failed "
    "FROM {facts} f WHERE {where} GROUP BY f.day, f.direction",
    "per_number": "SELECT COALESCE(n.label, '—') AS label, "
    "sum(f.messages) FILTER (WHERE f.direction = 'out') AS sent, "
    "sum(f.messages) FILTER (WHERE f.direction = 'in') AS received, "
    "sum(f.latency_sum) / NULLIF(sum(f.latency_n), 0) AS latency "
    "FROM {facts} f LEFT JOIN numbers n ON n.id = f.number_id WHERE {where} AND f.number_id <> :none "
    "GROUP BY n.label ORDER BY sent DESC NULLS LAST LIMIT 30",
    # Sent only: a warming message is also received by another of the tenant's numbers and would count twice.
    "heatmap": "SELECT extract(dow FROM f.day)::int AS dow, f.hour, sum(f.messages) AS n "
    "FROM {facts} f WHERE {where} AND f.direction = 'out' GROUP BY 1, 2",
    "topics": "SELECT t.seed, sum(f.messages) AS n FROM {topic_facts} f JOIN topics t ON t.id = f.topic_id "
    "WHERE {where} GROUP BY t.seed ORDER BY n DESC LIMIT 10",
}
OPTOUTS = (
    "SELECT (created_at AT TIME ZONE :tz)::date AS day, count(*) FROM suppression "
    "WHERE created_at >= :since_ts GROUP BY 1"
)


def chart_query(name: str, flt: MetricsFilter, facts: str = FACTS, topic_facts: str = TOPIC_FACTS) -> tuple[str, dict]:
    """SQL and parameters (less `since`) of one chart query under the period / number / conversation filters."""
    clauses, params = ["f.day >= :since"], {"none": NONE}
    for column in ("number_id", "conversation_id"):
        value = getattr(flt, column)
        if value:
            try:
                params[column] = uuid.UUID(value)
            except ValueError as exc:
                raise ValidationFailed("validation.invalid_id", field=column) from exc
            clauses.append(f"f.{column} = :{column}")
    return QUERIES[name].format(facts=facts, topic_facts=topic_facts, where=" AND ".join(clauses)), params


def period_start(s, actor: Actor, flt: MetricsFilter, clock: Clock) -> tuple[ZoneInfo, list]:
    tz = ZoneInfo(s.get(Tenant, actor.tenant_id).timezone)
    today = clock.now().astimezone(tz).date()
    return tz, [today - timedelta(days=flt.period_days - 1 - i) for i in range(flt.period_days)]


def fact_params(tz: ZoneInfo, now: datetime) -> dict:
    """FACTS' parameters: the tenant's time zone and today."""
    return {"tz": str(tz), "today": now.astimezone(tz).date(), "none": NONE}


@dataclass(frozen=True)
class Activity:
    """Messages of one number (or of the whole tenant) today and over the last 7 tenant days, today included."""

    sent_today: int = 0
    received_today: int = 0
    sent_week: int = 0
    received_week: int = 0

    @property
    def today(self) -> int:
        return self.sent_today + self.received_today

    @property
    def week(self) -> int:
        return self.sent_week + self.received_week

    def __add__(self, other: Activity) -> Activity:
        return Activity(
            self.sent_today + other.sent_today,
            self.received_today + other.received_today,
            self.sent_week + other.sent_week,
            self.received_week + other.received_week,
        )


ACTIVITY = f"""
    SELECT f.number_id,
           COALESCE(sum(f.messages) FILTER (WHERE f.direction = 'out' AND f.day = :today), 0) AS sent_today,
           COALESCE(sum(f.messages) FILTER (WHERE f.direction = 'in' AND f.day = :today), 0) AS received_today,
           COALESCE(sum(f.messages) FILTER (WHERE f.direction = 'out'), 0) AS sent_week,
           COALESCE(sum(f.messages) FILTER (WHERE f.direction = 'in'), 0) AS received_week
    FROM {FACTS} f WHERE f.day >= :since GROUP BY f.number_id
"""


def number_activity(s, tz: ZoneInfo, now: datetime) -> dict[uuid.UUID, Activity]:
    """Activity per number (NONE: messages of numbers since removed), in the caller's tenant session. The number
    cards show it; its sum is the overview's totals and equals /metrics' 7-day totals."""
    params = fact_params(tz, now)
    params["since"] = params["today"] - timedelta(days=6)
    return {
        r.number_id: Activity(int(r.sent_today), int(r.received_today), int(r.sent_week), int(r.received_week))
        for r in s.execute(text(ACTIVITY), params)
    }


WEEK_LATENCY = f"""
    SELECT f.number_id, sum(f.latency_sum) / NULLIF(sum(f.latency_n), 0) AS latency
    FROM {FACTS} f WHERE f.day >= :since AND f.direction = 'out' GROUP BY f.number_id
"""


def number_latency(s, tz: ZoneInfo, now: datetime) -> dict[uuid.UUID, float]:
    """Average reply latency (s) per number over the last 7 tenant days, as /metrics' per-number chart reads it."""
    params = fact_params(tz, now)
    params["since"] = params["today"] - timedelta(days=6)
    return {r.number_id: r.latency for r in s.execute(text(WEEK_LATENCY), params) if r.latency is not None}


def tenant_activity(actor: Actor, clock: Clock = system_clock) -> Activity:
    """The overview's totals: every number's activity added up."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        tz = ZoneInfo(s.get(Tenant, actor.tenant_id).timezone)
        return sum(number_activity(s, tz, clock.now()).values(), Activity())


def dashboard(actor: Actor, flt: MetricsFilter, clock: Clock = system_clock) -> MetricsData:
    authorize(actor, Action.data_read)
    if flt.period_days not in PERIODS:
        raise ValidationFailed("metrics.period_invalid", field="period")
    data = MetricsData()
    with tenant_session(actor.tenant_id) as s:
        tz, day_list = period_start(s, actor, flt, clock)
        since = day_list[0]
        data.days = [d.isoformat() for d in day_list]
        shared = fact_params(tz, clock.now())

        def run(name: str):
            sql, params = chart_query(name, flt)
            return s.execute(text(sql), {**params, **shared, "since": since}).all()

        per_day = {(r.day, r.direction): (int(r.messages), int(r.failed)) for r in run("per_day")}
        data.sent_per_day = [per_day.get((d, "out"), (0, 0))[0] for d in day_list]
        data.received_per_day = [per_day.get((d, "in"), (0, 0))[0] for d in day_list]
        data.failed_per_day = [per_day.get((d, "out"), (0, 0))[1] for d in day_list]

        optouts = dict(s.execute(text(OPTOUTS), {"tz": str(tz), "since_ts": since - timedelta(days=1)}).all())
        data.optouts_per_day = [int(optouts.get(d, 0)) for d in day_list]

        rows = run("per_number")
        data.numbers = [r.label for r in rows]
        data.sent_per_number = [int(r.sent or 0) for r in rows]
        data.received_per_number = [int(r.received or 0) for r in rows]
        data.latency_per_number = [round(r.latency, 1) if r.latency is not None else None for r in rows]

        for r in run("heatmap"):
            data.heatmap[r.dow][r.hour] = int(r.n)
        data.topics = [(r.seed, int(r.n)) for r in run("topics")]
    sent, received = sum(data.sent_per_day), sum(data.received_per_day)
    failed = sum(data.failed_per_day)
    latencies = [v for v in data.latency_per_number if v is not None]
    data.totals = {
        "sent": sent,
        "received": received,
        "failed": failed,
        "failure_rate": round(100 * failed / (sent + failed), 1) if sent + failed else 0.0,
        "optouts": sum(data.optouts_per_day),
        "avg_latency": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
    }
    return data


def filter_choices(actor: Actor) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(numbers, conversations) as (id, label) for the filter pickers."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        numbers = [(str(r.id), r.label) for r in s.execute(text("SELECT id, label FROM numbers ORDER BY label"))]
        conversations = [
            (str(r.id), r.name) for r in s.execute(text("SELECT id, name FROM conversations ORDER BY name"))
        ]
    return numbers, conversations


def recent_optouts(actor: Actor, hours: int = 24, clock: Clock = system_clock) -> int:
    """Contacts that opted out recently, for the overview's alerts."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return int(
            s.execute(
                text("SELECT count(*) FROM suppression WHERE created_at >= :since"),
                {"since": clock.now() - timedelta(hours=hours)},
            ).scalar()
        )
