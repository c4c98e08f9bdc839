"""Finding 8b of issue 14: a SIGKILLed worker leaves `/api/health` within its alive key's lifetime.

RQ lists a killed worker until its registry key expires (worker_ttl + 60 s, about 8 minutes), so health used to say
`ok` with 3 workers long after one died. A `mirage worker` now refreshes its own short-lived key from a thread
(`workers/worker.py`); health counts only listed workers whose key is fresh. The beat is 10 s in production (gone
within 30 s); this test runs a real worker process with a 0.2 s beat so it need not wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import psutil
import pytest
from fastapi.testclient import TestClient
from rq import Worker

from mirage_app.api.app import api
from mirage_app.core.config import PROJECT_ROOT
from mirage_app.core.redis import WORKER_ALIVE_BEATS, WORKER_HEARTBEAT_S, get_redis
from tests.conftest import wait_for

BEAT_S = 0.2


@pytest.fixture
def http(services) -> TestClient:
    return TestClient(api)  # /api/health asks for no key


def _workers_check(http) -> dict:
    return http.get("/api/health").json()["checks"]["workers"]


def _listed(pid: int) -> bool:
    return any(w.pid == pid for w in Worker.all(connection=get_redis()))


def _group_alive(pgid: int) -> bool:
    """Whether any live process is left in the worker's process group (zombies waiting for `wait` do not count)."""
    return any(
        p.info["status"] != psutil.STATUS_ZOMBIE for p in psutil.process_iter(["status"]) if _pgid(p.pid) == pgid
    )


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_a_killed_worker_leaves_health_at_once_while_rq_still_lists_it(http, tmp_path):
    assert WORKER_HEARTBEAT_S * WORKER_ALIVE_BEATS <= 60  # production: gone within a minute at most
    before = _workers_check(http).get("count", 0)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "mirage_app.cli", "worker", "--heartbeat", str(BEAT_S)],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: the cleanup below reaches RQ's forked scheduler too
    )
    try:
        assert wait_for(lambda: _listed(worker.pid) and _workers_check(http).get("count") == before + 1, 60), (
            log.read_text()
        )
        # Alive across many beats: the thread keeps it fresh while the worker idles in its blocking dequeue.
        assert not wait_for(lambda: _workers_check(http).get("count") != before + 1, timeout=5 * BEAT_S * 3)

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert wait_for(lambda: _workers_check(http).get("count", 0) == before, timeout=BEAT_S * WORKER_ALIVE_BEATS + 2)
        assert _listed(worker.pid)  # RQ still lists the dead worker: its registry alone would have said "ok"
        check = _workers_check(http)
        if before == 0:
            assert check["ok"] is False and "no RQ worker is running" in check["error"]  # others may be listed too
        else:
            assert check["silent"] >= 1
        # RQ's scheduler, forked by the worker, dies with it: no orphan keeps the dead worker's Redis sockets
        # (its blocked BLPOP would swallow the next queued job).
        assert wait_for(lambda: not _group_alive(worker.pid), timeout=10), "the worker's scheduler outlived it"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
