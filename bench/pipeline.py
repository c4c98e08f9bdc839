"""Reply pipeline: an inbound message reaches one of our numbers → its reply is accepted by Evolution.

    .venv/bin/python -m bench.pipeline                        # 5, 10, 20 and 150 conversations at once, 2 workers
    .venv/bin/python -m bench.pipeline --levels 10,300 --workers 2 --all-events

What runs (real processes, nothing mocked):
- an embedded PostgreSQL and Redis in a temporary folder (or DATABASE_URL / REDIS_URL), migrated;
- the Evolution simulator (in this process, its own HTTP server and webhook thread; real time, no delays);
- Mirage's `/api` (uvicorn, one process, the same ASGI stack as production minus Reflex) receiving the webhooks;
- N `mirage worker` processes (default 2; SimpleWorker, RQ scheduler on).

Each conversation pairs two simulated numbers; humanisation is off (no reading/typing/gap delays) and caps are
lifted, so what is measured is the machinery. One tick starts a round in every conversation; every turn after
the first is a reply: the simulator delivers the message to the other number (`messages.upsert` webhook) →
ingestion → the engine's inbox → a drain job decides and writes the reply (offline generator) → read receipt →
`sendText` accepted by the simulator. The latency of a reply runs from the simulator's delivery of the inbound
message to its acceptance of the reply (both stamped by the simulator). Replies/s is the number of replies over
the spans from each run's first inbound to its last reply.

Conversations ping-pong (each has one reply in flight at a time), so how many run at once sets the load: a few
show the latency of a lightly loaded engine, many saturate it (their latency is then the queue: Little's law).
Each level runs rounds until about `--replies` replies were measured.

By default each number's webhook subscribes to MESSAGES_UPSERT and CONNECTION_UPDATE only (the events on the
measured path); `--all-events` keeps Mirage's full set (send.message and three acks per message as well). The
simulator posts webhooks from a single thread, one at a time, so with every event it, not Mirage, sets the pace.

Baseline (same run): a bare `sendText` round trip to the same simulator, and the same number of sends spread
over the same number of threads as workers (sends/s).
Goal: p50 < 150 ms and >= 100 replies/s with 2 workers, at the same load (one level meeting both).

The numbers act with the persona defaults (logic.actions.Habits: reactions, quotes, typo fixes, voice notes,
pictures, stickers…; every action allowed, as the numbers are 30 days old), and the run prints the mix it sent;
`--text-only` switches everything but text off, to compare. A reaction is neither a measured reception nor a reply.
The tenant's media library starts with the demo's starter set (services.media_starter), as a demo tenant's does;
what a number has sent to every partner already is drawn during the run, and voice notes are always spoken anew
(both counted in the output).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
SECRET_HEADER = "x-mirage-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """User+system CPU seconds per group of processes (listed pids only), plus the whole machine."""
    import psutil

    out: dict[str, float] = {}
    for group, members in pids.items():
        total = 0.0
        for pid in members:
            try:
                procs = [psutil.Process(pid)]
            except psutil.Error:
                continue
            for proc in procs:
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
        out[group] = total
    machine = psutil.cpu_times()
    out["machine"] = machine.user + machine.system + getattr(machine, "nice", 0.0)
    return out


def descendants(pid: int, prefix: str = "") -> list[int]:
    """Pids of `pid`'s descendants (optionally only those whose name starts with `prefix`)."""
    import psutil

    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    return [k.pid for k in kids if k.name().startswith(prefix)]


def wait_http(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def setup_numbers(sim, tenant, count: int, api_url: str, events: list[str]) -> list[tuple[uuid.UUID, str]]:
    """Numbers whose webhook secrets we know, created in Evolution (the simulator) and scanned."""
    from mirage_app.core.db import tenant_session
    from mirage_app.core.security import encrypt, hash_token
    from mirage_app.evolution.client import EvolutionClient
    from mirage_app.models import EvolutionSession, Number, NumberStatus

    client = EvolutionClient(sim.url, sim.api_key)
    out = []
    for i in range(count):
        # The row first: the simulator's first webhooks must find the instance (unknown names are cached briefly).
        name, secret, token = f"bench-{i}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex, uuid.uuid4().hex
        with tenant_session(tenant) as s:
            number = Number(tenant_id=tenant, session_id=name, label=f"Bench {i}", status=NumberStatus.connecting)
            s.add(number)
            s.flush()
            s.add(
                EvolutionSession(
                    tenant_id=tenant,
                    number_id=number.id,
                    token_enc=encrypt(token),
                    webhook_secret_hash=hash_token(secret),
                )
            )
            s.commit()
            out.append((number.id, name))
        client.create_instance(
            name,
            token=token,
            webhook_url=f"{api_url}/api/webhooks/evolution",
            webhook_headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
            webhook_events=events,
        )
        sim.scan(name, f"55119{70000000 + i:08d}")
    client.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--levels",
        type=lambda v: sorted({int(x) for x in v.split(",")}),
        default=[5, 10, 20, 150],
        help="conversations running at once, one run each (default 5,10,20,150)",
    )
    parser.add_argument("--replies", type=int, default=600, help="about this many replies per level (600)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--all-events", action="store_true")
    parser.add_argument(
        "--text-only", action="store_true", help="numbers only type (the mix of actions beyond text switched off)"
    )
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--profile-worker", metavar="FILE", help="run the first worker under cProfile into FILE")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="mirage-bench-pipeline-"))
    os.environ.setdefault("MIRAGE_SECRET_KEY", f"bench-{uuid.uuid4().hex}")
    os.environ.setdefault("MIRAGE_DATA_DIR", str(workdir / "data"))
    os.environ.pop("OPENAI_API_KEY", None)
    stoppers: list = []
    procs: list[subprocess.Popen] = []
    try:
        from mirage_app.core.embedded import EmbeddedPostgres, EmbeddedRedis

        if not os.environ.get("DATABASE_URL"):
            pg = EmbeddedPostgres(workdir / "pg").start()
            stoppers.append(pg.stop)
            os.environ["DATABASE_URL"] = pg.admin_url()
        if not os.environ.get("REDIS_URL"):
            redis = EmbeddedRedis(workdir / "redis").start()
            stoppers.append(redis.stop)
            os.environ["REDIS_URL"] = redis.url
        return run(args, workdir, procs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        from mirage_app.core.db import reset_engines

        reset_engines()
        for stop in reversed(stoppers):
            stop()
        if args.keep:
            print(f"logs kept in {workdir}")


def run(args, workdir: Path, procs: list[subprocess.Popen]) -> int:
    from sqlalchemy import text

    from mirage_app.base.permissions import Actor
    from mirage_app.core import migrate
    from mirage_app.core.config import reset_settings_cache
    from mirage_app.core.db import admin_engine, tenant_session
    from mirage_app.core.redis import get_redis
    from mirage_app.engine import conversation_scheduler
    from mirage_app.engine.runtime import runtime, use_runtime
    from mirage_app.evolution.simulator.config import SimConfig
    from mirage_app.evolution.simulator.server import SimulatorServer
    from mirage_app.logic.actions import DEFAULT_MIN_DAY, TEXT
    from mirage_app.models import UserRole
    from mirage_app.services import action_rules, conversations, media_starter, tenant_settings
    from mirage_app.services.seed import create_tenant

    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    sim = SimulatorServer(config=SimConfig(seed=3, webhook_backoff_s=0.05, webhook_backoff_cap_s=0.5))
    sim.start()
    os.environ.update(EVOLUTION_URL=sim.url, EVOLUTION_API_KEY=sim.api_key, MIRAGE_PUBLIC_URL=api_url)
    reset_settings_cache()
    migrate.upgrade()
    get_redis().flushdb()
    tenant = create_tenant("Pipeline bench")
    admin = Actor(tenant_id=tenant, role=UserRole.admin, label="bench", mfa_enabled=True)
    tenant_settings.update_settings(
        admin,
        humanize=False,
        quiet_hours_enabled=False,
        hourly_burst_limit=1000,
        warmup={"day1": 1000, "first_week_cap": 1000, "max_daily": 1000},
    )
    if args.text_only:
        action_rules.set_tenant_rules(admin, off=[a for a in DEFAULT_MIN_DAY if a != TEXT])
    else:  # the library every demo tenant starts with; what runs out is drawn during the run (counted below)
        media_starter.load_starter_library(admin)

    env = dict(os.environ)
    log = (workdir / "api.log").open("ab")
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "mirage_app.api.app:asgi", "--port", str(api_port), "--log-level",
             "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    )  # fmt: skip
    wait_http(f"{api_url}/api/health")

    events = (
        ["QRCODE_UPDATED", "CONNECTION_UPDATE", "MESSAGES_UPSERT", "MESSAGES_UPDATE", "SEND_MESSAGE"]
        if args.all_events
        else ["CONNECTION_UPDATE", "MESSAGES_UPSERT"]
    )
    n_conv = max(args.levels)
    t0 = time.perf_counter()
    numbers = setup_numbers(sim, tenant, 2 * n_conv + 20, api_url, events)
    sim.wait_idle(30)
    with tenant_session(tenant) as s:
        s.execute(text("UPDATE numbers SET paired_at = now() - interval '30 days', active_days = 30"))
        connected = s.execute(text("SELECT count(*) FROM numbers WHERE status = 'connected'")).scalar()
        s.commit()
    if connected != len(numbers):
        raise RuntimeError(f"only {connected}/{len(numbers)} numbers connected")
    day = {"morning_enabled": True, "morning_start": "00:00", "morning_end": "08:00",
           "afternoon_enabled": True, "afternoon_start": "08:00", "afternoon_end": "16:00",
           "evening_enabled": True, "evening_start": "16:00", "evening_end": "24:00",
           "max_rounds_per_window": 50, "pause_min": 1, "pause_max": 1}  # fmt: skip
    warm_ids, bench_ids = [], []
    for i in range(n_conv + 10):
        c = conversations.create_conversation(admin, f"C{i}", "pair")
        a, b = numbers[2 * i][0], numbers[2 * i + 1][0]
        conversations.add_participant(admin, c.id, number_id=a)
        conversations.add_participant(admin, c.id, number_id=b)
        conversations.set_schedule(admin, c.id, [{"day": d, **day} for d in ("sun", "mon", "tue", "wed", "thu",
                                                                            "fri", "sat")])  # fmt: skip
        (warm_ids if i < 10 else bench_ids).append(c.id)
    with tenant_session(tenant) as s:
        # Rounds back to back measure the pipeline, not the pacing; the schedule form refuses a 0-minute pause.
        s.execute(text("UPDATE conversation_schedule SET pause_between_rounds_min = 0, pause_between_rounds_max = 0"))
        s.commit()
    ready = time.perf_counter() - t0
    print(f"{len(numbers)} numbers and {n_conv + 10} conversations ready in {ready:.1f} s", flush=True)

    wlog = (workdir / "workers.log").open("ab")
    for index in range(args.workers):
        profile = ["-m", "cProfile", "-o", args.profile_worker] if args.profile_worker and index == 0 else []
        procs.append(
            subprocess.Popen(
                [sys.executable, *profile, "-m", "mirage_app.cli", "worker"],
                cwd=ROOT,
                env=env,
                stdout=wlog,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def run_rounds(ids: list[uuid.UUID]) -> tuple[int, int, int]:
        for cid in ids:
            conversations.activate(admin, cid)
        # No "too close to the window's end" skip: the bench runs at any time of day (windows end at 08, 16, 24 h).
        real = runtime()
        with use_runtime(real.with_changes(settings=replace(real.settings, min_window_left_s=0))):
            report = conversation_scheduler.tick()
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            with tenant_session(tenant) as s:
                open_rounds = s.execute(
                    text("SELECT count(*) FROM rounds WHERE conversation_id = ANY(:ids) AND state = 'running'"),
                    {"ids": ids},
                ).scalar()
            if not open_rounds:
                break
            time.sleep(0.05 if len(ids) <= 20 else 0.5)  # the figures come from the simulator's timestamps
        for cid in ids:
            conversations.deactivate(admin, cid)
        with tenant_session(tenant) as s:
            done = s.execute(
                text("SELECT count(*), coalesce(sum(planned_turns), 0) FROM rounds WHERE conversation_id = ANY(:ids) "
                     "AND state = 'done'"),
                {"ids": ids},
            ).one()  # fmt: skip
        return report.rounds_started, done[0], int(done[1])

    run_rounds(warm_ids)  # warm the workers (imports, pools) and the API
    sim.wait_idle(30)
    # Statistics as autovacuum keeps them in a running database. One loaded a second ago has none, and the planner
    # then takes a look-up of a message by id over the monthly partitions of `messages` for one row per partition
    # and joins it by scanning a tenant's rounds (2.8 ms instead of 0.45 ms for the turn's context).
    with admin_engine().connect() as owner:
        owner.execute(text("ANALYZE"))
        owner.commit()
    groups = {
        "workers": [pid for p in procs[1:] for pid in (p.pid, *descendants(p.pid))],
        "api": [procs[0].pid, *descendants(procs[0].pid)],
        "sim (this process)": [os.getpid()],
        "postgres": descendants(os.getpid(), "postgres"),
        "redis": descendants(os.getpid(), "redis"),
    }
    levels = []
    for n in args.levels:
        ids = bench_ids[:n]
        repeats = max(1, math.ceil(args.replies / (n * 5)))  # a round is 2-4 exchanges: about 5 replies
        latencies: list[float] = []
        busy_s = 0.0
        cpu_before = cpu_seconds(groups)
        for _ in range(repeats):
            mark = len(sim.messages())
            run_rounds(ids)
            sim.wait_idle(30)
            got, span = replies(sim.messages()[mark:])
            latencies += got
            busy_s += span
        cpu_after = cpu_seconds(groups)
        if not latencies:
            print(f"{n} conversations: no replies measured; see the logs with --keep")
            return 2
        cpu = {k: (cpu_after[k] - cpu_before[k]) * 1000 / len(latencies) for k in cpu_after}
        levels.append(Level(n, latencies, len(latencies) / busy_s if busy_s > 0 else float("nan"), cpu))
        print(f"{n:>4} conversations: {levels[-1].rate:6.1f} replies/s, p50 {statistics.median(latencies):7.1f} ms",
              flush=True)  # fmt: skip

    base, base_rate = baseline(sim, numbers[-2:], 500, args.workers)
    print()
    print(f"{args.workers} workers; humanisation off; webhook events: "
          f"{'all' if args.all_events else 'MESSAGES_UPSERT + CONNECTION_UPDATE'}")  # fmt: skip
    mix = Counter(m.message_type for m in sim.messages(from_me=True))
    print("sent (the mix): " + ", ".join(f"{kind} {n}" for kind, n in mix.most_common())
          + (" (text only)" if args.text_only else " (persona defaults, logic.actions.Habits)"))  # fmt: skip
    if not args.text_only:
        with tenant_session(tenant) as s:
            library = s.execute(text("SELECT tags @> '[\"demo\"]' AS starter, kind::text, count(*) FROM media_assets "
                                     "GROUP BY 1, 2 ORDER BY 2")).all()  # fmt: skip

        def listed(starter: bool) -> str:
            return ", ".join(f"{n} {kind}" for was, kind, n in library if was == starter) or "nothing"

        print(f"library: the demo's starter set ({listed(True)}); made during the run: {listed(False)}")
    print(f"{'inbound -> reply accepted':28} {'replies':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}  cpu ms per reply")
    for lv in levels:
        known = sum(v for k, v in lv.cpu.items() if k != "machine")
        parts = " ".join(f"{k.split()[0]}={v:.1f}" for k, v in lv.cpu.items() if k != "machine")
        print(f"{f'  {lv.conversations} conversations at once':28} {len(lv.latencies):>7} {lv.rate:>7.1f} "
              f"{statistics.median(lv.latencies):>8.1f} {pct(lv.latencies, 0.99):>8.1f}  {parts} "
              f"other={max(0.0, lv.cpu['machine'] - known):.1f} (machine {lv.cpu['machine']:.1f})")  # fmt: skip
    print(f"{'baseline: bare sendText':28} {len(base):>7} {base_rate:>7.1f} {statistics.median(base):>8.1f} "
          f"{pct(base, 0.99):>8.1f}")  # fmt: skip
    best = max(levels, key=lambda lv: lv.rate)
    light = statistics.median(levels[0].latencies)
    print(f"\nsaturation: {best.rate:.1f} replies/s ({best.rate / base_rate:.2f} of bare sends/s); p50 at the lightest "
          f"load {light:.1f} ms = x{light / statistics.median(base):.1f} a bare sendText")  # fmt: skip
    met = [lv for lv in levels if lv.rate >= 100 and statistics.median(lv.latencies) < 150]
    print(
        f"goal p50 < 150 ms and >= 100 replies/s at the same load, {args.workers} workers: "
        + (f"met ({', '.join(f'{lv.conversations} conversations' for lv in met)})" if met else "NOT met")
    )
    return 0


@dataclass
class Level:
    conversations: int
    latencies: list[float]
    rate: float
    cpu: dict[str, float]


# A reaction rides along with a turn (it is not answered, and it is not the answer): not a reply to measure.
NOT_A_TURN = frozenset({"reactionMessage"})


def replies(log_rows) -> tuple[list[float], float]:
    """(latency of each reply in ms, seconds from the first inbound to the last reply): each reception is paired
    with the receiver's next send to the same peer, both stamped by the simulator."""
    latencies, first_in, last_out = [], None, None
    by_key: dict[tuple[str, str], list] = {}
    for m in log_rows:
        by_key.setdefault((m.instance, m.peer_phone), []).append(m)
    for msgs in by_key.values():
        msgs.sort(key=lambda m: m.at)
        for i, m in enumerate(msgs):
            if m.from_me or m.message_type in NOT_A_TURN:
                continue
            reply = next((x for x in msgs[i + 1 :] if x.from_me and x.message_type not in NOT_A_TURN), None)
            if reply is None:
                continue
            latencies.append((reply.at - m.at).total_seconds() * 1000)
            first_in = m.at if first_in is None or m.at < first_in else first_in
            last_out = reply.at if last_out is None or reply.at > last_out else last_out
    span = (last_out - first_in).total_seconds() if latencies else 0.0
    return latencies, span


def baseline(sim, pair, total: int, threads: int) -> tuple[list[float], float]:
    """Bare sendText round trips to the same simulator: latency, and throughput with `threads` senders."""
    from mirage_app.evolution.client import EvolutionClient

    (_, a), (_, b) = pair
    phone_b = next(inst["phone"] for inst in sim.state.snapshot()["instances"] if inst["name"] == b)
    samples: list[float] = []
    lock = threading.Lock()
    per_thread = max(1, total // threads)

    def sender() -> None:
        client = EvolutionClient(sim.url, sim.api_key)
        mine = []
        for i in range(per_thread):
            t = time.perf_counter()
            client.send_text(a, phone_b, f"baseline {uuid.uuid4().hex[:8]} {i}")
            mine.append((time.perf_counter() - t) * 1000)
        client.close()
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=sender) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return samples, len(samples) / (time.perf_counter() - started)


if __name__ == "__main__":
    raise SystemExit(main())
