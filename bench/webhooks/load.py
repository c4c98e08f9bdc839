"""The load: `messages.upsert` request bodies, wrk with its Lua script, and the asyncio generators (closed loop in
several processes, open loop at a fixed rate) with their results summarised as a `LoadResult`."""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import shutil
import socket
import subprocess
import time
import weakref
from array import array
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.webhooks.fixture import HOST, SECRET_HEADER, WEBHOOK_PATH, HarnessError, Instance


def _from_me() -> bool:
    """--from-me (passed through the environment, so the generator processes see it too)."""
    return os.environ.get("MIRAGE_BENCH_FROM_ME") == "1"


def upsert_body(instance: str, key_id: str, n: int) -> bytes:
    """A `messages.upsert` like Evolution 2.3 sends for an inbound text (tests/api/test_webhooks.py::_upsert)."""
    phone = f"551196{(n * 7919) % 10_000_000:07d}"
    payload = {
        "event": "messages.upsert",
        "instance": instance,
        "data": {
            "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": _from_me(), "id": key_id},
            "pushName": "Maria",
            "status": "DELIVERY_ACK",
            "message": {"conversation": f"Oi, tudo bem? #{n}"},
            "messageType": "conversation",
            "messageTimestamp": 1761055561,
            "source": "android",
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def http_request(port: int, secret: str, body: bytes) -> bytes:
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"{SECRET_HEADER}: {secret}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# wrk script: unique key ids per thread and request, instances (and their secrets) in rotation. The same body
# shape as `upsert_body` (the byte layout differs, which does not matter: each body is unique anyway).
WRK_LUA = r"""
local names = {%(names)s}
local secrets = {%(secrets)s}
local path = "%(path)s"
local prefix = "%(prefix)s"
local counter = 0
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function request()
  counter = counter + 1
  local i = counter %% #names + 1
  local key = prefix .. string.format("%%02X%%09X", tid, counter)
  local phone = string.format("551196%%07d", (counter * 7919 + tid * 104729) %% 10000000)
  local body = '{"event":"messages.upsert","instance":"' .. names[i] ..
    '","data":{"key":{"remoteJid":"' .. phone .. '@s.whatsapp.net","fromMe":%(from_me)s,"id":"' .. key ..
    '"},"pushName":"Maria","status":"DELIVERY_ACK","message":{"conversation":"Oi, tudo bem? #' .. counter ..
    '"},"messageType":"conversation","messageTimestamp":1761055561,"source":"android"}}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["%(header)s"] = secrets[i]}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


# --------------------------------------------------------------------------------------------------------------
# Load generation and results.


@dataclass
class LoadResult:
    label: str
    requests: int
    ok: int
    errors: dict[str, int]
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    workers: int = 0
    mode: str = ""
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU time per answered event, by process group

    @property
    def events_per_s(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def _lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def run_wrk(
    port: int, instances: list[Instance], prefix: str, seconds: float, connections: int, threads: int, workdir: Path
) -> LoadResult:
    script = workdir / f"wrk-{prefix}.lua"
    script.write_text(
        WRK_LUA
        % {
            "names": _lua_list([i.name for i in instances]),
            "secrets": _lua_list([i.secret for i in instances]),
            "path": WEBHOOK_PATH,
            "prefix": prefix,
            "header": SECRET_HEADER,
            "from_me": "true" if _from_me() else "false",
        }
    )
    threads = max(1, min(threads, connections))
    args = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{WEBHOOK_PATH}",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if out.returncode != 0 or line is None:
        raise HarnessError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCHJSON "))
    errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return LoadResult(
        label="",
        requests=data["requests"],
        ok=data["requests"] - data["status"],
        errors=errors,
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep_alive) of one HTTP/1.1 response; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for raw in lines[1:]:
        name, _, value = raw.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get(b"connection") != b"close"


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def drive(
    port: int, connections: int, next_request: Callable[[], bytes | None], record: Callable[[float, float, int], None]
) -> None:
    """Keep-alive connections that each send the next request as soon as the previous answer arrived."""

    async def one_connection() -> None:
        reader, writer = await _connect(port)
        try:
            while (request := next_request()) is not None:
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status, keep_alive = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    record(started, time.perf_counter(), 0)
                    writer.close()
                    reader, writer = await _connect(port)
                    continue
                record(started, time.perf_counter(), status)
                if not keep_alive:
                    writer.close()
                    reader, writer = await _connect(port)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


def _python_load_process(spec: dict) -> dict:
    """One generator process: `connections` keep-alive connections for warm-up + measured seconds."""
    instances = [Instance(**i) for i in spec["instances"]]
    port, prefix = spec["port"], spec["prefix"]
    t0 = time.perf_counter()
    measure_from, stop_at = t0 + spec["warmup"], t0 + spec["warmup"] + spec["seconds"]
    latencies, statuses = array("d"), Counter()
    counter = 0

    def next_request() -> bytes | None:
        nonlocal counter
        if time.perf_counter() >= stop_at:
            return None
        counter += 1
        inst = instances[counter % len(instances)]
        return http_request(port, inst.secret, upsert_body(inst.name, f"{prefix}{counter:09X}", counter))

    def record(started: float, finished: float, status: int) -> None:
        if started >= measure_from and finished <= stop_at:
            latencies.append(finished - started)
            statuses[status] += 1

    asyncio.run(drive(port, spec["connections"], next_request, record))
    return {"latencies": latencies.tobytes(), "statuses": dict(statuses)}


def run_python_load(
    port: int, instances: list[Instance], prefix: str, warmup: float, seconds: float, connections: int, procs: int
) -> LoadResult:
    procs = max(1, min(procs, connections))
    specs = [
        {
            "port": port,
            "instances": [i.__dict__ for i in instances],
            "prefix": f"{prefix}{p:02X}",
            "warmup": warmup,
            "seconds": seconds,
            "connections": connections // procs + (1 if p < connections % procs else 0),
        }
        for p in range(procs)
    ]
    with ProcessPoolExecutor(max_workers=procs, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_python_load_process, specs))
    return _summarise(parts, seconds)


def _open_loop_process(spec: dict) -> dict:
    """Open loop: requests are *scheduled* at a fixed rate and each latency is counted from its scheduled time, so
    a stalled server cannot slow the generator down and hide its own stall (no coordinated omission). The rate
    reported is what was *answered* during the measured window; requests still unanswered `drain_s` after the
    window are abandoned and counted as errors ("unfinished") with the latency they had reached."""
    instances = [Instance(**i) for i in spec["instances"]]
    port, prefix, rate = spec["port"], spec["prefix"], spec["rate"]
    latencies, statuses = array("d"), Counter()
    answered_in_window = 0

    async def main() -> None:
        loop = asyncio.get_running_loop()
        idle: asyncio.Queue = asyncio.Queue()
        for _ in range(spec["connections"]):
            idle.put_nowait(await _connect(port))
        start = loop.time() + 0.1
        measure_from, stop_at = start + spec["warmup"], start + spec["warmup"] + spec["seconds"]
        tasks: set[asyncio.Task] = set()

        async def one(n: int, scheduled: float) -> None:
            nonlocal answered_in_window
            reader, writer = await idle.get()  # all connections busy: the wait counts as latency
            inst = instances[n % len(instances)]
            try:
                writer.write(http_request(port, inst.secret, upsert_body(inst.name, f"{prefix}{n:09X}", n)))
                status, keep_alive = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                status, keep_alive = 0, False
            finished = loop.time()
            if not keep_alive:
                writer.close()
                reader, writer = await _connect(port)
            idle.put_nowait((reader, writer))
            if measure_from <= finished < stop_at and 200 <= status < 400:
                answered_in_window += 1
            if measure_from <= scheduled < stop_at:
                latencies.append(finished - scheduled)
                statuses[status] += 1

        n = 0
        while True:
            scheduled = start + n / rate
            if scheduled >= stop_at:
                break
            now = loop.time()
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            task = asyncio.create_task(one(n, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            scheduled_at[task] = scheduled
            n += 1
        if tasks:
            await asyncio.wait(set(tasks), timeout=spec["drain_s"])
        now = loop.time()
        for task in list(tasks):
            task.cancel()
            if measure_from <= scheduled_at[task] < stop_at:
                latencies.append(now - scheduled_at[task])
                statuses[-1] += 1
        while not idle.empty():
            idle.get_nowait()[1].close()

    scheduled_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    asyncio.run(main())
    return {"latencies": latencies.tobytes(), "statuses": dict(statuses), "answered": answered_in_window}


def _summarise(parts: list[dict], seconds: float, *, answered: int | None = None) -> LoadResult:
    latencies, statuses = array("d"), Counter()
    for part in parts:
        chunk = array("d")
        chunk.frombytes(part["latencies"])
        latencies.extend(chunk)
        statuses.update(part["statuses"])
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else 0.0

    ok = sum(n for s, n in statuses.items() if 200 <= s < 400) if answered is None else answered
    errors = {
        "status": sum(n for s, n in statuses.items() if s >= 400),
        "socket": statuses.get(0, 0),
        "unfinished": statuses.get(-1, 0),
    }
    return LoadResult(
        label="",
        requests=len(ordered),
        ok=ok,
        errors={k: v for k, v in errors.items() if v},
        duration_s=seconds,
        p50_ms=pct(0.50),
        p90_ms=pct(0.90),
        p99_ms=pct(0.99),
        max_ms=ordered[-1] * 1000 if ordered else 0.0,
    )


def run_open_loop(
    port: int, instances: list[Instance], prefix: str, rate: float, warmup: float, seconds: float, connections: int
) -> LoadResult:
    """One generator process (at ~1,000/s it needs a few % of a core) with `connections` keep-alive sockets."""
    spec = {
        "port": port,
        "instances": [i.__dict__ for i in instances],
        "prefix": prefix,
        "rate": rate,
        "warmup": warmup,
        "seconds": seconds,
        "connections": connections,
        "drain_s": 10.0,
    }
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        part = pool.submit(_open_loop_process, spec).result()
    return _summarise([part], seconds, answered=part["answered"])
