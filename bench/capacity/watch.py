"""Sampling while a size runs, from a thread of the bench: every process's CPU and peak RSS (roots and their
children, which come and go), the queues every 10 s and each minute's conversation tick from its RQ job."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from datetime import UTC


@dataclass
class ProcInfo:
    group: str
    name: str
    cpu: float = 0.0
    peak_rss: int = 0


class Watch:
    """Samples every process of each group (roots plus descendants), the queues and the conversation ticks."""

    def __init__(self, roots: dict[str, list[int]], dsn: str, every_s: float = 5.0) -> None:
        self.roots = roots
        self.dsn = dsn
        self.every_s = every_s
        self.procs: dict[int, ProcInfo] = {}
        self.queue_series: list[dict] = []
        self.ticks: dict[int, dict] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="capacity-watch", daemon=True)
        self.started = time.time()

    def start(self) -> Watch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True)
        n = 0
        try:
            while not self._stop.is_set():
                t0 = time.monotonic()
                try:
                    self.sample_procs()
                    if n % 2 == 0:
                        self._sample_queues(conn)
                        self._sample_ticks()
                except Exception as exc:  # a sample lost is not a reason to stop the run
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                n += 1
                self._stop.wait(max(0.5, self.every_s - (time.monotonic() - t0)))
        finally:
            conn.close()

    def sample_procs(self) -> dict[int, float]:
        """Update every process's CPU and peak RSS; returns the CPU seconds of every process seen so far."""
        import psutil

        with self._lock:
            for group, roots in self.roots.items():
                for root in roots:
                    try:
                        parent = psutil.Process(root)
                        # This process is the parent of every other one: it counts alone.
                        members = [parent] if group == "bench" else [parent, *parent.children(recursive=True)]
                    except psutil.Error:
                        continue
                    for proc in members:
                        try:
                            with proc.oneshot():
                                t = proc.cpu_times()
                                rss = proc.memory_info().rss
                                info = self.procs.get(proc.pid)
                                if info is None:
                                    info = self.procs[proc.pid] = ProcInfo(group, _proc_name(proc))
                                info.cpu = t.user + t.system
                                info.peak_rss = max(info.peak_rss, rss)
                        except psutil.Error:
                            pass
            return self.cpu_by_pid()

    def cpu_by_pid(self) -> dict[int, float]:
        return {pid: info.cpu for pid, info in self.procs.items()}

    def _sample_queues(self, conn) -> None:
        from rq.registry import ScheduledJobRegistry, StartedJobRegistry

        from mirage_app.core.redis import QUEUE_NAMES, get_redis, queue
        from mirage_app.engine.inbox import INBOX_KEY

        redis = get_redis()
        row = {"t": time.time()}
        for name in QUEUE_NAMES:
            q = queue(name)
            row[name] = q.count
            row[f"sched_{name}"] = ScheduledJobRegistry(queue=q).count
            row[f"started_{name}"] = StartedJobRegistry(queue=q).count
        row["inbox"] = redis.llen(INBOX_KEY)
        row["due_db"] = conn.execute(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'queued' AND dispatched_at IS NULL "
            "AND coalesce(send_after, created_at) <= now() - interval '2 seconds'"
        ).fetchone()[0]
        self.queue_series.append(row)

    def _sample_ticks(self) -> None:
        from rq.job import Job

        from mirage_app.core.redis import get_redis

        period = int(time.time()) // 60
        for p in range(period - 2, period + 1):
            if p in self.ticks:
                continue
            try:
                job = Job.fetch(f"tick-conversation-tick-{p}", connection=get_redis())
            except Exception:
                continue
            if job.get_status() != "finished":
                continue
            result = job.return_value() or {}
            self.ticks[p] = {
                "started": job.started_at.replace(tzinfo=UTC).timestamp() if job.started_at else None,
                "wait_ms": (job.started_at - job.enqueued_at).total_seconds() * 1000
                if job.started_at and job.enqueued_at
                else None,
                "job_ms": (job.ended_at - job.started_at).total_seconds() * 1000
                if job.ended_at and job.started_at
                else None,
                "elapsed_ms": result.get("elapsed_ms"),
                "due": result.get("due"),
                "rounds_started": result.get("rounds_started"),
                "supervised": result.get("supervised"),
                "skipped": result.get("skipped"),
            }

    def sample_ticks_late(self) -> None:
        """Once more after stopping: the window's last tick may have finished after the last sample."""
        with contextlib.suppress(Exception):
            self._sample_ticks()


def _proc_name(proc) -> str:
    try:
        cmd = proc.cmdline()
    except Exception:
        cmd = []
    text = " ".join(cmd)
    for needle, label in (
        ("cli worker", "mirage worker"),
        ("cli scheduler", "mirage scheduler"),
        ("--serve-sim", "simulator pool"),
        ("reflex run", "reflex run"),
        ("granian", "granian"),
    ):
        if needle in text:
            return label
    try:
        return proc.name()
    except Exception:
        return "?"


def machine_cpu() -> float:
    import psutil

    t = psutil.cpu_times()
    return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
