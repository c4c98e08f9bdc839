"""RQ worker process (`mirage worker`)."""

from __future__ import annotations

from rq import SimpleWorker, Worker

from mirage_app.core.processes import freeze_startup_heap
from mirage_app.core.redis import QUEUE_NAMES, get_redis


def run_worker(queues: list[str] | None = None, *, burst: bool = False, fork: bool = False) -> bool:
    """Run jobs from `high`, `default`, `low` (in that priority).

    Without --fork the worker runs jobs in-process (about twice the throughput here); jobs are short and
    idempotent, and RQ still enforces their timeouts. RQ's own scheduler runs inside the workers (one active
    at a time, by Redis lock) to release delayed sends and retries.
    """
    connection = get_redis()
    freeze_startup_heap()  # jobs then never pay for collecting the imported modules (core/processes.py)
    worker_cls = Worker if fork else SimpleWorker
    worker = worker_cls(list(queues or QUEUE_NAMES), connection=connection)
    return worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
