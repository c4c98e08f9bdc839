"""What the run does with a started server: the pre-flight and the stored-row counts, the duplicate phase, the
CPU meter, the closed- and open-loop runs against one server, and the results table."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from bench.webhooks.fixture import HOST, SECRET_HEADER, WEBHOOK_PATH, Fixture, HarnessError, Instance, Server
from bench.webhooks.load import LoadResult, drive, http_request, run_open_loop, run_python_load, run_wrk, upsert_body

# --------------------------------------------------------------------------------------------------------------
# Correctness checks.


def post_once(port: int, instance: Instance, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", SECRET_HEADER: instance.secret}
        conn.request("POST", WEBHOOK_PATH, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, {"raw": raw[:300].decode(errors="replace")}


def preflight(port: int, instances: list[Instance], prefix: str) -> None:
    """One delivery per instance, then one redelivery: the harness is wired right before anything is timed."""
    for n, inst in enumerate(instances):
        body = upsert_body(inst.name, f"{prefix}P{n:04X}", n)
        first = post_once(port, inst, body)
        if first != (200, {"ok": True, "duplicate": False}):
            raise HarnessError(f"pre-flight delivery to {inst.name} answered {first}")
        again = post_once(port, inst, body)
        if again != (200, {"ok": True, "duplicate": True}):
            raise HarnessError(f"pre-flight redelivery to {inst.name} answered {again}")


def count_rows(fixture: Fixture, prefix: str) -> tuple[int, int]:
    """(webhook_events, messages) for key ids starting with `prefix`, read with the owner connection."""
    import psycopg

    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        "SELECT (SELECT count(*) FROM webhook_events WHERE tenant_id = %(t)s"
        " AND payload->'data'->'key'->>'id' LIKE %(like)s),"
        " (SELECT count(*) FROM messages WHERE tenant_id = %(t)s AND wa_msg_id LIKE %(like)s)"
    )
    previous = None
    with psycopg.connect(fixture.admin_dsn, autocommit=True) as conn:
        # Deliveries still in flight when the generator stopped keep committing for a moment: wait until quiet.
        for _ in range(40):
            counts = conn.execute(query, {"t": fixture.tenant_id, "like": like}).fetchone()
            if counts == previous:
                break
            previous = counts
            time.sleep(0.5)
    return counts


@dataclass
class DuplicateResult:
    unique: int
    sent: int
    statuses: dict[int, int]
    duplicates_acknowledged: int
    events: int
    messages: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.events == self.unique and self.messages == self.unique and set(self.statuses) == {200}


def duplicate_phase(
    port: int, fixture: Fixture, prefix: str, unique: int, copies: int, connections: int
) -> DuplicateResult:
    instances = fixture.instances
    requests = []
    for n in range(unique):
        inst = instances[n % len(instances)]
        raw = http_request(port, inst.secret, upsert_body(inst.name, f"{prefix}{n:09X}", n))
        requests.extend([raw] * copies)
    random.Random(20261125).shuffle(requests)
    pending: Iterator[bytes] = iter(requests)
    statuses: Counter = Counter()

    def record(_started: float, _finished: float, status: int) -> None:
        statuses[status] += 1

    t0 = time.perf_counter()
    asyncio.run(drive(port, connections, lambda: next(pending, None), record))
    elapsed = time.perf_counter() - t0
    events, messages = count_rows(fixture, prefix)
    return DuplicateResult(
        unique=unique,
        sent=len(requests),
        statuses=dict(statuses),
        duplicates_acknowledged=statuses.get(200, 0) - events,
        events=events,
        messages=messages,
        seconds=elapsed,
    )


# --------------------------------------------------------------------------------------------------------------
# Measuring one server: CPU, the two load runs, the table.


class CpuMeter:
    """CPU seconds used by the server (all its processes), PostgreSQL (all backends), Redis, the load generator,
    and everything else on the machine ("other": anything not part of the run, which then competes for the cores)."""

    def __init__(self, server_pid: int, pg_pid: int, redis_pid: int) -> None:
        self.server_pid, self.pg_pid, self.redis_pid = server_pid, pg_pid, redis_pid

    @staticmethod
    def _machine_busy() -> float:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
        return busy / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _tree(pid: int) -> float:
        import psutil

        total = 0.0
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def snapshot(self) -> dict[str, float]:
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk / generator processes, once reaped
        own = resource.getrusage(resource.RUSAGE_SELF)
        snap = {
            "server": self._tree(self.server_pid),
            "postgres": self._tree(self.pg_pid),
            "redis": self._tree(self.redis_pid),
            "generator": usage.ru_utime + usage.ru_stime,
        }
        snap["other"] = self._machine_busy() - sum(snap.values()) - own.ru_utime - own.ru_stime
        return snap

    @staticmethod
    def per_event(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
        return {k: (after[k] - before[k]) * 1000 / max(events, 1) for k in before}


def measure(
    args: argparse.Namespace, label: str, server: Server, workers: int, fixture: Fixture, prefix: str
) -> list[LoadResult]:
    """The closed-loop saturation run and the open-loop fixed-rate run against one server."""
    results = []
    meter = CpuMeter(server.proc.pid, fixture.pg_pid, fixture.redis_pid)
    if args.generator == "wrk":
        if args.warmup > 0:
            run_wrk(
                server.port, fixture.instances, prefix + "W", args.warmup, args.connections, args.threads, fixture.base
            )
        before = meter.snapshot()
        closed = run_wrk(
            server.port, fixture.instances, prefix + "M", args.seconds, args.connections, args.threads, fixture.base
        )
        closed.cpu_ms = meter.per_event(before, meter.snapshot(), closed.requests)
    else:
        closed = run_python_load(
            server.port, fixture.instances, prefix + "M", args.warmup, args.seconds, args.connections, args.threads
        )
    server.check_alive()
    closed.label, closed.workers, closed.mode = label, workers, f"closed {args.connections} conn"
    results.append(closed)
    print(f"{label}: closed loop {closed.events_per_s:,.0f} events/s, p99 {closed.p99_ms:.1f} ms", flush=True)
    if args.rate > 0:
        opened = run_open_loop(
            server.port, fixture.instances, prefix + "R", args.rate, args.warmup, args.seconds, args.rate_connections
        )
        server.check_alive()
        opened.label, opened.workers, opened.mode = label, workers, f"open {args.rate:g}/s"
        results.append(opened)
        print(f"{label}: open loop at {args.rate:g}/s, p99 {opened.p99_ms:.1f} ms", flush=True)
    return results


def _fmt_row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def print_table(results: list[LoadResult]) -> None:
    header = ["server", "load", "workers", "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "cpu ms/event"]
    rows = []
    for r in results:
        cpu = " ".join(f"{k[:3]}={v:.2f}" for k, v in r.cpu_ms.items()) if r.cpu_ms else "-"
        rows.append(
            [
                r.label,
                r.mode,
                str(r.workers),
                f"{r.events_per_s:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p90_ms:.2f}",
                f"{r.p99_ms:.2f}",
                f"{r.max_ms:.1f}",
                str(r.error_count) + (f" {r.errors}" if r.errors else ""),
                cpu,
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(_fmt_row(header, widths))
    print(_fmt_row(["-" * w for w in widths], widths))
    for row in rows:
        print(_fmt_row(row, widths))
