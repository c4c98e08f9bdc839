"""Fixtures for engine scenarios: a simulator on a FrozenClock, the engine runtime on that clock, connected numbers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mirage_app.core.clock import FrozenClock
from mirage_app.core.db import tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.engine.runtime import EngineRuntime, EngineSettings, ManualDeferrer, use_runtime
from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.simulator.config import SimConfig
from mirage_app.evolution.simulator.server import SimulatorServer
from mirage_app.evolution.simulator.state import SimulatorState
from mirage_app.services import contacts, instances, outreach, tenant_settings
from tests.conftest import wait_for
from tests.engine.driver import Driver

TZ = "America/Sao_Paulo"


def next_monday_midnight(days_ahead: int = 40) -> datetime:
    """A Monday 00:00 in São Paulo comfortably in the future (so nothing real-time overlaps the warped week)."""
    local = (datetime.now(UTC) + timedelta(days=days_ahead)).astimezone(ZoneInfo(TZ))
    monday = local.date() + timedelta(days=(7 - local.weekday()) % 7)
    return datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


@pytest.fixture
def warp_clock() -> FrozenClock:
    return FrozenClock(next_monday_midnight())


@pytest.fixture
def warp_sim(api_server, warp_clock) -> Iterator[SimulatorServer]:
    """A simulator whose timestamps follow the warped clock, configured as Mirage's Evolution server."""
    from mirage_app.core.config import reset_settings_cache
    from mirage_app.engine.evolution_gateway import reset_evolution_client
    from tests.conftest import retire_server, use_as_default_server

    config = SimConfig(webhook_backoff_s=0.05, webhook_backoff_cap_s=0.2, seed=11)
    sim = SimulatorServer(SimulatorState(config, clock=warp_clock))
    sim.start()
    keys = ("EVOLUTION_URL", "EVOLUTION_API_KEY", "EVOLUTION_CAPACITY", "MIRAGE_DEMO")
    saved = {k: os.environ.get(k) for k in keys}
    server_id = use_as_default_server(sim.url, sim.api_key)
    try:
        yield sim
    finally:
        sim.stop()
        retire_server(server_id)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if saved["EVOLUTION_URL"] and saved["EVOLUTION_API_KEY"]:
            use_as_default_server(saved["EVOLUTION_URL"], saved["EVOLUTION_API_KEY"])
        reset_settings_cache()
        reset_evolution_client()


@dataclass
class Engine:
    clock: FrozenClock
    deferrer: ManualDeferrer
    runtime: EngineRuntime
    sim: SimulatorServer
    client: EvolutionClient
    driver: Driver


def make_engine(clock, sim, tenant_id, **settings) -> tuple[EngineRuntime, ManualDeferrer, EvolutionClient]:
    deferrer = ManualDeferrer()
    client = EvolutionClient(sim.url, sim.api_key, timeout=5.0, send_read_margin_s=0.5, backoff_s=0.01)
    defaults = {"retry_base_s": 30.0, "overdue_grace_s": 600.0}
    rt = EngineRuntime(
        clock=clock,
        deferrer=deferrer,
        settings=EngineSettings(**(defaults | settings)),
        evolution=lambda: client,
        llm=lambda: None,
    )
    return rt, deferrer, client


@pytest.fixture
def engine_settings() -> dict:
    """Override per test module/test to tune EngineSettings."""
    return {}


@pytest.fixture
def text_only(admin_actor) -> None:
    """The tenant's numbers only type: for tests about pacing, caps and faults of text turns (the mix of actions
    beyond text has its own tests, e.g. test_rich_fortnight)."""
    from mirage_app.logic.actions import DEFAULT_MIN_DAY, TEXT
    from mirage_app.services import action_rules

    action_rules.set_tenant_rules(admin_actor, off=[a for a in DEFAULT_MIN_DAY if a != TEXT])


def park_all_conversations() -> None:
    """The test database is shared by the whole session and the tick is cross-tenant: earlier tests' active
    conversations must not take part in this one."""
    from mirage_app.core.db import admin_engine

    with admin_engine().begin() as conn:
        conn.execute(text("UPDATE conversations SET active = false, next_due_at = NULL WHERE active"))


@pytest.fixture
def engine(warp_clock, warp_sim, admin_actor, engine_settings) -> Iterator[Engine]:
    get_redis().flushdb()
    park_all_conversations()
    rt, deferrer, client = make_engine(warp_clock, warp_sim, admin_actor.tenant_id, **engine_settings)
    with use_runtime(rt):
        yield Engine(
            warp_clock, deferrer, rt, warp_sim, client, Driver(warp_clock, deferrer, warp_sim, admin_actor.tenant_id)
        )
    client.close()


def connect_numbers(actor, sim, phones: list[str], clock, *, paired_days_ago: float = 30) -> list[uuid.UUID]:
    """Create instances through the normal service, scan them on the simulator, wait for `connected`, and mark them
    paired long enough ago to be past the settle time (warm-up day counter at 0: brand-new senders)."""
    ids = []
    for index, phone in enumerate(phones):
        created = instances.create_instance(actor, f"Number {index + 1}")
        sim.scan(created.session_id, phone)
        ids.append(created.id)

    def all_connected() -> bool:
        with tenant_session(actor.tenant_id) as s:
            n = s.execute(
                text("SELECT count(*) FROM numbers WHERE id = ANY(:ids) AND status = 'connected'"), {"ids": ids}
            ).scalar()
        return n == len(ids)

    assert wait_for(all_connected), "numbers did not connect"
    with tenant_session(actor.tenant_id) as s:
        s.execute(
            text("UPDATE numbers SET paired_at = :t, active_days = 0 WHERE id = ANY(:ids)"),
            {"t": clock.now() - timedelta(days=paired_days_ago), "ids": ids},
        )
        s.commit()
    return ids


def queue_messages(tenant_id, a, b, n: int, clock) -> list[uuid.UUID]:
    """`n` plain messages from number `a` to number `b`, queued and due now (no round: only the caps apply)."""
    out = []
    with tenant_session(tenant_id) as s:
        for i in range(n):
            out.append(s.execute(
                text("INSERT INTO messages (tenant_id, from_number_id, to_number_id, direction, body, status, meta, "
                     "created_at, send_after) VALUES (:t, :a, :b, 'out', :body, 'queued', '{}', :now, :now) "
                     "RETURNING id"),
                {"t": tenant_id, "a": a, "b": b, "body": f"mensagem {i} {uuid.uuid4().hex[:6]}", "now": clock.now()},
            ).scalar())  # fmt: skip
        s.commit()
    return out


# Outreach scenarios: quiet hours and humanising off, so only the policy's own rules decide.
OUTREACH_FAST = {"quiet_hours_enabled": False, "humanize": False}


def outreach_setup(actor, engine: Engine, phones: list[str]) -> list[uuid.UUID]:
    tenant_settings.update_settings(actor, **OUTREACH_FAST)
    numbers = connect_numbers(actor, engine.sim, phones, engine.clock)
    engine.clock.advance(timedelta(hours=10))  # Monday 10:00 in São Paulo: inside the morning daypart
    return numbers


def new_policy(actor, number_id, **kw):
    values = {"daily_limit": 20, "hourly_limit": 10, "dayparts": ["morning", "afternoon", "evening"],
              "min_gap_minutes": 0, "active": True} | kw  # fmt: skip
    return outreach.create_policy(actor, number_id=number_id, **values)


def new_contact(actor, phone, name, consent="granted"):
    return contacts.create_contact(actor, phone, name, consent_status=consent, consent_source="site")


def tick_policies(engine: Engine, *policies) -> list[str]:
    """Run the given (tenant id, policy) pairs' outreach tick, then everything it triggers."""
    from mirage_app.engine import outreach_scheduler

    rt = outreach_scheduler.runtime()
    outcomes = [outreach_scheduler.PolicyTick(rt, engine.clock.now(), p_tenant, p.id).run() for p_tenant, p in policies]
    engine.driver.settle()
    return outcomes
