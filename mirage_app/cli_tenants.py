"""`mirage tenant create | list | suspend | resume | plan | limits | defaults`: the platform's tenants and plans, for
scripts (services.platform, as the platform operator: whoever runs this holds the database owner's credentials).

`create` prints the new tenant's id and its first admin's invitation link (no password is made or shown). Output is
one tenant per line, or JSON with `--json`.
"""

from __future__ import annotations

import argparse
import json
import sys


def _use_text(row) -> str:
    return ", ".join(f"{u.kind}={u.used}/{'-' if u.limit is None else u.limit}" for u in row.uses)


def _print(rows, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": str(r.id),
                        "name": r.name,
                        "plan": r.plan,
                        "status": r.status,
                        "suspended_reason": r.suspended_reason,
                        "use": {u.kind: {"used": u.used, "limit": u.limit} for u in r.uses},
                        "overrides": r.overrides,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    for r in rows:
        print(f"{r.id}\t{r.name}\t{r.plan}\t{r.status}\t{_use_text(r)}")


def _limits(pairs: list[str]) -> dict[str, str]:
    """`numbers=5 contacts=` (blank: no override / unlimited) as a dict; an unknown limit is a usage error."""
    from mirage_app.logic.plan_limits import LIMIT_KINDS

    values: dict[str, str] = {}
    for pair in pairs:
        kind, sep, value = pair.partition("=")
        if not sep or kind not in LIMIT_KINDS:
            raise SystemExit(f"mirage tenant: limits are kind=value with kind one of {', '.join(LIMIT_KINDS)}")
        values[kind] = value
    return values


def _run(args: argparse.Namespace) -> None:
    from mirage_app.core.config import get_settings
    from mirage_app.services import platform

    op = platform.CLI_OPERATOR
    command = args.tenant_command
    if command == "create":
        created = platform.create_tenant(
            op, args.name, args.admin_email, plan=args.plan, timezone=args.timezone, locale=args.locale
        )
        link = get_settings().public_url.rstrip("/") + created.invitation.accept_path
        if args.json:
            print(json.dumps({"id": str(created.tenant_id), "invitation_link": link}, indent=2))
        else:
            print(f"tenant {created.tenant_id}\ninvitation link for {args.admin_email}: {link}")
    elif command == "list":
        _print(platform.list_tenants(op), args.json)
    elif command == "defaults":
        if args.limits:
            platform.set_plan_defaults(op, args.plan, {**platform.plan_defaults(op)[args.plan], **_limits(args.limits)})
        defaults = platform.plan_defaults(op)
        print(json.dumps(defaults, indent=2) if args.json else "\n".join(f"{p}\t{v}" for p, v in defaults.items()))
    else:
        tenant = platform.find_tenant(op, args.tenant)
        if command == "suspend":
            platform.suspend(op, tenant, args.reason)
        elif command == "resume":
            platform.resume(op, tenant)
        elif command == "plan":
            platform.change_plan(op, tenant, args.plan)
        elif command == "limits":
            current = platform.get_tenant(op, tenant).overrides
            platform.set_overrides(op, tenant, {**current, **_limits(args.limits)})
        _print([platform.get_tenant(op, tenant)], args.json)


def cmd_tenant(args: argparse.Namespace) -> int:
    from mirage_app.base.errors import ServiceError

    try:
        _run(args)
    except ServiceError as exc:
        print(f"mirage tenant: {exc.message}", file=sys.stderr)
        return 2
    return 0


def add_parser(sub) -> None:
    from mirage_app.i18n import LOCALES
    from mirage_app.models.enums import TenantPlan

    plans = [plan.value for plan in TenantPlan]
    p = sub.add_parser("tenant", help="the platform's tenants and plans (create, list, suspend, resume, plan)")
    p.add_argument("--json", action="store_true", help="print JSON")
    commands = p.add_subparsers(dest="tenant_command", required=True)
    create = commands.add_parser("create", help="a new tenant; prints its first admin's invitation link")
    create.add_argument("name")
    create.add_argument("--admin-email", required=True, help="the first admin, invited by a one-time link")
    create.add_argument("--plan", choices=plans, default="free")
    create.add_argument("--timezone", default="America/Sao_Paulo")
    create.add_argument("--locale", choices=list(LOCALES), default="pt-BR")
    commands.add_parser("list", help="every tenant with its plan, status and use against each limit")
    suspend = commands.add_parser("suspend", help="no sign-in, API keys refused, every send held")
    suspend.add_argument("tenant", help="id or exact name")
    suspend.add_argument("--reason", required=True)
    resume = commands.add_parser("resume", help="lift a suspension (held sends go out)")
    resume.add_argument("tenant", help="id or exact name")
    plan = commands.add_parser("plan", help="move a tenant to another plan")
    plan.add_argument("tenant", help="id or exact name")
    plan.add_argument("plan", choices=plans)
    limits = commands.add_parser("limits", help="a tenant's own limits over its plan's: kind=value (blank: the plan's)")
    limits.add_argument("tenant", help="id or exact name")
    limits.add_argument("limits", nargs="+", metavar="kind=value")
    defaults = commands.add_parser("defaults", help="show, or with kind=value set, a plan's default limits")
    defaults.add_argument("plan", choices=plans)
    defaults.add_argument("limits", nargs="*", metavar="kind=value")
    p.set_defaults(func=cmd_tenant)
