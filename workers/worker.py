"""RQ worker process (`mirage worker`)."""

from __future__ import annotations

import contextlib
import signal
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker, Worker

from mirage_app.core.processes import forks_die_with_this_process, freeze_startup_heap
from mirage_app.core.redis import QUEUE_NAMES, WORKER_ALIVE_BEATS, WORKER_HEARTBEAT_S, get_redis, worker_alive_key


def run_worker(
    queues: list[str] | None = None, *, burst: bool = False, fork: bool = False, heartbeat_s: float = WORKER_HEARTBEAT_S
) -> bool:
    """Run jobs from `high`, `default`, `low` (in that priority).

    Without --fork the worker runs jobs in-process (about twice the throughput here); jobs are short and
    idempotent, and RQ still enforces their timeouts. RQ's own scheduler runs inside the workers (one active
    at a time, by Redis lock) to release delayed sends and retries. A thread beside it keeps the worker's alive key
    fresh every `heartbeat_s`, also while a job runs, which RQ's in-process worker does not.
    """
    # RQ forks its scheduler (and, with --fork, each job's horse). A child that outlived a `kill -9` of this worker
    # would keep this worker's Redis sockets open, the one blocked in BLPOP included, and Redis would hand the next
    # queued job to that dead reader: the job lost while it still looked queued. Children die with the worker.
    forks_die_with_this_process(signal.SIGTERM)
    connection = get_redis()
    freeze_startup_heap()  # jobs then never pay for collecting the imported modules (core/processes.py)
    worker_cls = Worker if fork else SimpleWorker
    worker = worker_cls(list(queues or QUEUE_NAMES), connection=connection)
    stop = threading.Event()
    beating = threading.Thread(
        target=_keep_alive, args=(connection, worker.name, heartbeat_s, stop), name="mirage-alive", daemon=True
    )
    beating.start()
    try:
        return worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()
        beating.join()
        connection.delete(worker_alive_key(worker.name))


def _keep_alive(connection: Redis, name: str, every_s: float, stop: threading.Event) -> None:
    key, ttl_ms = worker_alive_key(name), max(1, int(every_s * WORKER_ALIVE_BEATS * 1000))
    while True:
        # Redis away: the key lapses and health says so, which is the truth until Redis is back.
        with contextlib.suppress(RedisError):
            connection.set(key, "1", px=ttl_ms)
        if stop.wait(every_s):
            return
