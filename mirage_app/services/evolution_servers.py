"""Evolution servers: the pool of servers numbers are placed on (settings page, `/api/evolution-servers`, CLI).

Two owners. Platform servers (`tenant_id` NULL) are run by whoever runs Mirage: registered from EVOLUTION_URL at
start or with `mirage evolution add`, offered to every tenant, and shown to tenants without their key. A tenant's
own servers are added by its admins (with MFA), are placed first for that tenant, and are invisible to others.

A server is saved only after a probe proved it is an Evolution server that accepts the key (a licence-gated 2.4
server is saved, and shows that state). Keys are encrypted at rest and never read back to a page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import system_clock
from mirage_app.core.config import get_settings
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.core.security import decrypt, encrypt
from mirage_app.engine import server_health
from mirage_app.engine.evolution_gateway import credentials, server_clients
from mirage_app.models.servers import HELD_HEALTH, ServerHealth, ServerState

MAX_CAPACITY = 100_000
PLACEMENT_LOCK = 7_300_420  # the transaction advisory lock `mirage_evolution_place` takes (migration 0008)
DEFAULT_CAPACITY = 70


@dataclass(frozen=True)
class ServerView:
    id: uuid.UUID
    name: str
    base_url: str
    owner: str  # "platform" | "tenant"
    capacity: int
    placed: int  # numbers on it, across every tenant for a platform server
    state: str
    health: str
    health_since: datetime | None
    last_probe_at: datetime | None
    latency_ms: int | None
    version: str | None
    last_error: str | None
    is_default: bool

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.placed)

    @property
    def held(self) -> bool:
        """Its numbers' sends are held (server unreachable, unlicensed, or refusing the key)."""
        return self.health in HELD_HEALTH


@dataclass(frozen=True)
class ServerNumber:
    id: uuid.UUID
    label: str
    status: str
    wa_number: str | None


VIEW_SQL = """
    SELECT s.id, s.name, s.base_url, CASE WHEN s.tenant_id IS NULL THEN 'platform' ELSE 'tenant' END AS owner,
           s.capacity, COALESCE(l.placed, 0) AS placed, s.state, s.health, s.health_since, s.last_probe_at,
           s.latency_ms, s.version, s.last_error, s.is_default
    FROM evolution_servers s LEFT JOIN mirage_evolution_loads() l ON l.server_id = s.id
"""


def _view(row) -> ServerView:
    return ServerView(**row._mapping)


def list_servers(actor: Actor) -> list[ServerView]:
    """The tenant's own servers first, then the platform's (RLS hides other tenants' servers)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(text(VIEW_SQL + " ORDER BY (s.tenant_id IS NULL), s.name, s.created_at")).all()
    return [_view(r) for r in rows]


def get_server(actor: Actor, server_id: uuid.UUID | str) -> ServerView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _view(_visible(s, server_id))


def _visible(s, server_id: uuid.UUID | str):
    try:
        key = uuid.UUID(str(server_id))
    except ValueError:
        key = None
    row = s.execute(text(VIEW_SQL + " WHERE s.id = :id"), {"id": key}).first() if key else None
    if row is None:
        raise NotFound("servers.not_found")
    return row


def _own(s, server_id: uuid.UUID | str):
    """A server this tenant may change: its own (platform servers are read-only here)."""
    row = _visible(s, server_id)
    if row.owner != "tenant":
        raise Conflict("servers.platform_read_only", status=403)
    return row


def numbers_on(actor: Actor, server_id: uuid.UUID | str) -> list[ServerNumber]:
    """The tenant's numbers on a server (a draining server's page lists what still has to move)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        _visible(s, server_id)
        rows = s.execute(
            text(
                "SELECT id, label, status::text AS status, wa_number FROM numbers WHERE server_id = :id ORDER BY label"
            ),
            {"id": uuid.UUID(str(server_id))},
        ).all()
    return [ServerNumber(r.id, r.label, r.status, r.wa_number) for r in rows]


# -- checks -------------------------------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationFailed("servers.name_required", field="name")
    return name


def clean_url(url: str) -> str:
    """`https://Evo.Example.com/` → `https://evo.example.com`: one spelling per server, so duplicates are found."""
    raw = (url or "").strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValidationFailed("servers.url_invalid", field="base_url")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed("servers.url_invalid", field="base_url") from exc
    host = parts.hostname.lower() + (f":{port}" if port else "")
    cleaned = f"{parts.scheme}://{host}{parts.path.rstrip('/')}"
    if len(cleaned) > 500:
        raise ValidationFailed("servers.url_invalid", field="base_url")
    return cleaned


def clean_capacity(capacity: int | str | None) -> int:
    """A server's capacity in instances; a blank (None, empty or spaces) is the default, wherever it is typed."""
    given = "" if capacity is None else str(capacity).strip()
    try:
        value = int(given) if given else DEFAULT_CAPACITY
    except ValueError as exc:
        raise ValidationFailed("servers.capacity_invalid", field="capacity", maximum=MAX_CAPACITY) from exc
    if not 1 <= value <= MAX_CAPACITY:
        raise ValidationFailed("servers.capacity_invalid", field="capacity", maximum=MAX_CAPACITY)
    return value


def clean_key(api_key: str) -> str:
    api_key = (api_key or "").strip()
    if not 1 <= len(api_key) <= 200:
        raise ValidationFailed("servers.key_required", field="api_key")
    return api_key


def checked_probe(base_url: str, api_key: str) -> server_health.ProbeResult:
    """Probe before saving; anything but a working (or licence-gated) Evolution server is the operator's error."""
    result = server_health.probe(base_url, api_key)
    if result.health == ServerHealth.unreachable:
        raise ValidationFailed("servers.unreachable", field="base_url", detail=result.error or "")
    if result.health == ServerHealth.not_evolution:
        raise ValidationFailed("servers.not_evolution", field="base_url")
    if result.health == ServerHealth.unauthorized:
        raise ValidationFailed("servers.key_refused", field="api_key")
    return result


# -- a tenant's own servers -----------------------------------------------------------------------------------------


def add_server(actor: Actor, name: str, base_url: str, api_key: str, capacity: int | str | None = None) -> ServerView:
    authorize(actor, Action.servers_credentials)
    name, base_url, api_key = clean_name(name), clean_url(base_url), clean_key(api_key)
    capacity = clean_capacity(capacity)
    result = checked_probe(base_url, api_key)
    now = system_clock.now()
    with tenant_session(actor.tenant_id) as s:
        server_id = uuid.uuid4()
        try:
            s.execute(
                text(
                    "INSERT INTO evolution_servers (id, tenant_id, name, base_url, capacity, health, health_since, "
                    "last_probe_at, latency_ms, version, last_error) VALUES (:id, :t, :name, :url, :cap, :health, "
                    ":now, :now, :lat, :ver, :err)"
                ),
                {
                    "id": server_id,
                    "t": actor.tenant_id,
                    "name": name,
                    "url": base_url,
                    "cap": capacity,
                    "health": result.health.value,
                    "now": now,
                    "lat": result.latency_ms,
                    "ver": result.version,
                    "err": result.error,
                },
            )
            s.flush()
        except IntegrityError as exc:
            raise ValidationFailed("servers.duplicate_url", field="base_url") from exc
        s.execute(
            text("INSERT INTO evolution_server_keys (server_id, tenant_id, api_key_enc) VALUES (:id, :t, :key)"),
            {"id": server_id, "t": actor.tenant_id, "key": encrypt(api_key)},
        )
        after = {"name": name, "base_url": base_url, "capacity": capacity}
        audit.record(s, actor, "evolution_server.create", "evolution_server", server_id, after=after)
        s.commit()
        return _view(_visible(s, server_id))


def update_server(
    actor: Actor,
    server_id: uuid.UUID | str,
    *,
    name: str | None = None,
    capacity: int | str | None = None,
    api_key: str | None = None,
) -> ServerView:
    """Rename, resize (never below the numbers already on it) or change the key (MFA; checked by a probe)."""
    authorize(actor, Action.servers_credentials if api_key else Action.servers_manage)
    with tenant_session(actor.tenant_id) as s:
        row = _own(s, server_id)
    changes, key = _changes(row, name, capacity, api_key)
    probe = checked_probe(row.base_url, key) if key else None
    with tenant_session(actor.tenant_id) as s:
        row = _own(s, server_id)
        before, after = _apply(s, row, changes, key, probe)
        audit.record(s, actor, "evolution_server.update", "evolution_server", row.id, before=before, after=after)
        s.commit()
        view = _view(_visible(s, row.id))
    if key:
        server_clients.forget(view.id)
    return view


def _changes(row, name: str | None, capacity: int | str | None, api_key: str | None) -> tuple[dict, str | None]:
    """The checked changes of a rename / resize, and the cleaned new key (probed by the caller before `_apply`)."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if capacity is not None:
        value = clean_capacity(capacity)
        if value < row.placed:
            raise ValidationFailed("servers.capacity_below_placed", field="capacity", placed=row.placed)
        changes["capacity"] = value
    return changes, clean_key(api_key) if api_key else None


def _apply(s, row, changes: dict, key: str | None, probe: server_health.ProbeResult | None) -> tuple[dict, dict]:
    """Write the changes (and the probed key) in `s`'s transaction; the audit's before and after."""
    if "capacity" in changes:  # placed may have grown meanwhile; the placement lock makes this exact
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PLACEMENT_LOCK})
        placed = _visible(s, row.id).placed
        if changes["capacity"] < placed:
            raise ValidationFailed("servers.capacity_below_placed", field="capacity", placed=placed)
    sets = [f"{column} = :{column}" for column in changes] + ["updated_at = :now"]
    s.execute(
        text(f"UPDATE evolution_servers SET {', '.join(sets)} WHERE id = :id"),
        {**changes, "now": system_clock.now(), "id": row.id},
    )
    if key and probe:
        s.execute(
            text("UPDATE evolution_server_keys SET api_key_enc = :key, updated_at = :now WHERE server_id = :id"),
            {"key": encrypt(key), "now": system_clock.now(), "id": row.id},
        )
        server_health.record(s, row.id, probe)
    after = dict(changes) | ({"api_key": "changed"} if key else {})
    return {k: getattr(row, k) for k in changes}, after


def set_state(actor: Actor, server_id: uuid.UUID | str, state: str) -> ServerView:
    """Drain (keeps its numbers, takes no new ones), disable (its numbers stop sending) or activate again."""
    authorize(actor, Action.servers_manage)
    try:
        target = ServerState(state)
    except ValueError as exc:
        raise ValidationFailed("servers.state_invalid", field="state") from exc
    with tenant_session(actor.tenant_id) as s:
        row = _own(s, server_id)
        s.execute(
            text("UPDATE evolution_servers SET state = :state, updated_at = :now WHERE id = :id"),
            {"state": target.value, "now": system_clock.now(), "id": row.id},
        )
        audit.record(
            s, actor, "evolution_server.state", "evolution_server", row.id,
            before={"state": row.state}, after={"state": target.value},
        )  # fmt: skip
        s.commit()
        return _view(_visible(s, row.id))


def _delete_impact(row, tenants: str = "") -> Impact:
    """A server still holding numbers cannot go (drain it, re-pair them elsewhere); an empty one takes only itself:
    its address and its key."""
    if row.placed:
        return Impact(row.name, _on_it(row, tenants, Effect.blocks))
    return Impact(row.name, (Dependent("server_key", row.name, Effect.deleted),))


def _on_it(row, tenants: str, effect: Effect) -> tuple[Dependent, ...]:
    """The numbers on a server and, for a platform server, whose they are (`tenants_on`)."""
    numbers = (Dependent("server_numbers", str(row.placed), effect),)
    return numbers + ((Dependent("server_tenants", tenants, effect),) if tenants else ())


def _remove(s, row) -> None:
    """Delete an empty server, under the placement lock: no number lands on it between the count and the delete."""
    s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PLACEMENT_LOCK})
    now = _visible(s, row.id)
    if _delete_impact(now).blocked:
        raise Conflict("servers.not_empty", placed=now.placed)
    s.execute(text("DELETE FROM evolution_servers WHERE id = :id"), {"id": row.id})


def server_impact(actor: Actor, server_id: uuid.UUID | str) -> Impact:
    """What deleting the server would do, for the confirmation dialog (`delete_server` applies it again)."""
    authorize(actor, Action.servers_manage)
    with tenant_session(actor.tenant_id) as s:
        return _delete_impact(_own(s, server_id))


def delete_server(actor: Actor, server_id: uuid.UUID | str) -> None:
    """Remove an empty server; one that still holds numbers says so (move them first: drain, then re-pair)."""
    authorize(actor, Action.servers_manage)
    with tenant_session(actor.tenant_id) as s:
        row = _own(s, server_id)
        _remove(s, row)
        before = {"name": row.name, "base_url": row.base_url}
        audit.record(s, actor, "evolution_server.delete", "evolution_server", row.id, before=before)
        s.commit()
    server_clients.forget(row.id)


def probe_now(actor: Actor, server_id: uuid.UUID | str) -> ServerView:
    """Probe one server now (the periodic probe does all of them every 30 s)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        row = _visible(s, server_id)
    found = credentials(actor.tenant_id, row.id)
    result = server_health.probe(row.base_url, found[1] if found else None)
    with tenant_session(actor.tenant_id) as s:
        server_health.record(s, row.id, result)
        s.commit()
        return _view(_visible(s, row.id))


# -- platform servers (the operator of the installation: start-up, CLI) ------------------------------------------


def register_platform_server(
    name: str,
    base_url: str,
    api_key: str,
    capacity: int | None = None,
    *,
    default: bool = False,
    probe: bool = True,
) -> uuid.UUID:
    """Create or update a platform server by URL (idempotent: every process start may call it)."""
    base_url, api_key, name = clean_url(base_url), clean_key(api_key), clean_name(name)
    if capacity is not None:
        capacity = clean_capacity(capacity)
    result = checked_probe(base_url, api_key) if probe else None
    with admin_engine().begin() as conn:
        if default:
            conn.execute(
                text("UPDATE evolution_servers SET is_default = false WHERE is_default AND base_url <> :url"),
                {"url": base_url},
            )
        row = conn.execute(
            text(
                """
                INSERT INTO evolution_servers (name, base_url, capacity, is_default)
                VALUES (:name, :url, COALESCE(:cap, 70), :default)
                ON CONFLICT (base_url) DO UPDATE SET
                  capacity = COALESCE(:cap, evolution_servers.capacity),
                  is_default = evolution_servers.is_default OR :default, updated_at = now()
                WHERE evolution_servers.tenant_id IS NULL
                RETURNING id
                """
            ),
            {"name": name, "url": base_url, "cap": capacity, "default": default},
        ).first()
        if row is None:
            raise ValidationFailed("servers.duplicate_url", field="base_url")
        conn.execute(
            text(
                "INSERT INTO evolution_server_keys (server_id, api_key_enc) VALUES (:id, :key) "
                "ON CONFLICT (server_id) DO UPDATE SET api_key_enc = EXCLUDED.api_key_enc, updated_at = now()"
            ),
            {"id": row.id, "key": encrypt(api_key)},
        )
        if result is not None:
            server_health.record(conn, row.id, result)
    server_clients.forget(row.id)
    return row.id


def ensure_default_server() -> uuid.UUID | None:
    """EVOLUTION_URL / EVOLUTION_API_KEY become (or update) the platform's default server. No probe: a server that
    is down at start is still the configured one; the periodic probe reports it."""
    settings = get_settings()
    if not settings.evolution_url or not settings.evolution_api_key:
        return None
    return register_platform_server(
        "Evolution",
        settings.evolution_url,
        settings.evolution_api_key,
        settings.evolution_capacity,
        default=True,
        probe=False,
    )


def ensure_platform_servers() -> list[uuid.UUID]:
    """What every process runs at start: the embedded demo's simulated servers (the first one is the default), or
    the default server from EVOLUTION_URL."""
    settings = get_settings()
    urls = [u.strip() for u in (settings.sim_servers or "").split(",") if u.strip()]
    if not urls:
        default = ensure_default_server()
        return [default] if default else []
    key = settings.evolution_api_key or ""
    return [
        register_platform_server(f"Simulator {i}", url, key if i == 1 else f"{key}-{i}", default=i == 1, probe=False)
        for i, url in enumerate(urls, start=1)
    ]


def platform_servers() -> list[ServerView]:
    """Every server of the installation (CLI), with numbers across all tenants."""
    with admin_engine().connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT s.id, s.name, s.base_url,
                       CASE WHEN s.tenant_id IS NULL THEN 'platform' ELSE 'tenant' END AS owner, s.capacity,
                       (SELECT count(*) FROM numbers n WHERE n.server_id = s.id) AS placed, s.state, s.health,
                       s.health_since, s.last_probe_at, s.latency_ms, s.version, s.last_error, s.is_default
                FROM evolution_servers s ORDER BY (s.tenant_id IS NOT NULL), s.created_at
                """
            )
        ).all()
    return [_view(r) for r in rows]


def set_platform_state(name_or_url: str, state: str) -> ServerView:
    target = ServerState(state)
    with admin_engine().begin() as conn:
        found = conn.execute(
            text(
                "UPDATE evolution_servers SET state = :state, updated_at = now() WHERE tenant_id IS NULL "
                "AND (name = :key OR base_url = :key OR id::text = :key) RETURNING id"
            ),
            {"state": target.value, "key": name_or_url.strip().rstrip("/")},
        ).all()
    if len(found) != 1:
        raise NotFound("servers.not_found")
    return next(v for v in platform_servers() if v.id == found[0].id)


# The owner's connection sets no tenant: `_visible` there sees every platform server (and counts numbers across
# tenants); `_platform_row` refuses a tenant's own.


def _platform_row(conn, server_id: uuid.UUID | str):
    row = _visible(conn, server_id)
    if row.owner != "platform":
        raise NotFound("servers.not_found")
    return row


def platform_server(server_id: uuid.UUID | str) -> ServerView:
    with admin_engine().connect() as conn:
        return _view(_platform_row(conn, server_id))


TENANTS_NAMED = 10  # a disable / delete dialog names this many tenants, then says how many more


def _tenants_on(conn, server_id: uuid.UUID) -> str:
    """Whose numbers sit on a platform server, the most first: "Acme (8), Beta (4)"."""
    rows = conn.execute(
        text(
            "SELECT t.name, count(*) AS n FROM numbers n JOIN tenants t ON t.id = n.tenant_id WHERE n.server_id = :id "
            "GROUP BY t.id, t.name ORDER BY count(*) DESC, t.name"
        ),
        {"id": server_id},
    ).all()
    named = [f"{r.name} ({r.n})" for r in rows[:TENANTS_NAMED]]
    return ", ".join(named + ([f"+{len(rows) - TENANTS_NAMED}"] if len(rows) > TENANTS_NAMED else []))


def platform_server_impact(server_id: uuid.UUID | str, change: str) -> Impact:
    """What deleting (`change` "delete": refused while numbers are on it) or disabling (they stop sending) a platform
    server would do: the numbers on it and the tenants they belong to."""
    with admin_engine().connect() as conn:
        row = _platform_row(conn, server_id)
        tenants = _tenants_on(conn, row.id)
    if change == "delete":
        return _delete_impact(row, tenants)
    held = (Dependent("server_disabled", row.name, Effect.kept),)  # said even when no number is on it
    return Impact(row.name, held + (_on_it(row, tenants, Effect.deactivated) if row.placed else ()), archive=True)


def update_platform_server(
    server_id: uuid.UUID | str, *, capacity: int | str | None = None, api_key: str | None = None
) -> ServerView:
    """Resize (never below the numbers on it, across tenants) or change the key (checked by a probe first)."""
    row = platform_server(server_id)
    changes, key = _changes(row, None, capacity, api_key)
    probe = checked_probe(row.base_url, key) if key else None
    with admin_engine().begin() as conn:
        _apply(conn, _platform_row(conn, row.id), changes, key, probe)
    if key:
        server_clients.forget(row.id)
    return platform_server(row.id)


def delete_platform_server(server_id: uuid.UUID | str) -> ServerView:
    """Remove an empty platform server (one with numbers is refused, as a tenant's is); the view it had."""
    with admin_engine().begin() as conn:
        row = _platform_row(conn, server_id)
        _remove(conn, row)
    server_clients.forget(row.id)
    return _view(row)


def probe_platform_server(server_id: uuid.UUID | str) -> ServerView:
    """Probe one platform server now with its stored key, and record the result."""
    with admin_engine().connect() as conn:
        row = _platform_row(conn, server_id)
        stored = conn.execute(
            text("SELECT api_key_enc FROM evolution_server_keys WHERE server_id = :id"), {"id": row.id}
        ).scalar()
    result = server_health.probe(row.base_url, decrypt(stored) if stored else None)
    with admin_engine().begin() as conn:
        server_health.record(conn, row.id, result)
    return platform_server(row.id)
