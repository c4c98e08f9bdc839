"""`mirage evolution add | list | drain | activate | disable | probe`: the platform's Evolution servers, for scripts.

Platform servers are offered to every tenant (tenants add their own in Settings). Output is one server per line,
or JSON with `--json`.
"""

from __future__ import annotations

import argparse
import json
import sys


def _print(views, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": str(v.id),
                        "name": v.name,
                        "base_url": v.base_url,
                        "owner": v.owner,
                        "capacity": v.capacity,
                        "numbers": v.placed,
                        "state": v.state,
                        "health": v.health,
                        "latency_ms": v.latency_ms,
                        "version": v.version,
                        "default": v.is_default,
                    }
                    for v in views
                ],
                indent=2,
            )
        )
        return
    for v in views:
        flag = " (default)" if v.is_default else ""
        latency = f"{v.latency_ms} ms" if v.latency_ms is not None else "-"
        print(
            f"{v.name}{flag}\t{v.base_url}\t{v.owner}\t{v.placed}/{v.capacity}\t{v.state}\t{v.health}\t{latency}\t"
            f"{v.version or '-'}"
        )


def cmd_evolution(args: argparse.Namespace) -> int:
    from mirage_app.base.errors import ServiceError
    from mirage_app.services import evolution_servers as servers

    try:
        if args.evolution_command == "add":
            servers.register_platform_server(args.name, args.url, args.api_key, args.capacity)
            _print([v for v in servers.platform_servers() if v.base_url == servers.clean_url(args.url)], args.json)
        elif args.evolution_command == "list":
            _print(servers.platform_servers(), args.json)
        elif args.evolution_command in ("drain", "activate", "disable"):
            state = {"drain": "draining", "activate": "active", "disable": "disabled"}[args.evolution_command]
            _print([servers.set_platform_state(args.server, state)], args.json)
        elif args.evolution_command == "probe":
            from mirage_app.engine.server_health import probe_all

            probe_all()
            _print(servers.platform_servers(), args.json)
    except ServiceError as exc:
        print(f"mirage evolution: {exc.message}", file=sys.stderr)
        return 2
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("evolution", help="the platform's Evolution servers (add, list, drain, probe)")
    p.add_argument("--json", action="store_true", help="print JSON")
    commands = p.add_subparsers(dest="evolution_command", required=True)
    add = commands.add_parser("add", help="add (or update, by URL) a platform server; it is probed first")
    add.add_argument("name")
    add.add_argument("url")
    add.add_argument("--api-key", required=True, help="the server's global API key (stored encrypted)")
    add.add_argument("--capacity", type=int, default=None, help="instances it may hold (default 70)")
    commands.add_parser("list", help="every server with numbers, capacity, state and health")
    for verb, text in (
        ("drain", "take no new numbers (numbers on it stay until re-paired elsewhere)"),
        ("activate", "take new numbers again"),
        ("disable", "its numbers stop sending"),
    ):
        cmd = commands.add_parser(verb, help=text)
        cmd.add_argument("server", help="name, URL or id")
    commands.add_parser("probe", help="probe every server now and print the result")
    p.set_defaults(func=cmd_evolution)
