"""The embedded supervisor: starts real servers, stops every child with its parent, recovers from kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mirage_app.core.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MIRAGE_APP_DATABASE_URL")}
    # The simulator is covered elsewhere; a dummy URL keeps this test to Postgres, Redis, workers, scheduler.
    env.update(
        MIRAGE_DATA_DIR=str(data_dir), EVOLUTION_URL="http://127.0.0.1:9", EVOLUTION_API_KEY="x", MIRAGE_WORKERS="1"
    )
    return env


def _start(data_dir: Path, parent_pid: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mirage_app.cli", "embedded", "--parent-pid", str(parent_pid)],
        env=_env(data_dir),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_runtime(data_dir: Path, proc: subprocess.Popen, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runtime = data_dir / "runtime.json"
        if runtime.exists():
            return json.loads(runtime.read_text())
        assert proc.poll() is None, proc.stdout.read().decode()
        time.sleep(0.1)
    raise TimeoutError("supervisor did not get ready")


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _wait_gone(procs: list[psutil.Process], timeout: float = 20) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def test_children_stop_with_parent_and_kill9_recovers(tmp_path):
    data_dir = tmp_path / "data"
    parent = subprocess.Popen(["sleep", "300"])
    sup = _start(data_dir, parent.pid)
    try:
        runtime = _wait_runtime(data_dir, sup)
        assert runtime["DATABASE_URL"].startswith("postgresql+psycopg://")
        first_output = b""
        children = _descendants(sup.pid)
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "postgres" in names and "redis-server" in names and "worker" in names and "scheduler" in names

        # A second supervisor on the same folder refuses to start.
        dup = _start(data_dir, parent.pid)
        assert dup.wait(timeout=30) == 2

        # kill -9 of the supervisor: the kernel takes its children down with it.
        os.kill(sup.pid, signal.SIGKILL)
        sup.wait(timeout=10)
        assert _wait_gone(children) == []

        # A new start recovers by itself: same data, no second admin password.
        sup = _start(data_dir, parent.pid)
        _wait_runtime(data_dir, sup)
        children = _descendants(sup.pid)

        # The parent (reflex run) goes away, e.g. after Ctrl-C: everything stops in order.
        parent.terminate()
        parent.wait(timeout=5)
        assert sup.wait(timeout=60) == 0
        first_output = sup.stdout.read()
        assert _wait_gone(children) == []
        assert not (data_dir / "runtime.json").exists()
        assert b"password:" not in first_output
    finally:
        for proc in (sup, parent):
            if proc.poll() is None:
                proc.kill()


def test_kill9_of_reflex_takes_its_process_group_down(tmp_path):
    """`reflex run` killed with -9 leaves its frontend and backend behind; the supervisor stops its group."""
    data_dir = tmp_path / "data"
    parent = subprocess.Popen(["bash", "-c", "sleep 300 & wait"], start_new_session=True)  # a group leader
    sup = _start(data_dir, parent.pid)
    try:
        _wait_runtime(data_dir, sup)
        orphan_to_be = _descendants(parent.pid)
        assert orphan_to_be, "the fake reflex should have a child in its group"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=5)
        assert sup.wait(timeout=60) == 0
        assert _wait_gone(orphan_to_be) == []
    finally:
        for proc in (sup, parent):
            if proc.poll() is None:
                proc.kill()
