"""`mirage` command: run the parts of Mirage separately (production) or the embedded supervisor (development)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from mirage_app.cli_evolution import add_parser as add_evolution_parser
from mirage_app.cli_tenants import add_parser as add_tenant_parser


def _setup_logging() -> None:
    from mirage_app.core.config import get_settings

    logging.basicConfig(
        level=get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _seed_embedded():
    """The embedded supervisor's provisioning: the default tenant, then the simulated Evolution servers."""
    from mirage_app.services.evolution_servers import ensure_platform_servers
    from mirage_app.services.seed import ensure_default_tenant

    result = ensure_default_tenant()
    ensure_platform_servers()
    return result


def _ensure_platform_servers() -> None:
    """EVOLUTION_URL (or the demo's simulators) as platform servers; a failure here must not stop a process."""
    from mirage_app.services.evolution_servers import ensure_platform_servers

    try:
        ensure_platform_servers()
    except Exception:
        logging.getLogger("mirage").exception("could not register the platform's Evolution server")


def cmd_embedded(args: argparse.Namespace) -> int:
    from mirage_app.core.config import get_settings
    from mirage_app.core.supervisor import Supervisor

    settings = get_settings()
    return Supervisor(settings.data_dir, args.parent_pid, _seed_embedded, workers=settings.workers).run()


def cmd_worker(args: argparse.Namespace) -> int:
    from mirage_app.core.redis import WORKER_HEARTBEAT_S
    from mirage_app.engine.runtime import WORKER_LINGER_S, runtime, set_runtime
    from workers.worker import run_worker

    _ensure_platform_servers()
    engine = runtime()
    set_runtime(engine.with_changes(settings=replace(engine.settings, drain_linger_s=WORKER_LINGER_S)))
    run_worker(queues=args.queues, burst=args.burst, fork=args.fork, heartbeat_s=args.heartbeat or WORKER_HEARTBEAT_S)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from workers.scheduler import run_scheduler

    _ensure_platform_servers()

    run_scheduler(interval=args.interval)
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from mirage_app.evolution.simulator import main as sim_main

    return sim_main(args.sim_args) or 0


def cmd_db(args: argparse.Namespace) -> int:
    from mirage_app.core import migrate

    if args.action == "upgrade":
        migrate.upgrade(args.revision or "head")
    elif args.action == "downgrade":
        migrate.downgrade(args.revision or "-1")
    else:
        from alembic import command

        command.current(migrate.alembic_config(), verbose=False)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from mirage_app.services.seed import ensure_default_tenant

    result = ensure_default_tenant(password=os.environ.get("MIRAGE_ADMIN_PASSWORD"))
    _ensure_platform_servers()
    if result.generated_password:
        print(f"admin: {result.admin_email}\npassword: {result.generated_password}")
    else:
        print(f"tenant {result.tenant_id} and {result.admin_email} are in place")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    from mirage_app.services.seed import reset_admin_password

    password = reset_admin_password(args.email)
    print(f"new password for {args.email}: {password}")
    return 0


def cmd_health(_args: argparse.Namespace) -> int:
    from mirage_app.services.health import check_health

    report = check_health()
    print(json.dumps(report, indent=2))
    return 0 if report["status"] == "ok" else 1


def cmd_metrics_rebuild(args: argparse.Namespace) -> int:
    import uuid
    from datetime import date

    from mirage_app.services.metric_rollups import rebuild

    tenant = uuid.UUID(args.tenant) if args.tenant else None
    since = date.fromisoformat(args.since) if args.since else None
    print(f"metric rollups rebuilt: {rebuild(tenant, since)} rows")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mirage", description="Mirage WhatsApp orchestrator")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("embedded", help="run the embedded Postgres/Redis/simulator/workers (started by reflex run)")
    p.add_argument("--parent-pid", type=int, default=os.getppid())
    p.set_defaults(func=cmd_embedded)

    p = sub.add_parser("worker", help="run an RQ worker")
    p.add_argument("--queues", nargs="+", default=None)
    p.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    p.add_argument("--fork", action="store_true", help="fork a work horse per job (isolation over throughput)")
    p.add_argument("--heartbeat", type=float, default=None, help="seconds between liveness beats (default 10)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="run the periodic-tick scheduler (one leader across processes)")
    p.add_argument("--interval", type=float, default=5.0)
    p.set_defaults(func=cmd_scheduler)

    # The simulator's own parser reads the rest (`mirage sim --help`): one definition of its options.
    p = sub.add_parser(
        "sim", help="run the Evolution API simulator (--servers N, --ports a,b, --fast…)", add_help=False
    )
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade", "downgrade", "current"])
    p.add_argument("revision", nargs="?")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("seed", help="create the Default Tenant and admin@mirage.local")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("admin", help="administration")
    admin_sub = p.add_subparsers(dest="admin_command", required=True)
    r = admin_sub.add_parser("reset-password", help="set a new generated password for a user")
    r.add_argument("--email", default="admin@mirage.local")
    r.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("metrics", help="metric rollups")
    metrics_sub = p.add_subparsers(dest="metrics_command", required=True)
    r = metrics_sub.add_parser("rebuild", help="recompute the metric rollups from the messages (a repair)")
    r.add_argument("--tenant", help="one tenant's id (default: every tenant)")
    r.add_argument("--since", help="tenant-local day YYYY-MM-DD to rebuild from (default: all of history)")
    r.set_defaults(func=cmd_metrics_rebuild)

    p = sub.add_parser("health", help="print the health report as JSON")
    p.set_defaults(func=cmd_health)

    add_evolution_parser(sub)
    add_tenant_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path.cwd()))
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "sim":
        args.sim_args = extra  # the simulator's own parser reads them
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _setup_logging()
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
