"""The command line: the options, the run from start to end (services, Mirage, the baseline, the phases, the
report and the goal), and `main`, which also serves the baseline in its own process (`--serve-baseline`)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import webhooks
from bench.webhooks.fixture import Fixture, HarnessError, Server, child_env, free_port, serve_baseline, start_services
from bench.webhooks.load import LoadResult
from bench.webhooks.phases import count_rows, duplicate_phase, measure, post_once, preflight, print_table

BIN = Path(sys.executable).parent
GOAL_EVENTS_PER_S = 1000.0
GOAL_P99_MS = 50.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=webhooks.__doc__.split("\n\n")[0], prog="python -m bench.webhooks")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per run (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds before each run (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="closed loop: keep-alive connections (64)")
    parser.add_argument(
        "--workers", type=int, default=None, help="GRANIAN_WORKERS for both servers (default: what Reflex picks)"
    )
    parser.add_argument(
        "--rate", type=float, default=GOAL_EVENTS_PER_S, help="open loop: events/s, 0 to skip (default 1000)"
    )
    parser.add_argument("--rate-connections", type=int, default=64, help="open loop: connection pool size (64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads / Python generator processes (2)")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto", help="closed-loop load")
    parser.add_argument("--dup-events", type=int, default=1000, help="unique bodies in the duplicate phase (1000)")
    parser.add_argument("--numbers", type=int, default=4, help="numbers (instances) receiving deliveries (4)")
    parser.add_argument(
        "--from-me",
        action="store_true",
        help="send messages.upsert with key.fromMe=true: stored and applied like any delivery, but not handed to "
        "the conversation engine (no opt-out check, no on_message job): the cost of ingestion alone",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="measure Mirage only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generator == "auto":
        args.generator = "wrk" if shutil.which("wrk") else "python"
    os.environ["MIRAGE_BENCH_FROM_ME"] = "1" if args.from_me else "0"
    if args.generator == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk), use --generator python")
    return args


def run(args: argparse.Namespace) -> int:
    base = Path(tempfile.mkdtemp(prefix="mirage-bench-webhooks-"))
    run_id = uuid.uuid4().hex[:6].upper()
    servers: list[Server] = []
    fixture: Fixture | None = None
    print(
        f"cpus={os.cpu_count()} closed loop: {args.generator}, {args.connections} connections; open loop: "
        f"{args.rate:g}/s; {args.warmup:g} s warm-up + {args.seconds:g} s each; run {run_id}; {base}",
        flush=True,
    )
    try:
        t0 = time.monotonic()
        fixture = start_services(base, args.numbers)
        print(f"embedded PostgreSQL + Redis up, migrated and seeded in {time.monotonic() - t0:.1f} s", flush=True)

        # Mirage, exactly as production starts it.
        mirage_port = free_port()
        mirage = Server(
            "mirage",
            [str(BIN / "reflex"), "run", "--env", "prod", "--backend-only", "--backend-port", str(mirage_port)],
            child_env(fixture, args.workers),
            mirage_port,
            base / "mirage.log",
        )
        servers.append(mirage.start())
        t0 = time.monotonic()
        mirage.wait_ready(timeout=180)
        mirage_workers = len(mirage.worker_pids())
        print(
            f"mirage: `reflex run --env prod --backend-only` up in {time.monotonic() - t0:.1f} s with "
            f"{mirage_workers} Granian workers ({'GRANIAN_WORKERS' if args.workers else 'chosen by Reflex'})",
            flush=True,
        )
        if mirage_workers < 1:
            raise HarnessError(f"could not see Mirage's workers:\n{mirage.log_tail()}")
        preflight(mirage_port, fixture.instances, f"3EB0{run_id}")

        results: list[LoadResult] = []
        if not args.skip_baseline:
            base_port = free_port()
            baseline = Server(
                "baseline",
                [sys.executable, "-m", "bench.webhooks", "--serve-baseline", str(base_port)],
                child_env(fixture, args.workers or mirage_workers),
                base_port,
                base / "baseline.log",
            )
            servers.append(baseline.start())
            baseline.wait_ready(timeout=60)
            baseline_workers = len(baseline.worker_pids())
            answer = post_once(base_port, fixture.instances[0], b'{"event":"x"}')
            if answer != (200, {"ok": True}):
                raise HarnessError(f"the baseline answered {answer}")
            results += measure(args, "baseline", baseline, baseline_workers, fixture, f"3EB0{run_id}B")
            baseline.stop()
            servers.remove(baseline)

        prefix = f"3EB0{run_id}L"
        mirage_results = measure(args, "mirage", mirage, mirage_workers, fixture, prefix)
        results += mirage_results
        events, messages = count_rows(fixture, prefix)
        answered = sum(r.ok for r in mirage_results)
        dup = duplicate_phase(mirage_port, fixture, f"3EB0{run_id}D", args.dup_events, 3, min(args.connections, 32))
        mirage.check_alive()

        print()
        print_table(results)
        by_key = {(r.label, r.mode.split()[0]): r for r in results}
        for mode in ("closed", "open"):
            b, m = by_key.get(("baseline", mode)), by_key.get(("mirage", mode))
            if b and m and b.events_per_s and b.p50_ms and b.p99_ms:
                print(
                    f"mirage/baseline ({m.mode}): throughput {m.events_per_s / b.events_per_s:.3f}, "
                    f"p50 {m.p50_ms / b.p50_ms:.1f}x, p99 {m.p99_ms / b.p99_ms:.1f}x"
                )
        stored_ok = events == messages and events >= answered
        print(
            f"\nrows stored by the load runs (incl. warm-ups): webhook_events={events} messages={messages}; "
            f"2xx answers in the measured windows: {answered} -> {'OK' if stored_ok else 'MISMATCH'}"
        )
        print(
            f"duplicates: {dup.unique} unique bodies x3, shuffled, {min(args.connections, 32)} connections = "
            f"{dup.sent} deliveries in {dup.seconds:.1f} s, statuses {dup.statuses}; rows webhook_events="
            f"{dup.events} messages={dup.messages} -> {'OK' if dup.ok else 'FAIL'}"
        )
        closed, opened = by_key[("mirage", "closed")], by_key.get(("mirage", "open"))
        base_closed = by_key.get(("baseline", "closed"))
        print(
            f"closed loop at saturation ({args.connections} connections), not judged: p99 mirage {closed.p99_ms:.1f} ms"
            + (f", bare baseline {base_closed.p99_ms:.1f} ms" if base_closed else "")
            + f"; queueing alone makes the mean {args.connections / max(closed.events_per_s, 1) * 1000:.0f} ms"
        )
        checks = {
            f"closed-loop (saturation) events/s >= {GOAL_EVENTS_PER_S:,.0f}": closed.events_per_s >= GOAL_EVENTS_PER_S,
            "no HTTP or socket errors": all(
                sum(n for kind, n in r.errors.items() if kind != "unfinished") == 0 for r in mirage_results
            ),
            "duplicates add no rows": dup.ok,
            "every answered event stored once": stored_ok,
        }
        if opened is not None:
            checks[f"sustained {args.rate:g}/s (open loop): p99 < {GOAL_P99_MS:.0f} ms"] = opened.p99_ms < GOAL_P99_MS
            checks[f"sustained {args.rate:g}/s (open loop): rate held, all answered"] = (
                opened.events_per_s >= 0.98 * args.rate and not opened.errors.get("unfinished")
            )
        else:
            checks["a sustained-rate run (--rate 0 skipped it)"] = False
        for r in results:
            if r.cpu_ms:
                own = sum(v for k, v in r.cpu_ms.items() if k != "other")
                print(
                    f"{r.label}: CPU per answered event, all processes of the run: {own:.2f} ms -> on a quiet "
                    f"{os.cpu_count()}-core machine the ceiling is about {(os.cpu_count() or 1) * 1000 / own:,.0f} "
                    "events/s (estimate)"
                )
        for r in results:
            share = r.cpu_ms.get("other", 0.0) * r.events_per_s / 1000 / (os.cpu_count() or 1)
            if share > 0.10:
                print(
                    f"WARNING: during the {r.label} {r.mode} run, processes outside this benchmark used "
                    f"{share:.0%} of the machine's CPU: its figures are pessimistic; rerun on a quiet machine."
                )
        print("\ngoal (>= 1,000 events/s with p99 < 50 ms; duplicates add no rows):")
        for name, met in checks.items():
            print(f"  {'yes' if met else 'NO '}  {name}")
        print("GOAL MET" if all(checks.values()) else "GOAL NOT MET (see the lines marked NO)")
        return 0
    except HarnessError as exc:
        print(f"\nharness error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a server went away under load, a port vanished...
        print(f"\nharness error: {exc!r}", file=sys.stderr)
        for server in servers:
            if server.proc is not None and server.proc.poll() is not None:
                print(f"{server.name} exited ({server.proc.returncode}):\n{server.log_tail()}", file=sys.stderr)
        return 2
    finally:
        for server in reversed(servers):
            server.stop()
        if fixture is not None:
            fixture.stop()
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0

    def _terminate(signum, _frame):  # turn SIGTERM/SIGHUP into the normal clean-up path
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
