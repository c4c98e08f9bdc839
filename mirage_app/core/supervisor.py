"""The embedded default: one process that owns PostgreSQL, Redis, the Evolution simulator, the RQ workers and
the scheduler for as long as the `reflex run` that started it lives.

It runs in its own session so Ctrl-C in the terminal reaches Reflex first; it notices its parent is gone and
stops everything in order. Its children carry PR_SET_PDEATHSIG, so a `kill -9` of the supervisor itself takes
them down too, and the next start finds nothing stale: the lock is an flock (released by the kernel) and
leftover servers from a crashed run are recognised by their data directory and stopped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mirage_app.core import migrate, processes
from mirage_app.core.config import get_settings, reset_settings_cache
from mirage_app.core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

log = logging.getLogger("mirage.supervisor")
SIMULATOR_KEY = "mirage-sim-key"
SIMULATED_SERVERS = 2
RUNTIME_FILE = "runtime.json"


class AlreadyRunning(RuntimeError):
    pass


class Supervisor:
    def __init__(self, data_dir: Path, parent_pid: int, seed: Callable[[], Any], workers: int = 2) -> None:
        """`seed` provisions the default tenant once the schema is in place (given by the CLI, which may import
        services; core may not) and returns a result with `admin_email` and `generated_password`."""
        self.data_dir = data_dir
        self.seed = seed
        self.parent_pid = parent_pid
        # When `reflex run` leads its own process group (as in a terminal), its frontend and backend children
        # share that group: if it is killed with -9 they would outlive it, so we take them down with us.
        self.parent_group = parent_pid if _group_of(parent_pid) == parent_pid else None
        self.worker_count = workers
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.children: dict[str, subprocess.Popen] = {}
        self._stopping = False
        self._lock_fd: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._acquire_lock()
            env = self._start_services()
            self._write_runtime(env)
            self._watch(env)
        except AlreadyRunning as exc:
            print(f"mirage: {exc}", file=sys.stderr, flush=True)
            return 2
        except Exception:
            log.exception("embedded start-up failed")
            self._write_runtime({"error": "start-up failed; see .mirage/supervisor.log"})
            return 1
        finally:
            self.shutdown()
        return 0

    def _on_signal(self, signum, _frame) -> None:
        self._stopping = True

    def _acquire_lock(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / "supervisor.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AlreadyRunning(
                f"another Mirage is already running from {self.data_dir} (supervisor pid {holder})"
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _start_services(self) -> dict[str, str]:
        settings = get_settings()
        env: dict[str, str] = {}
        if not settings.database_url:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres").start()
            env["DATABASE_URL"] = self.postgres.admin_url()
        if not settings.redis_url:
            self.redis = EmbeddedRedis(self.data_dir / "redis").start()
            env["REDIS_URL"] = self.redis.url
        if not settings.evolution_url:
            # Two simulated Evolution servers in one process, so the server pool is visible from the first run.
            ports: list[int] = []
            while len(ports) < SIMULATED_SERVERS:
                port = free_port()
                if port not in ports:
                    ports.append(port)
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            env["EVOLUTION_URL"] = urls[0]
            env["EVOLUTION_API_KEY"] = SIMULATOR_KEY
            env["MIRAGE_SIM_SERVERS"] = ",".join(urls)
            ports_arg = ",".join(str(p) for p in ports)
            self._spawn("simulator", ["sim", "--ports", ports_arg, "--api-key", SIMULATOR_KEY], env)
        # Every process of this machine writes its Prometheus counters here; /api/metrics adds them up.
        metrics_dir = self.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        os.environ.update(env)
        reset_settings_cache()

        migrate.upgrade()
        seed = self.seed()
        if seed.generated_password:
            _print_banner(seed.admin_email, seed.generated_password)

        for i in range(self.worker_count):
            self._spawn(f"worker-{i + 1}", ["worker"], env)
        self._spawn("scheduler", ["scheduler"], env)
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        child_env = {**os.environ, **env, "MIRAGE_EMBEDDED_CHILD": "1"}
        self.children[name] = processes.spawn(
            [sys.executable, "-m", "mirage_app.cli", *args],
            log_path=self.data_dir / "logs" / f"{name}.log",
            env=child_env,
        )

    def _write_runtime(self, env: dict[str, str]) -> None:
        target = self.data_dir / RUNTIME_FILE
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"supervisor_pid": os.getpid(), **env}))
        os.chmod(tmp, 0o600)
        tmp.replace(target)

    def _watch(self, env: dict[str, str]) -> None:
        restarts: dict[str, float] = {}
        while not self._stopping:
            if not processes.pid_alive(self.parent_pid):
                log.info("parent %s is gone; stopping", self.parent_pid)
                self._stop_parent_group()
                return
            for name, proc in list(self.children.items()):
                if proc.poll() is not None and time.monotonic() - restarts.get(name, 0) > 5:
                    log.warning("%s exited with %s; restarting", name, proc.returncode)
                    restarts[name] = time.monotonic()
                    args = proc.args[3:]  # strip "python -m mirage_app.cli"
                    self._spawn(name, list(args), env)
            time.sleep(0.3)

    def _stop_parent_group(self) -> None:
        if self.parent_group is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.parent_group, sig)
            except ProcessLookupError:
                return
            time.sleep(3)

    def shutdown(self) -> None:
        for name in [n for n in self.children if n.startswith("worker")] + ["scheduler", "simulator"]:
            processes.stop(self.children.pop(name, None), signal.SIGTERM, timeout=10)
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()
        runtime = self.data_dir / RUNTIME_FILE
        runtime.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _print_banner(email: str, password: str) -> None:
    line = "=" * 72
    print(
        f"\n{line}\n  Mirage first run: an admin account was created.\n"
        f"    e-mail:   {email}\n    password: {password}\n"
        f"  It is shown only now (stored as an argon2id hash). Change it in Settings;\n"
        f"  `mirage admin reset-password` sets a new one if it is lost.\n{line}\n",
        flush=True,
    )


def start_in_background(data_dir: Path, timeout: float = 120.0) -> dict[str, str]:
    """Called from rxconfig in the `reflex run` process: start the supervisor and wait for its URLs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = data_dir / RUNTIME_FILE
    runtime.unlink(missing_ok=True)
    log_file = open(data_dir / "supervisor.log", "ab")  # noqa: SIM115 - inherited by the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "mirage_app.cli", "embedded", "--parent-pid", str(os.getpid())],
        stdout=None,  # the first-run banner must reach the developer's terminal
        stderr=log_file,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log_file.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtime.exists():
            info = json.loads(runtime.read_text())
            if "error" in info:
                raise RuntimeError(f"Mirage embedded services failed: {info['error']}")
            return {k: v for k, v in info.items() if k != "supervisor_pid"}
        if proc.poll() is not None:
            raise RuntimeError(f"Mirage embedded services exited ({proc.returncode}); see {data_dir}/supervisor.log")
        time.sleep(0.1)
    proc.terminate()
    raise TimeoutError("Mirage embedded services did not start in time")
