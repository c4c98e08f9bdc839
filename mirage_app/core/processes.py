"""Child processes that die with their parent.

Every server the embedded supervisor starts gets PR_SET_PDEATHSIG, so even a `kill -9` of the supervisor takes
PostgreSQL, Redis, the workers and the scheduler down with it: nothing is left behind to hold ports or data
directories.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


_libc = ctypes.CDLL("libc.so.6", use_errno=True) if sys.platform.startswith("linux") else None


def _ask_to_die_with(parent: int, sig: int) -> None:
    """In a freshly forked child: the kernel sends `sig` when the parent dies; a parent already gone goes now. libc
    was loaded at import, in the parent: loading a library in the child of a threaded process can deadlock."""
    if _libc is None:
        return
    _libc.prctl(_PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """preexec_fn asking the kernel to send `sig` to the child when its parent (the caller) dies."""
    parent = os.getpid()
    return lambda: _ask_to_die_with(parent, sig)


_forks_die_with_us: list[int] = []  # the signal, once registered (a hook cannot be removed: register it once)


def forks_die_with_this_process(sig: int = signal.SIGTERM) -> None:
    """Every child this process forks from now on (RQ's scheduler, a job's work horse) dies with the process that
    forked it."""
    if _forks_die_with_us:
        return
    _forks_die_with_us.append(sig)
    forking: list[int] = [0]
    os.register_at_fork(
        before=lambda: forking.__setitem__(0, os.getpid()),
        after_in_child=lambda: _ask_to_die_with(forking[0], sig),
    )


def spawn(
    args: Sequence[str],
    *,
    log_path: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    death_signal: int = signal.SIGTERM,
    cwd: Path | None = None,
) -> subprocess.Popen:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed by the OS with it
    try:
        return subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            user=user,
            cwd=cwd,
            preexec_fn=die_with_parent(death_signal),
            start_new_session=False,
        )
    finally:
        log.close()


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Ask politely, then insist."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def kill_stale(pid: int, expected_name: str, marker: str, timeout: float = 10.0) -> bool:
    """Stop a leftover server from a crashed run, but only if it is really ours (name and data dir match)."""
    try:
        proc = psutil.Process(pid)
        if expected_name not in proc.name() or marker not in " ".join(proc.cmdline()):
            return False
        proc.send_signal(signal.SIGINT if expected_name == "postgres" else signal.SIGTERM)
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f}s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def freeze_startup_heap() -> None:
    """Call once a long-running process has built what it keeps for life (Reflex's compiled app, imported
    modules): those objects move to the collector's permanent generation. A full collection of a backend worker's
    half a million start-up objects took ~200 ms, a stall of every request in flight at that moment (the tail of
    bench/webhooks/); after this, collections only walk what was allocated since."""
    gc.collect()
    gc.freeze()
