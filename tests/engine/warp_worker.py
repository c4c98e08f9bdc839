"""An RQ worker process on a warped clock shared through a file (`python -m tests.engine.warp_worker CLOCK_FILE`).

The production worker (`mirage worker`) runs the same job functions; only the engine runtime differs:
- the clock is read from CLOCK_FILE (an ISO timestamp the test driver rewrites atomically as it warps time), so
  every worker process and the driver agree on "now";
- immediate jobs go to the real RQ queues; delayed jobs (`enqueue_at`: deferred sends, reading delays) are NOT
  kept anywhere: their due time is already in the database (`messages.send_after`), and the driver re-enqueues
  due sends from there, as the scheduler's overdue sweep does in production after Redis lost its jobs. Time can
  thus jump hours ahead without RQ's real-time scheduled registry in the way, and a Redis FLUSHALL loses nothing
  that matters.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


class FileClock:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        for _ in range(50):
            raw = self.path.read_text().strip()
            if raw:
                return datetime.fromisoformat(raw)
        raise RuntimeError(f"empty clock file {self.path}")


def write_clock(path: str | Path, when: datetime) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(when.isoformat())
    os.replace(tmp, path)


class DatabaseHeldDeferrer:
    """Immediate jobs → RQ; delayed jobs are left to the database (`send_after`) and the driver's sweep."""

    def __init__(self) -> None:
        from mirage_app.engine.runtime import RqDeferrer

        self._rq = RqDeferrer()

    def enqueue(self, func: str, *args: Any, job_id: str | None = None, queue: str = "high") -> None:
        self._rq.enqueue(func, *args, job_id=job_id, queue=queue)

    def enqueue_at(self, when: datetime, func: str, *args: Any, job_id: str, queue: str = "high") -> None:
        return None


def main(clock_file: str) -> None:
    from rq import SimpleWorker

    from mirage_app.core.config import get_settings
    from mirage_app.core.redis import QUEUE_NAMES, get_redis
    from mirage_app.engine.runtime import EngineRuntime, EngineSettings, set_runtime
    from mirage_app.evolution.client import EvolutionClient

    settings = get_settings()
    client = EvolutionClient(settings.evolution_url, settings.evolution_api_key, timeout=10.0, send_read_margin_s=0.5,
                             backoff_s=0.01)  # fmt: skip
    set_runtime(
        EngineRuntime(
            clock=FileClock(clock_file),
            deferrer=DatabaseHeldDeferrer(),
            settings=EngineSettings(retry_base_s=30.0, overdue_grace_s=0.0),
            evolution=lambda: client,
            llm=lambda: None,
        )
    )
    worker = SimpleWorker(list(QUEUE_NAMES), connection=get_redis())
    worker.work(burst=False, with_scheduler=False, logging_level="WARNING")


if __name__ == "__main__":
    main(sys.argv[1])
