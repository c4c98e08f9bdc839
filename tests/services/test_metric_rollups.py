"""Incremental metric rollups (alembic 0019, services/metric_rollups.py): after random inserts, late status changes,
moves and deletes, interleaved with rollup steps of random sizes, the rollups equal an aggregate computed here from
scratch (from the `messages` rows, by the definition in services/metrics.py's docstring), and so does a rebuild."""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.services import metric_rollups
from mirage_app.services.metrics import NONE
from tests.conftest import make_numbers

STATUSES = ["queued", "sent", "failed", "server_ack", "delivered", "read"]
LEFT = {"sent", "server_ack", "delivered", "read"}
NOW = datetime.now(UTC)


def _conversation_with_topics(tenant: uuid.UUID) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A conversation and three of its rounds: two with a topic, one without."""
    with tenant_session(tenant) as s:
        conversation = s.execute(
            text(
                "INSERT INTO conversations (tenant_id, name, active, openai_model, temperature, topic_strategy, "
                "topic_refresh_minutes) VALUES (:t, 'c', true, 'gpt-4o-mini', 0.8, 'rotate', 120) RETURNING id"
            ),
            {"t": tenant},
        ).scalar()
        rounds = []
        for seed in ("a", "b", None):
            topic = None
            if seed:
                topic = s.execute(
                    text(
                        "INSERT INTO topics (tenant_id, conversation_id, seed, system_prompt) "
                        "VALUES (:t, :c, :seed, '') RETURNING id"
                    ),
                    {"t": tenant, "c": conversation, "seed": seed},
                ).scalar()
            rounds.append(
                s.execute(
                    text(
                        "INSERT INTO rounds (tenant_id, conversation_id, topic_id, window_key, state, planned_turns, "
                        "turns_done) VALUES (:t, :c, :topic, 'w', 'done', 4, 4) RETURNING id"
                    ),
                    {"t": tenant, "c": conversation, "topic": topic},
                ).scalar()
            )
        s.commit()
    return conversation, rounds


class World:
    """One tenant's numbers, conversation and rounds, and random changes to its messages."""

    def __init__(self, tenant: uuid.UUID, rng: random.Random) -> None:
        self.tenant, self.rng = tenant, rng
        self.numbers = make_numbers(tenant, 3, prefix=f"T{tenant.hex[:4]}-")
        self.conversation, self.rounds = _conversation_with_topics(tenant)
        self.ids: list[uuid.UUID] = []

    def _pick(self, values: list, none_share: float = 0.3):
        return None if self.rng.random() < none_share else self.rng.choice(values)

    def insert(self, s) -> None:
        out = self.rng.random() < 0.75
        latency = {"reply_latency_s": self.rng.choice([5, 12.5, 40, 300])} if self.rng.random() < 0.5 else {}
        row = s.execute(
            text(
                "INSERT INTO messages (tenant_id, direction, body, status, from_number_id, to_number_id, "
                "conversation_id, round_id, meta, created_at) VALUES (:t, CAST(:d AS msg_direction), 'oi', "
                "CAST(:st AS message_status), :f, :to, :c, :r, CAST(:meta AS jsonb), :at) RETURNING id"
            ),
            {
                "t": self.tenant, "d": "out" if out else "in", "st": self.rng.choice(STATUSES),
                "f": self._pick(self.numbers, 0.1) if out else None, "to": self._pick(self.numbers, 0.4),
                "c": self._pick([self.conversation]), "r": self._pick(self.rounds), "meta": json.dumps(latency),
                "at": NOW - timedelta(minutes=self.rng.randrange(0, 9 * 24 * 60)),
            },
        ).scalar()  # fmt: skip
        self.ids.append(row)

    def change(self, s) -> None:
        if not self.ids:
            return
        target = self.rng.choice(self.ids)
        kind = self.rng.choice(["status", "status", "status", "latency", "move", "delete"])
        if kind == "status":  # a late webhook, hours after the message
            s.execute(
                text("UPDATE messages SET status = CAST(:st AS message_status), updated_at = now() WHERE id = :id"),
                {"st": self.rng.choice(STATUSES), "id": target},
            )
        elif kind == "latency":
            s.execute(
                text("UPDATE messages SET meta = meta || jsonb_build_object('reply_latency_s', :v) WHERE id = :id"),
                {"v": self.rng.choice([1, 2.5, 99]), "id": target},
            )
        elif kind == "move":  # another number, or the number removed
            s.execute(
                text("UPDATE messages SET to_number_id = :to, created_at = created_at - interval '90 minutes' "
                     "WHERE id = :id"),
                {"to": self._pick(self.numbers), "id": target},
            )  # fmt: skip
        else:
            s.execute(text("DELETE FROM messages WHERE id = :id"), {"id": target})
            self.ids.remove(target)


def _from_scratch(tenant: uuid.UUID) -> dict[tuple, tuple[int, int, float, int]]:
    with tenant_session(tenant) as s:
        tz = ZoneInfo(s.execute(text("SELECT timezone FROM tenants")).scalar())
        rows = s.execute(
            text(
                "SELECT m.direction::text AS direction, m.status::text AS status, m.from_number_id, m.to_number_id, "
                "m.conversation_id, m.meta, m.created_at, r.topic_id FROM messages m "
                "LEFT JOIN rounds r ON r.id = m.round_id"
            )
        ).all()
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, 0.0, 0])
    for m in rows:
        local = m.created_at.astimezone(tz)
        conversation = m.conversation_id or NONE
        latency = m.meta.get("reply_latency_s")
        if m.direction == "out" and m.status != "queued":
            failed = m.status == "failed"
            topic = m.topic_id if m.topic_id and not failed else NONE
            key = (local.date(), local.hour, m.from_number_id or NONE, conversation, "out", topic)
            fact = sums[key]
            fact[0 if not failed else 1] += 1
            if latency is not None:
                fact[2] += float(latency)
                fact[3] += 1
        if m.to_number_id and m.status in LEFT:
            sums[(local.date(), local.hour, m.to_number_id, conversation, "in", NONE)][0] += 1
    return {k: tuple(v) for k, v in sums.items()}


def _rollups(tenant: uuid.UUID) -> dict[tuple, tuple[int, int, float, int]]:
    with tenant_session(tenant) as s:
        rows = s.execute(
            text(
                "SELECT day, hour, number_id, conversation_id, direction, topic_id, messages, failed, latency_sum, "
                "latency_n FROM message_rollups"
            )
        ).all()
    return {tuple(r[:6]): (r.messages, r.failed, r.latency_sum, r.latency_n) for r in rows}


def _assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (messages, failed, latency_sum, latency_n) in expected.items():
        g = got[key]
        assert (g[0], g[1], g[3]) == (messages, failed, latency_n), key
        assert g[2] == pytest.approx(latency_sum, abs=1e-6), key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_from_scratch_aggregate(make_tenant, seed):
    rng = random.Random(seed)
    metric_rollups.advance_all()  # what earlier tests of the run left pending: the small steps below are for ours
    # Two tenants, one in a zone 45 minutes off the hour: local hours are the tenant's own.
    worlds = [
        World(make_tenant(timezone="America/Sao_Paulo"), rng),
        World(make_tenant(timezone="Asia/Kathmandu"), rng),
    ]
    for _ in range(40):
        world = rng.choice(worlds)
        with tenant_session(world.tenant) as s:
            for _ in range(rng.randrange(1, 8)):
                if rng.random() < 0.6:
                    world.insert(s)
                else:
                    world.change(s)
            if rng.random() < 0.1:
                s.rollback()  # a transaction that never commits leaves no change behind
            else:
                s.commit()
        if rng.random() < 0.3:
            metric_rollups.advance(limit=rng.choice([1, 7, 50]))  # a step may take part of what is pending
        if rng.random() < 0.1:
            world.ids = _existing(world.tenant)
    metric_rollups.advance_all(limit=13, max_steps=10_000)  # small steps, until nothing is pending
    for world in worlds:
        expected = _from_scratch(world.tenant)
        assert expected, "the random history produced no facts"
        _assert_same(_rollups(world.tenant), expected)

    metric_rollups.rebuild(worlds[0].tenant)  # the repair gives the same rows, and leaves the other tenant alone
    for world in worlds:
        _assert_same(_rollups(world.tenant), _from_scratch(world.tenant))


def _existing(tenant: uuid.UUID) -> list[uuid.UUID]:
    with tenant_session(tenant) as s:
        return list(s.execute(text("SELECT id FROM messages")).scalars())


def test_a_late_status_lands_in_the_hour_of_the_message(make_tenant):
    tenant = make_tenant(timezone="America/Sao_Paulo")
    a, b = make_numbers(tenant, 2)
    sent_at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 20:30 on 2 March in São Paulo
    with tenant_session(tenant) as s:
        message = s.execute(
            text(
                "INSERT INTO messages (tenant_id, direction, body, status, from_number_id, to_number_id, created_at) "
                "VALUES (:t, 'out', 'oi', 'sent', :a, :b, :at) RETURNING id"
            ),
            {"t": tenant, "a": a, "b": b, "at": sent_at},
        ).scalar()
        s.commit()
    metric_rollups.advance_all()
    with tenant_session(tenant) as s:  # hours later: it failed after all
        s.execute(text("UPDATE messages SET status = 'failed' WHERE id = :id"), {"id": message})
        s.commit()
    with tenant_session(tenant) as s:
        pending = s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar()
    assert pending == 3  # sent and received taken back, the failure added
    metric_rollups.advance_all()
    rollups = _rollups(tenant)
    assert rollups == {(sent_at.date(), 20, a, NONE, "out", NONE): (0, 1, 0.0, 0)}


def _one_message(tenant: uuid.UUID, status: str) -> None:
    """A warming message between two new numbers of the tenant."""
    a, b = make_numbers(tenant, 2)
    with tenant_session(tenant) as s:
        s.execute(
            text("INSERT INTO messages (tenant_id, direction, body, status, from_number_id, to_number_id) "
                 "VALUES (:t, 'out', 'oi', CAST(:status AS message_status), :a, :b)"),
            {"t": tenant, "a": a, "b": b, "status": status},
        )  # fmt: skip
        s.commit()


def test_a_status_that_counts_the_same_writes_no_change(make_tenant):
    tenant = make_tenant()
    _one_message(tenant, "queued")
    with tenant_session(tenant) as s:
        assert s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar() == 0  # queued: nothing
        s.execute(text("UPDATE messages SET status = 'sent'"))
        s.commit()
        assert s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar() == 2  # sent + received
        s.execute(text("UPDATE messages SET status = 'delivered', attempts = 2"))
        s.execute(text("UPDATE messages SET status = 'read'"))
        s.commit()
        assert s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar() == 2


def test_a_rebuild_in_a_new_time_zone_moves_the_hours(make_tenant):
    tenant = make_tenant(timezone="America/Sao_Paulo")
    (a,) = make_numbers(tenant, 1)
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with tenant_session(tenant) as s:
        s.execute(
            text("INSERT INTO messages (tenant_id, direction, body, status, from_number_id, created_at) "
                 "VALUES (:t, 'out', 'oi', 'read', :a, :at)"),
            {"t": tenant, "a": a, "at": at},
        )  # fmt: skip
        s.execute(text("UPDATE tenants SET timezone = 'Europe/Lisbon'"))
        s.commit()
    metric_rollups.rebuild(tenant)
    assert [k[1] for k in _rollups(tenant)] == [12]


def test_a_deleted_tenant_leaves_no_rollups_or_changes(make_tenant):
    from mirage_app.core.db import admin_engine

    tenant = make_tenant()
    a, b = make_numbers(tenant, 2)
    with tenant_session(tenant) as s:
        s.execute(
            text("INSERT INTO messages (tenant_id, direction, body, status, from_number_id, to_number_id) "
                 "VALUES (:t, 'out', 'oi', 'read', :a, :b), (:t, 'out', 'oi', 'read', :b, :a)"),
            {"t": tenant, "a": a, "b": b},
        )  # fmt: skip
        s.commit()
    metric_rollups.advance_all()
    with tenant_session(tenant) as s:
        s.execute(text("DELETE FROM messages WHERE from_number_id = :a"), {"a": a})  # pending when the tenant goes
        s.commit()
    with admin_engine().begin() as conn:
        conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": tenant})
    metric_rollups.advance_all()
    with admin_engine().begin() as conn:
        left = conn.execute(
            text("SELECT (SELECT count(*) FROM message_rollups WHERE tenant_id = :t) + "
                 "(SELECT count(*) FROM message_fact_changes WHERE tenant_id = :t)"),
            {"t": tenant},
        ).scalar()  # fmt: skip
    assert left == 0


def test_the_rollup_job_runs_at_least_every_minute():
    from workers.scheduler import PERIODIC_JOBS

    job = next(j for j in PERIODIC_JOBS if j.func == "workers.jobs.advance_metric_rollups")
    assert job.every_seconds <= 60


def test_mirage_metrics_rebuild_repairs_the_rollups(make_tenant, capsys):
    from mirage_app.cli import main
    from mirage_app.core.db import admin_engine

    tenant = make_tenant()
    a, b = make_numbers(tenant, 2)
    with tenant_session(tenant) as s:
        s.execute(
            text("INSERT INTO messages (tenant_id, direction, body, status, from_number_id, to_number_id) "
                 "VALUES (:t, 'out', 'oi', 'read', :a, :b)"),
            {"t": tenant, "a": a, "b": b},
        )  # fmt: skip
        s.commit()
    metric_rollups.advance_all()
    expected = _rollups(tenant)
    with admin_engine().begin() as conn:  # damage, as a bad restore would
        conn.execute(text("UPDATE message_rollups SET messages = 99 WHERE tenant_id = :t"), {"t": tenant})
    assert main(["metrics", "rebuild", "--tenant", str(tenant)]) == 0
    assert "rebuilt" in capsys.readouterr().out
    assert _rollups(tenant) == expected


def test_the_application_role_cannot_run_a_rebuild(make_tenant):
    from psycopg.errors import InsufficientPrivilege
    from sqlalchemy.exc import ProgrammingError

    from mirage_app.core.db import app_engine

    with pytest.raises(ProgrammingError) as raised, app_engine().begin() as conn:
        conn.execute(text("SELECT mirage_rebuild_metric_rollups(:t, NULL)"), {"t": make_tenant()})
    assert isinstance(raised.value.orig, InsufficientPrivilege)


def test_rebuilds_racing_writes_and_steps_still_agree(make_tenant):
    """Rebuilds while another thread writes messages and runs steps: nothing counted twice or lost."""
    import threading

    tenant = make_tenant()
    world = World(tenant, random.Random(7))
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            with tenant_session(tenant) as s:
                for _ in range(5):
                    world.insert(s)
                world.change(s)
                s.commit()
            metric_rollups.advance(limit=20)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(5):
            metric_rollups.rebuild(tenant)
    finally:
        stop.set()
        writer.join()
    metric_rollups.advance_all()
    _assert_same(_rollups(tenant), _from_scratch(tenant))


def test_the_exposition_shows_the_rollup_backlog(make_tenant):
    """Prometheus sees how many changes wait for the rollup step (every tenant's, as one number), and the step
    empties it."""
    from mirage_app.services.prometheus import exposition

    def backlog() -> float:
        line = next(x for x in exposition()[0].decode().splitlines() if x.startswith("mirage_metric_rollup_backlog "))
        return float(line.split()[1])

    metric_rollups.advance_all()
    tenant = make_tenant()
    _one_message(tenant, "sent")
    before = backlog()
    assert before >= 2  # sent for one number, received for the other
    metric_rollups.advance_all()
    assert backlog() < before  # (other processes of the run may write meanwhile: not necessarily 0)
    with tenant_session(tenant) as s:
        assert s.execute(text("SELECT count(*) FROM message_fact_changes")).scalar() == 0
