"""A size's world, built from nothing: Mirage's environment, the tenant, the simulated servers registered as platform
servers, the numbers created and connected through Mirage's own webhooks, and the conversations that pair them."""

from __future__ import annotations

import os
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bench.capacity.plan import CAPACITY, HOST, SIM_KEY, Pacing, Size
from bench.webhooks.fixture import HarnessError, Server, free_port


def free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def use_env(env: dict[str, str]) -> None:
    from mirage_app.core.config import reset_settings_cache
    from mirage_app.core.db import reset_engines
    from mirage_app.core.redis import reset_redis
    from mirage_app.engine.evolution_gateway import reset_evolution_client

    os.environ.pop("MIRAGE_APP_DATABASE_URL", None)
    os.environ.update(env)
    reset_settings_cache()
    reset_engines()
    reset_redis()
    reset_evolution_client()


def zone_just_after_midnight() -> str:
    """An Etc/GMT zone whose local time is now between 00:20 and 01:20: every window stays open for hours and no
    local day ends during the run (so neither the window's closing nor a new day's caps blur the figures)."""
    now = datetime.now(UTC)
    hours = now.hour + now.minute / 60
    offset = round(0.8 - hours) % 24  # local = UTC + offset
    if offset > 14:
        offset -= 24
    # POSIX sign convention: Etc/GMT-3 is UTC+3.
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def make_tenant(dsn: str, pacing: Pacing, tz: str) -> uuid.UUID:
    import psycopg

    from mirage_app.services.seed import create_tenant

    tenant = create_tenant("Capacity bench", timezone=tz)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE settings_tenant SET quiet_start = '00:00', quiet_end = '00:00', humanize = true, "
            "min_delay_s = %s, max_delay_s = %s WHERE tenant_id = %s",
            (pacing.min_delay_s, pacing.max_delay_s, tenant),
        )
    return tenant


def wait_sim(sim: Server, ports: list[int], timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sim.check_alive()
        try:
            if all(httpx.get(f"http://{HOST}:{p}/", timeout=2).status_code == 200 for p in (ports[0], ports[-1])):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise HarnessError(f"the simulator did not come up:\n{sim.log_tail()}")


def _sim_key(index: int) -> str:
    """Server i's global key in a pool (1-based): the first keeps the key, the others get -i."""
    return SIM_KEY if index == 1 else f"{SIM_KEY}-{index}"


def register_servers(ports: list[int]) -> list[uuid.UUID]:
    from mirage_app.services.evolution_servers import register_platform_server

    return [
        register_platform_server(f"Sim {i}", f"http://{HOST}:{port}", _sim_key(i), CAPACITY, probe=(i == 1))
        for i, port in enumerate(ports, start=1)
    ]


def make_numbers(dsn: str, tenant: uuid.UUID, size: Size, server_ids: list[uuid.UUID]) -> list[tuple]:
    """Rows first (the simulator's first webhooks must find the instance): number i on server i mod S."""
    import psycopg

    from mirage_app.core.security import encrypt, hash_token, new_token

    tag = uuid.uuid4().hex[:4]
    numbers = []
    for i in range(size.numbers):
        secret, token = new_token(), new_token(24)
        numbers.append((uuid.uuid4(), f"cap-{tag}-{i:05d}", i % size.servers, secret, token, f"55219{i:08d}"))
    with psycopg.connect(dsn, autocommit=False) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO numbers (id, tenant_id, session_id, label, status, server_id, failure_streak, active_days) "
            "VALUES (%s, %s, %s, %s, 'connecting', %s, 0, 0)",
            [(n[0], tenant, n[1], f"Bench {i:05d}", server_ids[n[2]]) for i, n in enumerate(numbers)],
        )
        cur.executemany(
            "INSERT INTO sessions (tenant_id, number_id, token_enc, webhook_secret_hash) VALUES (%s, %s, %s, %s)",
            [(tenant, n[0], encrypt(n[4]), hash_token(n[3])) for n in numbers],
        )
        conn.commit()
    return numbers


def create_instances(numbers: list[tuple], ports: list[int], threads: int) -> None:
    """Each instance created on its server as Mirage does it (its webhook, secret and events), then scanned."""
    import httpx

    from mirage_app.evolution.client import EvolutionClient
    from mirage_app.services.instances import _register_at

    by_server: dict[int, list[tuple]] = {}
    for n in numbers:
        by_server.setdefault(n[2], []).append(n)

    def one_server(index: int) -> None:
        url = f"http://{HOST}:{ports[index]}"
        with EvolutionClient(url, _sim_key(index + 1), timeout=30) as client, httpx.Client(timeout=30) as http:
            for _id, name, _s, secret, token, phone in by_server[index]:
                _register_at(client, name, secret, token)
                http.post(f"{url}/_sim/instances/{name}/scan", json={"phone_number": phone}).raise_for_status()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one_server, sorted(by_server)))


def wait_connected(dsn: str, total: int, *servers: Server, timeout: float = 600.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            _connected, with_phone = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'connected'), count(*) FILTER (WHERE status = 'connected' "
                "AND wa_number IS NOT NULL) FROM numbers"
            ).fetchone()
            if with_phone >= total:
                break
            if time.monotonic() > deadline:
                raise HarnessError(f"only {with_phone}/{total} numbers connected with a phone after {timeout:.0f} s")
            for s in servers:
                s.check_alive()
            time.sleep(1.0)
        # Paired long ago: the settle time after pairing (12 h) is over.
        conn.execute("UPDATE numbers SET paired_at = now() - interval '30 days', active_days = 30")
        conn.execute("ANALYZE")


def make_conversations(dsn: str, tenant: uuid.UUID, number_ids: list[uuid.UUID], pacing: Pacing) -> None:
    """Pairs (2k, 2k+1): on servers 2k mod S and 2k+1 mod S, different ones. First looks spread over a cycle."""
    import psycopg

    now = datetime.now(UTC)
    rng = random.Random(11)
    convs = []
    for k in range(len(number_ids) // 2):
        due = now + timedelta(seconds=rng.uniform(0, pacing.cycle_s))
        convs.append((uuid.uuid4(), k, due))
    with psycopg.connect(dsn, autocommit=False) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO conversations (id, tenant_id, name, mode, active, openai_model, temperature, topic_strategy, "
            "topic_refresh_minutes, next_due_at) VALUES (%s, %s, %s, 'pair', true, 'gpt-4o-mini', 0.8, 'rotate', "
            "120, %s)",
            [(c, tenant, f"C{k:05d}", due) for c, k, due in convs],
        )
        cur.executemany(
            "INSERT INTO conversation_participants (tenant_id, conversation_id, kind, number_id, role, start_order) "
            "VALUES (%s, %s, 'bot', %s, 'member', %s)",
            [(tenant, c, number_ids[2 * k + j], j) for c, k, _ in convs for j in (0, 1)],
        )
        cur.execute(
            """
            INSERT INTO conversation_schedule (tenant_id, conversation_id, day, morning_enabled, morning_start,
              morning_end, afternoon_enabled, afternoon_start, afternoon_end, evening_enabled, evening_start,
              evening_end, max_rounds_per_window, pause_between_rounds_min, pause_between_rounds_max)
            SELECT %(t)s, c.id, d::weekday, true, '00:00', '08:00', true, '08:00', '16:00', true, '16:00', '00:00',
                   1000, %(pmin)s, %(pmax)s
            FROM conversations c CROSS JOIN unnest(ARRAY['sun','mon','tue','wed','thu','fri','sat']) d
            WHERE c.tenant_id = %(t)s
            """,
            {"t": tenant, "pmin": pacing.pause_min, "pmax": pacing.pause_max},
        )
        cur.execute(
            "INSERT INTO settings_conversation (tenant_id, conversation_id, guard_no_echo) "
            "SELECT %s, id, true FROM conversations WHERE tenant_id = %s",
            (tenant, tenant),
        )
        conn.commit()
        cur.execute("ANALYZE")
