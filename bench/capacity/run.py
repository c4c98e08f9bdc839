"""One size from start to end: build its world, start Mirage as in production, warm up, measure the window, and
tear everything down whatever happens."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.capacity.figures import SENT, Result, database_figures
from bench.capacity.plan import CAPACITY, HOST, SIM_KEY, Pacing, Size
from bench.capacity.watch import Watch, machine_cpu
from bench.capacity.world import (
    create_instances,
    free_ports,
    make_conversations,
    make_numbers,
    make_tenant,
    register_servers,
    use_env,
    wait_connected,
    wait_sim,
    zone_just_after_midnight,
)
from bench.webhooks.fixture import Server, _libpq

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_size(args: argparse.Namespace, size: Size, pacing: Pacing) -> Result:
    from mirage_app.core.embedded import EmbeddedPostgres, EmbeddedRedis

    workdir = Path(tempfile.mkdtemp(prefix=f"mirage-bench-capacity-{size.numbers}-"))
    servers: list[Server] = []
    stoppers = []
    watch: Watch | None = None
    result = Result(size, size.numbers // 2, pacing, args.typing)
    t_setup = time.monotonic()
    try:
        pg = EmbeddedPostgres(workdir / "pg").start()
        stoppers.append(pg.stop)
        redis = EmbeddedRedis(workdir / "redis").start()
        stoppers.append(redis.stop)
        *sim_ports, api_port = free_ports(size.servers + 1)
        api_url = f"http://{HOST}:{api_port}"
        env = {
            "DATABASE_URL": pg.admin_url(),
            "REDIS_URL": redis.url,
            "MIRAGE_SECRET_KEY": f"bench-{uuid.uuid4().hex}",
            "MIRAGE_PUBLIC_URL": api_url,
            "EVOLUTION_URL": f"http://{HOST}:{sim_ports[0]}",  # set, so no embedded supervisor starts
            "EVOLUTION_API_KEY": SIM_KEY,
            "EVOLUTION_CAPACITY": str(CAPACITY),
            "MIRAGE_DATA_DIR": str(workdir / "data"),
            "MIRAGE_LOG_LEVEL": "WARNING",
        }
        use_env(env)
        dsn = _libpq(pg.admin_url())

        from mirage_app.core import migrate

        migrate.upgrade()
        tz = zone_just_after_midnight()
        tenant = make_tenant(dsn, pacing, tz)

        child_env = {k: v for k, v in os.environ.items() if k not in ("MIRAGE_EMBEDDED_OWNER", "GRANIAN_WORKERS")}
        child_env.pop("MIRAGE_APP_DATABASE_URL", None)
        child_env.pop("OPENAI_API_KEY", None)
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        if args.backend_workers:
            child_env["GRANIAN_WORKERS"] = str(args.backend_workers)

        sim = Server(
            "simulator",
            [sys.executable, "-m", "bench.capacity", "--serve-sim", ",".join(map(str, sim_ports)), "--factor",
             str(pacing.factor), "--typing", args.typing, "--seed", str(args.seed)],
            child_env, sim_ports[-1], workdir / "sim.log",
        )  # fmt: skip
        servers.append(sim.start())
        backend = Server(
            "backend",
            [str(BIN / "reflex"), "run", "--env", "prod", "--backend-only", "--backend-port", str(api_port)],
            child_env, api_port, workdir / "backend.log",
        )  # fmt: skip
        servers.append(backend.start())
        wait_sim(sim, sim_ports)
        server_ids = register_servers(sim_ports)
        print(f"  {size.servers} simulated servers up and registered; waiting for the backend ...", flush=True)
        backend.wait_ready(timeout=240)
        result.backend_workers = len(backend.worker_pids())

        numbers = make_numbers(dsn, tenant, size, server_ids)
        t0 = time.monotonic()
        create_instances(numbers, sim_ports, args.threads)
        wait_connected(dsn, size.numbers, backend, sim)
        print(f"  {size.numbers:,} instances created, scanned and connected through the webhooks in "
              f"{time.monotonic() - t0:.0f} s", flush=True)  # fmt: skip
        make_conversations(dsn, tenant, [n[0] for n in numbers], pacing)

        watch_roots = {
            "backend": [backend.proc.pid],
            "simulator": [sim.proc.pid],
            "postgres": [pg.proc.pid],
            "redis": [redis.proc.pid],
            "bench": [os.getpid()],
        }
        workers = []
        for i in range(args.workers):
            cmd = [sys.executable, "-m", "mirage_app.cli", "worker"]
            if args.profile_worker and i == 0:
                prof = Path(args.profile_worker).with_suffix(f".{size.numbers}.prof")
                cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "mirage_app.cli", "worker"]
            workers.append(Server(f"worker {i + 1}", cmd, child_env, 0, workdir / f"worker{i + 1}.log").start())
        servers += workers
        scheduler = Server(
            "scheduler", [sys.executable, "-m", "mirage_app.cli", "scheduler"], child_env, 0, workdir / "scheduler.log"
        ).start()
        servers.append(scheduler)
        watch_roots["workers"] = [w.proc.pid for w in workers]
        watch_roots["scheduler"] = [scheduler.proc.pid]
        watch = Watch(watch_roots, dsn).start()
        result.setup_s = time.monotonic() - t_setup
        print(f"  ready in {result.setup_s:.0f} s: {result.conversations:,} conversations, {args.workers} workers, "
              f"scheduler, backend with {result.backend_workers} Granian workers; warm-up {args.warmup:g} s, then "
              f"{size.minutes:g} min measured", flush=True)  # fmt: skip

        _wait(args.warmup, servers)
        cpu0, machine0 = watch.sample_procs(), machine_cpu()
        t_start = time.time()
        next_report = time.monotonic() + 60
        deadline = time.monotonic() + size.minutes * 60
        while time.monotonic() < deadline:
            _wait(min(5.0, deadline - time.monotonic()), servers)
            if time.monotonic() >= next_report:
                next_report += 60
                _progress(dsn, t_start, watch)
        cpu1, machine1 = watch.sample_procs(), machine_cpu()
        t_end = time.time()
        result.window_s = t_end - t_start
        for pid, info in watch.procs.items():
            delta = cpu1.get(pid, info.cpu) - cpu0.get(pid, 0.0)
            result.cpu[info.group] = result.cpu.get(info.group, 0.0) + max(0.0, delta)
        result.cpu["machine"] = machine1 - machine0
        watch.stop()
        watch.sample_ticks_late()
        result.procs = list(watch.procs.values())
        result.queue_series = [q for q in watch.queue_series if q["t"] >= t_start - 1]
        result.ticks = [t for p, t in sorted(watch.ticks.items()) if t["started"] and t_start <= t["started"] < t_end]
        if watch.errors:
            result.notes.append(f"{len(watch.errors)} samples lost, e.g. {watch.errors[0]}")
        database_figures(dsn, result, t_start, t_end)
        for s in servers:
            s.check_alive()
        return result
    finally:
        if watch is not None:
            watch.stop()
        for s in reversed(servers):
            with contextlib.suppress(Exception):
                s.stop()
        from mirage_app.core.db import reset_engines
        from mirage_app.core.redis import reset_redis

        reset_engines()
        reset_redis()
        for stop in reversed(stoppers):
            with contextlib.suppress(Exception):
                stop()
        if args.keep:
            print(f"  logs kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _wait(seconds: float, servers: list[Server]) -> None:
    deadline = time.monotonic() + seconds
    while True:
        for s in servers:
            s.check_alive()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(2.0, left))


def _progress(dsn: str, t_start: float, watch: Watch) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        sends, lag95 = conn.execute(
            f"SELECT count(*), percentile_disc(0.95) WITHIN GROUP (ORDER BY (meta->>'lag_ms')::int) FROM messages "
            f"WHERE direction = 'out' AND status IN {SENT} AND sent_at >= now() - interval '60 seconds'"
        ).fetchone()
    q = watch.queue_series[-1] if watch.queue_series else {}
    print(f"    t+{(time.time() - t_start) / 60:4.1f} min: last minute {sends / 60:6.1f} sends/s, lag p95 "
          f"{(lag95 or 0) / 1000:6.1f} s; queues high {q.get('high', '-')} default {q.get('default', '-')}, "
          f"scheduled {q.get('sched_high', '-')}, due unsent {q.get('due_db', '-')}", flush=True)  # fmt: skip
