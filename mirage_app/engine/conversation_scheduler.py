"""The conversation scheduler tick (every minute, `workers.jobs.conversation_tick`).

Cost follows the due work, not the table size: `conversations.next_due_at` says when a conversation next needs
a look (its window opens, its pause ends, its running round wants supervising) and the tick reads only the rows
that are due, through the SECURITY DEFINER function `mirage_due_conversations` over a partial index. Idle
conversations cost nothing. Each due conversation, in its tenant's RLS session and its tenant's timezone:

- with a running round: supervise it — abort it when stuck (`round_stuck_s` without progress), re-enqueue the
  reply of a delivered turn nobody answered (a lost `on_message` trigger: see below), restart a round whose
  opener was never written; look again in `round_watchdog_s`;
- otherwise: is a schedule window open (and not in quiet hours, and not about to close)? May another round start
  (`rounds_allowed`: rounds per window and the drawn pause)? Are two participants eligible (connected, settled
  after pairing, consenting contacts)? Then `plan_round` (pair / round_robin / random) → a `Round` row and a
  `start_round` job; else `next_due_at` moves to when the answer can change.

Recovery of lost work: webhook ingestion enqueues `on_message` after its commit; if that enqueue fails (Redis
down) the message row is already stored, and the round supervision above re-enqueues the reply once the turn
has been delivered for `reply_recover_s`. Queued sends whose job vanished are found by `mirage_overdue_sends`
and re-enqueued (the send pipeline is idempotent, so a duplicate job does nothing).

Two overlapping ticks (a slow one and the next period's) cannot plan twice: conversations are locked
`FOR UPDATE SKIP LOCKED` and re-checked as due.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from typing import Any

from sqlalchemy import text

from mirage_app.core.clock import Clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine import round_state
from mirage_app.engine.effective_settings import EffectiveSettings, effective
from mirage_app.engine.group_rounds import plan_group_round
from mirage_app.engine.runtime import (
    GROUP_SETUP_JOB,
    ON_MESSAGE_JOB,
    SEND_JOB,
    SEND_QUEUE,
    START_ROUND_JOB,
    TICK_QUEUE,
    EngineRuntime,
    job_id,
    runtime,
)
from mirage_app.logic import rounds as round_logic
from mirage_app.logic import warmup
from mirage_app.logic.dayparts import (
    Window,
    at_local,
    schedule_status,
    slots_from_day_rows,
    to_local,
    within_active_hours,
)
from mirage_app.models.messaging import counted_sends
from mirage_app.models.servers import HELD_SQL

log = logging.getLogger("mirage.scheduler.conversations")

# Everything the tick needs about a tenant's due conversations in one round trip (locked, re-checked as due):
# settings, schedule, running round, pairings, active topics, today's rounds per window, and per participant the
# sends in the rolling hour and the tenant-local day (for the warm-up budget check; the send pipeline stays the
# authority on caps).
DUE_CONVERSATIONS = text(
    f"""
    WITH k AS (
        SELECT t.timezone AS tz,
               date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE t.timezone) AT TIME ZONE t.timezone
                   AS day_start,
               to_char(CAST(:now AS timestamptz) AT TIME ZONE t.timezone, 'YYYY-MM-DD') AS today
        FROM tenants t
    )
    SELECT c.id, c.mode::text AS mode, c.round_cursor, c.topic_strategy, c.topic_refresh_minutes,
           k.tz AS timezone,
           (SELECT to_jsonb(st) FROM settings_tenant st LIMIT 1) AS tenant_settings,
           to_jsonb(sc) AS overrides,
           (SELECT jsonb_agg(to_jsonb(d) - 'id' - 'tenant_id' - 'conversation_id')
              FROM conversation_schedule d WHERE d.conversation_id = c.id) AS schedule,
           (SELECT jsonb_build_object('id', r.id, 'planned_turns', r.planned_turns, 'started_at', r.started_at)
              FROM rounds r WHERE r.conversation_id = c.id AND r.state = 'running'
              ORDER BY r.started_at LIMIT 1) AS running,
           (SELECT jsonb_object_agg(w.window_key, jsonb_build_array(w.n, w.last_end)) FROM (
                SELECT r.window_key, count(*) AS n, max(r.ended_at) AS last_end FROM rounds r
                WHERE r.conversation_id = c.id AND r.window_key = ANY(ARRAY[
                    k.today || ':' || 'morning', k.today || ':' || 'afternoon', k.today || ':' || 'evening'])
                GROUP BY r.window_key) w) AS window_stats,
           (SELECT jsonb_agg(jsonb_build_array(p.number_a_id, p.number_b_id) ORDER BY {round_state.PAIRING_ORDER})
              FROM pairings p WHERE p.conversation_id = c.id) AS pairings,
           (SELECT jsonb_agg(t.id ORDER BY t.created_at, t.id) FROM topics t WHERE t.conversation_id = c.id
              AND (t.active_from IS NULL OR t.active_from <= :now)
              AND (t.active_to IS NULL OR t.active_to > :now)) AS topics,
           (SELECT jsonb_agg(jsonb_build_object(
                      'kind', cp.kind, 'number_id', cp.number_id, 'contact_id', cp.contact_id,
                      'label', COALESCE(n.label, ct.display_name), 'number_status', n.status,
                      'wa_number', n.wa_number, 'paired_at', n.paired_at, 'active_days', n.active_days,
                      'failure_streak', n.failure_streak, 'contact_wa', ct.wa_number,
                      'server_held', (SELECT es.state = 'disabled' OR es.health IN {HELD_SQL}
                                        FROM evolution_servers es WHERE es.id = n.server_id),
                      'active_hours', (SELECT pe.active_hours FROM personas pe WHERE pe.id = n.persona_id),
                      'habits', (SELECT pe.habits FROM personas pe WHERE pe.id = n.persona_id),
                      'band', n.reputation_band,
                      'consent', ct.consent_status, 'opted_out_at', ct.opted_out_at,
                      'suppressed', EXISTS (SELECT 1 FROM suppression x WHERE x.wa_number = ct.wa_number),
                      'today', (SELECT COALESCE(sum(m.cap_weight), 0) FROM messages m WHERE m.from_number_id = n.id
                                  AND m.sent_at >= k.day_start AND m.sent_at <= :now AND {counted_sends("m")}),
                      'hour', (SELECT COALESCE(sum(m.cap_weight), 0) FROM messages m WHERE m.from_number_id = n.id
                                 AND m.sent_at >= CAST(:now AS timestamptz) - interval '1 hour'
                                 AND m.sent_at <= :now AND {counted_sends("m")}),
                      'last_before', (SELECT max(m.sent_at) FROM messages m WHERE m.from_number_id = n.id
                                        AND m.direction = 'out' AND m.sent_at < k.day_start
                                        AND m.status <> 'failed'))
                    ORDER BY cp.start_order, cp.id)
              FROM conversation_participants cp
              LEFT JOIN numbers n ON n.id = cp.number_id
              LEFT JOIN contacts ct ON ct.id = cp.contact_id
              WHERE cp.conversation_id = c.id) AS people,
           (SELECT jsonb_build_object('id', g.id, 'state', g.state, 'left',
                       (SELECT jsonb_agg(gm.number_id) FROM warming_group_members gm
                          WHERE gm.group_id = g.id AND gm.left_at IS NOT NULL))
              FROM warming_groups g WHERE g.conversation_id = c.id) AS warming_group
    FROM conversations c
    CROSS JOIN k
    LEFT JOIN settings_conversation sc ON sc.conversation_id = c.id
    WHERE c.id = ANY(:ids) AND c.active AND c.next_due_at <= :now
    FOR UPDATE OF c SKIP LOCKED
    """
)


@dataclass
class TickReport:
    due: int = 0
    rounds_started: int = 0
    supervised: int = 0
    rounds_aborted: int = 0
    replies_recovered: int = 0
    sends_recovered: int = 0
    skipped: Counter = field(default_factory=Counter)
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "rounds_started": self.rounds_started,
            "supervised": self.supervised,
            "rounds_aborted": self.rounds_aborted,
            "replies_recovered": self.replies_recovered,
            "sends_recovered": self.sends_recovered,
            "skipped": dict(self.skipped),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def _enqueue_starts(deferrer, jobs: list[tuple[str, tuple, str]]) -> None:
    """Round starts go behind due sends (workers take `high` first): a tick's burst of starts must not delay
    replies that are due now (bench/capacity/: send lag p99 x6 at 10,000 numbers with both on `high`)."""
    if hasattr(deferrer, "enqueue_many"):
        deferrer.enqueue_many(jobs, queue=TICK_QUEUE)
    else:
        for func, args, jid in jobs:
            deferrer.enqueue(func, *args, job_id=jid, queue=TICK_QUEUE)


def tick(clock: Clock | None = None, limit: int | None = None) -> TickReport:
    """Plan and supervise every due conversation: in batches of `limit` (`tick_limit`) until none is left or the
    tick has used `tick_budget_s`, so the work per minute follows the fleet instead of stopping at one batch."""
    rt = runtime()
    now = (clock or rt.clock).now()
    limit = limit or rt.settings.tick_limit
    started = time.perf_counter()
    report = TickReport()
    with system_session() as s:
        overdue = s.execute(
            text("SELECT tenant_id, message_id FROM mirage_overdue_sends(:before, :lim)"),
            {"before": now - timedelta(seconds=rt.settings.overdue_grace_s), "lim": limit},
        ).all()
    seen: set[uuid.UUID] = set()
    deferrer = rt.jobs()
    while True:
        with system_session() as s:
            due = s.execute(
                text("SELECT tenant_id, conversation_id FROM mirage_due_conversations(:now, :lim)"),
                {"now": now, "lim": limit},
            ).all()
        fresh = [row for row in due if row.conversation_id not in seen]  # one still due after its turn: next tick
        seen.update(row.conversation_id for row in fresh)
        report.due += len(fresh)
        # Each batch's starts are queued as soon as it is planned: the first rounds must not wait for the last
        # batch (a tick may plan for up to `tick_budget_s`).
        _enqueue_starts(deferrer, _plan(rt, now, fresh, report))
        if len(due) < limit or not fresh or time.perf_counter() - started > rt.settings.tick_budget_s:
            break
    minute = int(now.timestamp()) // 60
    for row in overdue:
        deferrer.enqueue(
            SEND_JOB,
            str(row.tenant_id),
            str(row.message_id),
            job_id=job_id("send", row.message_id, "recover", minute),
            queue=SEND_QUEUE,
        )
    report.sends_recovered = len(overdue)
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    return report


def _plan(rt: EngineRuntime, now: datetime, due: list, report: TickReport) -> list[tuple[str, tuple, str]]:
    """One batch of due conversations, tenant by tenant; the jobs to enqueue."""
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in due:
        by_tenant[row.tenant_id].append(row.conversation_id)
    jobs: list[tuple[str, tuple, str]] = []
    for tenant_id, ids in by_tenant.items():
        try:
            jobs.extend(_TenantTick(rt, now, tenant_id, report).run(ids))
        except Exception:  # one tenant's bad data must not stop the others
            log.exception("conversation tick failed for tenant %s", tenant_id)
            report.skipped["error"] += 1
    return jobs


class _TenantTick:
    def __init__(self, rt: EngineRuntime, now: datetime, tenant_id: uuid.UUID, report: TickReport) -> None:
        self.rt = rt
        self.now = now
        self.tenant_id = tenant_id
        self.report = report
        self.cfg = rt.settings
        self.jobs: list[tuple[str, tuple, str]] = []
        self.next_due: dict[uuid.UUID, datetime | None] = {}
        self.new_rounds: list[dict[str, Any]] = []
        self.cursors: dict[uuid.UUID, int] = {}
        self._statuses: dict[tuple, Any] = {}
        self.pairings: dict[uuid.UUID, list[tuple]] = {}
        self.usage: dict[str, dict[str, Any]] = {}

    def run(self, ids: list[uuid.UUID]) -> list[tuple[str, tuple, str]]:
        with tenant_session(self.tenant_id) as s:
            convs = s.execute(DUE_CONVERSATIONS, {"ids": ids, "now": self.now}).all()
            if not convs:
                return []
            self.tz = convs[0].timezone
            tenant_settings = {k: v for k, v in (convs[0].tenant_settings or {}).items() if v is not None}
            self._warmup_policy = effective(tenant_settings).warmup
            running = {c.id: c.running for c in convs if c.running}
            if running:
                self._supervise(s, running)
            planning = [c for c in convs if c.id not in running]
            if planning:
                self._plan(s, planning, tenant_settings)
            self._write(s)
            s.commit()
        return self.jobs

    # -- supervision of running rounds ----------------------------------------------------------------------

    def _supervise(self, s, running: dict[uuid.UUID, dict]) -> None:
        round_ids = [uuid.UUID(r["id"]) for r in running.values()]
        last = {
            r.round_id: r
            for r in s.execute(
                text(
                    "SELECT DISTINCT ON (round_id) round_id, id, status::text AS status, meta, created_at, sent_at, "
                    "send_after FROM messages WHERE round_id = ANY(:ids) ORDER BY round_id, created_at DESC, "
                    "(meta->>'turn')::int DESC NULLS LAST"
                ),
                {"ids": round_ids},
            )
        }
        for conv_id, rnd in running.items():
            self.report.supervised += 1
            round_id = uuid.UUID(rnd["id"])
            msg = last.get(round_id)
            started = datetime.fromisoformat(rnd["started_at"])
            activity = max(t for t in (started, msg and msg.created_at, msg and msg.sent_at) if t)
            waiting = msg is not None and msg.status == "queued" and msg.send_after and msg.send_after > self.now
            idle = (self.now - activity).total_seconds()
            if idle >= self.cfg.round_stuck_s and not waiting:
                round_state.abort(s, round_id, "stuck", self.now)
                self.report.rounds_aborted += 1
                self.next_due[conv_id] = self.now + timedelta(seconds=1)  # plan again next tick (pause permitting)
                continue
            minute = int(self.now.timestamp()) // 60
            if msg is None and idle >= self.cfg.reply_recover_s:
                self.jobs.append(
                    (START_ROUND_JOB, (str(self.tenant_id), str(round_id)), job_id("start", round_id, minute))
                )
                self.report.replies_recovered += 1
            elif (
                msg is not None
                and msg.status in ("delivered", "read")
                and idle >= self.cfg.reply_recover_s
                and (msg.meta or {}).get("turn") is not None
                and int(msg.meta["turn"]) + 1 < rnd["planned_turns"]
            ):
                self.jobs.append(
                    (ON_MESSAGE_JOB, (str(self.tenant_id), str(msg.id), False), job_id("onmsg", msg.id, minute))
                )
                self.report.replies_recovered += 1
            self.next_due[conv_id] = self.now + timedelta(seconds=self.cfg.round_watchdog_s)

    # -- planning new rounds --------------------------------------------------------------------------------

    def _status(self, rows: list[dict]):
        """schedule_status, memoised per tick: most conversations share a schedule (the default grid)."""
        key = tuple(sorted(tuple(sorted(r.items())) for r in rows))
        if key not in self._statuses:
            self._statuses[key] = schedule_status(slots_from_day_rows(rows), self.now, self.tz)
        return self._statuses[key]

    def _plan(self, s, convs: list[Any], tenant_settings: dict) -> None:
        local = to_local(self.now, self.tz)
        candidates = []
        for conv in convs:
            settings = effective(tenant_settings, conv.overrides)
            rows = conv.schedule or []
            try:
                status = self._status(rows)
            except ValueError:
                self._skip(conv.id, "bad_schedule", None)
                continue
            next_open = status.next_open.start.astimezone(UTC) if status.next_open else None
            window = status.open
            if window is None:
                self._skip(conv.id, "no_window", next_open)
                continue
            quiet = settings.quiet_hours
            if quiet.enabled and quiet.contains(local.time()):
                self._skip(conv.id, "quiet_hours", quiet.next_end(local).astimezone(UTC))
                continue
            usable_end = window.end.astimezone(UTC)
            if quiet.enabled:
                quiet_start = at_local(local.date(), quiet.start, local.tzinfo).astimezone(UTC)
                if self.now < quiet_start < usable_end:
                    usable_end = quiet_start
            if (usable_end - self.now).total_seconds() < self.cfg.min_window_left_s:
                self._skip(conv.id, "window_closing", next_open)
                continue
            candidates.append((conv, settings, window, usable_end, next_open, rows))
        if not candidates:
            return
        people = {c.id: [self._person(p, local.time()) for p in (c.people or [])] for c, *_ in candidates}
        self.pairings = {c.id: [tuple(p) for p in (c.pairings or [])] for c, *_ in candidates}
        self.usage = self._usage([p for c, *_ in candidates for p in (c.people or [])])
        for conv, settings, window, usable_end, next_open, rows in candidates:
            stat = (conv.window_stats or {}).get(window.key)
            done = stat[0] if stat else 0
            last_end = datetime.fromisoformat(stat[1]) if stat and stat[1] else None
            day_row = next((r for r in rows if r["day"] == window.day), {})
            decision = round_logic.rounds_allowed(
                done,
                day_row.get("max_rounds_per_window"),
                last_end,
                self.now,
                day_row.get("pause_between_rounds_min", 20),
                day_row.get("pause_between_rounds_max", 60),
                round_logic.round_seed(conv.id, window.key),
            )
            if not decision.allowed:
                retry = decision.retry_at
                self._skip(conv.id, decision.reason or "blocked", retry if retry and retry < usable_end else next_open)
                continue
            topics = [uuid.UUID(t) for t in (conv.topics or [])]
            self._start(conv, settings, window, done, people[conv.id], topics, next_open, usable_end)

    def _usage(self, people: list[dict]) -> dict[str, dict[str, Any]]:
        """Per number: sends in the rolling hour and the tenant-local day, and today's warm-up cap (the send
        pipeline's rules; this only avoids starting rounds that the caps would cut short)."""
        policy = self._warmup_policy
        out: dict[str, dict[str, Any]] = {}
        for p in people:
            number_id = p.get("number_id")
            if not number_id or number_id in out:
                continue
            last = datetime.fromisoformat(p["last_before"]) if p.get("last_before") else None
            day = warmup.day_today(policy, p.get("active_days") or 0, bool(p.get("today")), last, self.now)
            cap = warmup.daily_cap(policy, day, health_ok=(p.get("failure_streak") or 0) < 2)
            out[number_id] = {"today": p.get("today") or 0, "hour": p.get("hour") or 0, "daily_cap": cap}
        return out

    def _over_budget(self, settings: EffectiveSettings, speakers: list[dict]) -> str | None:
        """Would the round's turns (`speakers`, one per turn) cut through a number's caps? Else reserve them."""
        needs: dict[str, int] = {}
        for speaker in speakers:
            if speaker["kind"] == "bot":
                needs[speaker["number_id"]] = needs.get(speaker["number_id"], 0) + 1
        for number_id, n in needs.items():
            use = self.usage.get(number_id)
            if use is None:
                continue
            if use["today"] + n > use["daily_cap"]:
                return "daily_cap"
            limit = settings.hourly_burst_limit
            if limit is not None and use["hour"] + n > limit:
                return "hourly_cap"
        for number_id, n in needs.items():  # reserve, for other conversations planned in this tick
            if number_id in self.usage:
                self.usage[number_id]["today"] += n
                self.usage[number_id]["hour"] += n
        return None

    def _person(self, p: dict, local_time: time_of_day) -> dict:
        """A participant (from the due-conversations query) with its eligibility for a round now: a number must be
        connected, on an Evolution server that works, settled after pairing, and inside its persona's active
        hours (a round started on a server that is down would only wait for it and lose its window)."""
        if p["kind"] == "bot":
            paired = datetime.fromisoformat(p["paired_at"]) if p.get("paired_at") else None
            eligible = (
                p.get("number_status") == "connected"
                and not p.get("server_held")
                and bool(p.get("wa_number"))
                and warmup.settled(paired, self.now, self._warmup_policy)
                and within_active_hours(p.get("active_hours"), local_time)
            )
        else:
            eligible = (
                bool(p.get("contact_wa"))
                and p.get("consent") == "granted"
                and not p.get("opted_out_at")
                and not p.get("suppressed")
            )
        return {
            "kind": p["kind"],
            "number_id": p.get("number_id"),
            "contact_id": p.get("contact_id"),
            "label": p.get("label"),
            "eligible": eligible,
            "active_days": p.get("active_days"),  # a group's phase rule (engine.group_rounds)
            "habits": p.get("habits"),
        }

    def _start(
        self,
        conv: Any,
        settings: EffectiveSettings,
        window: Window,
        done: int,
        people: list[dict],
        topics: list[uuid.UUID],
        next_open: datetime | None,
        usable_end: datetime,
    ) -> None:
        rng = random.Random(f"{conv.id}|{window.key}|{done}")
        eligible = [p for p in people if p["eligible"]]
        if conv.mode == "group":
            self._start_group(conv, settings, window, eligible, topics, next_open, rng)
            return
        chosen = self._choose(conv, eligible, rng)
        if chosen is None:
            retry = min(self.now + timedelta(minutes=15), next_open) if next_open else self.now + timedelta(minutes=15)
            self._skip(conv.id, "no_eligible_participants", retry)
            return
        plan, a, b = chosen
        if a["kind"] == "bot" and b["kind"] == "bot" and not settings.allow_bot_to_bot:
            self._skip(conv.id, "bot_to_bot_disabled", next_open)
            return
        if a["kind"] != "bot":  # the opener is always one of our numbers
            a, b = b, a
            plan = round_logic.RoundPlan(plan.speaker_b, plan.speaker_a, plan.exchanges, plan.phases, plan.next_index)
        capped = self._over_budget(settings, [a if who == plan.speaker_a else b for _, who in plan.turns])
        if capped is not None:
            later = self.now + timedelta(minutes=20)
            self._skip(conv.id, capped, later if capped == "hourly_cap" and later < usable_end else next_open)
            return
        self._add_round(conv, window, topics, [a, b], len(plan.phases), plan.next_index)

    def _add_round(self, conv, window, topics, people: list[dict], planned: int, cursor: int | None) -> None:
        """A new running round of `planned` turns among `people` (two who alternate, or a group's turn order)."""
        topic_id = round_logic.pick_topic(topics, conv.topic_strategy, conv.topic_refresh_minutes, self.now, conv.id)
        round_id = uuid.uuid4()
        speakers = [{k: v for k, v in p.items() if k not in ("eligible", "habits", "active_days")} for p in people]
        self.new_rounds.append(
            {
                "id": round_id,
                "t": self.tenant_id,
                "c": conv.id,
                "topic": topic_id,
                "participants": json.dumps(speakers),
                "planned": planned,
                "window": window.key,
                "now": self.now,
            }
        )
        if cursor is not None:
            self.cursors[conv.id] = cursor
        self.next_due[conv.id] = self.now + timedelta(seconds=self.cfg.round_watchdog_s)
        self.jobs.append((START_ROUND_JOB, (str(self.tenant_id), str(round_id)), job_id("start", round_id)))
        self.report.rounds_started += 1

    def _start_group(self, conv, settings, window, eligible, topics, next_open, rng: random.Random) -> None:
        decision = plan_group_round(conv.warming_group, eligible, settings.actions, rng)
        if decision.setup:
            minute = int(self.now.timestamp()) // 60
            self.jobs.append((GROUP_SETUP_JOB, (str(self.tenant_id), str(conv.id)), job_id("group", conv.id, minute)))
        skip = decision.skip or self._over_budget(settings, decision.speakers)
        if skip is not None:
            soon = self.now + timedelta(minutes=1 if decision.setup else 15)
            self._skip(conv.id, skip, min(soon, next_open) if next_open else soon)
            return
        self._add_round(conv, window, topics, decision.speakers, len(decision.speakers), None)

    def _choose(self, conv: Any, eligible: list[dict], rng: random.Random):
        """(plan, speaker A, speaker B) with logic.rounds.plan_round, or None when nobody can talk."""
        by_number = {p["number_id"]: p for p in eligible if p["number_id"]}
        if conv.mode == round_logic.PAIR:
            pairs = [(str(a), str(b)) for a, b in self.pairings.get(conv.id, [])]
            if not pairs:  # no explicit pairings: participants two by two in start order
                ordered = [p["number_id"] or p["contact_id"] for p in eligible]
                pairs = [(ordered[i], ordered[i + 1]) for i in range(0, len(ordered) - 1, 2)]
                by_number = {p["number_id"] or p["contact_id"]: p for p in eligible}
            usable = [(x, y) for x, y in pairs if x in by_number and y in by_number]
            if not usable:
                return None
            cursor = conv.round_cursor
            # Keep the cursor walking over every configured pair; skip ones with an unavailable number.
            for step in range(len(pairs)):
                x, y = pairs[(cursor + step) % len(pairs)]
                if (x, y) in usable:
                    plan = round_logic.plan_round([x, y], round_logic.PAIR, rng, (cursor + step) // len(pairs))
                    plan = round_logic.RoundPlan(
                        plan.speaker_a, plan.speaker_b, plan.exchanges, plan.phases, cursor + step + 1
                    )
                    return plan, by_number[plan.speaker_a], by_number[plan.speaker_b]
            return None
        keyed = {p["number_id"] or p["contact_id"]: p for p in eligible}
        ids = list(keyed)
        if len(ids) < 2:
            return None
        if sum(1 for p in eligible if p["kind"] == "bot") == 0:
            return None
        for attempt in range(4):  # a random draw of two humans is drawn again
            plan = round_logic.plan_round(ids, conv.mode, rng, conv.round_cursor + attempt)
            a, b = keyed[plan.speaker_a], keyed[plan.speaker_b]
            if a["kind"] == "bot" or b["kind"] == "bot":
                return plan, a, b
        return None

    def _skip(self, conv_id: uuid.UUID, reason: str, next_due: datetime | None) -> None:
        self.report.skipped[reason] += 1
        # Never leave an active conversation due in the past (it would be read again on every tick).
        if next_due is not None and next_due <= self.now:
            next_due = self.now + timedelta(minutes=1)
        self.next_due[conv_id] = next_due

    def _write(self, s) -> None:
        """New rounds and every conversation's next look, in one statement."""
        if not self.new_rounds and not self.next_due:
            return
        rounds = [
            {
                "id": str(r["id"]),
                "conversation_id": str(r["c"]),
                "topic_id": str(r["topic"]) if r["topic"] else None,
                "participants": json.loads(r["participants"]),
                "planned_turns": r["planned"],
                "window_key": r["window"],
            }
            for r in self.new_rounds
        ]
        updates = [
            {"id": str(k), "next_due_at": v.isoformat() if v else None, "round_cursor": self.cursors.get(k)}
            for k, v in self.next_due.items()
        ]
        s.execute(
            text(
                """
                WITH new_rounds AS (
                    INSERT INTO rounds (id, tenant_id, conversation_id, topic_id, participants, planned_turns,
                                        turns_done, state, window_key, started_at, created_at)
                    SELECT x.id, :t, x.conversation_id, x.topic_id, x.participants, x.planned_turns, 0, 'running',
                           x.window_key, :now, :now
                    FROM jsonb_to_recordset(CAST(:rounds AS jsonb)) AS x(id uuid, conversation_id uuid,
                         topic_id uuid, participants jsonb, planned_turns int, window_key text)
                    RETURNING 1
                )
                UPDATE conversations c SET next_due_at = u.next_due_at,
                       round_cursor = COALESCE(u.round_cursor, c.round_cursor)
                FROM jsonb_to_recordset(CAST(:updates AS jsonb)) AS u(id uuid, next_due_at timestamptz,
                     round_cursor int)
                WHERE c.id = u.id AND (SELECT count(*) FROM new_rounds) >= 0
                """
            ),
            {"t": self.tenant_id, "now": self.now, "rounds": json.dumps(rounds), "updates": json.dumps(updates)},
        )
