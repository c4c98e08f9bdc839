"""The periodic `instance-reconcile` job: nothing Mirage asked Evolution to create stays without its number row,
and no number stays "creating…".

- A number still marked `creating_since` (its create call failed with an unknown outcome, or its process died
  during it) is looked up on its server once `CREATE_GRACE` has passed (`fetchInstances`). If the instance is
  there, the number is completed: Mirage's webhook is set again with a fresh secret and the number reads
  "disconnected" (its first QR code went unseen), with its Connect button. If it is not there, the row goes. While
  the server cannot answer, the row waits up to `GIVE_UP`, then goes; the sweep deletes the instance if it shows up.
- Orphans: on each platform server (Mirage's own: a tenant's server may be shared with other software) every
  instance whose name Mirage generated (`instances.INSTANCE_NAME`) and that has no number row, or only an archived
  one, is deleted. Names are listed before rows are read, and a row is written before its instance is asked for, so
  an instance being created meanwhile is never taken for an orphan.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import hash_token, new_token
from mirage_app.engine.evolution_gateway import EvolutionFailure, client_for, platform_client
from mirage_app.engine.ingest import directory
from mirage_app.evolution.client import EvolutionClient
from mirage_app.evolution.errors import EvolutionError, EvolutionNotFound
from mirage_app.models.numbers import QR_EXPIRED
from mirage_app.models.servers import HELD_SQL
from mirage_app.services.instances import INSTANCE_NAME, WEBHOOK_EVENTS, webhook_headers, webhook_url

# Longer than a create call can take (10 s timeout, retried only while Evolution is unreachable): the operator's
# own request has ended before the job looks.
CREATE_GRACE = timedelta(minutes=2)
GIVE_UP = timedelta(hours=1)

_PENDING = text(
    "SELECT id, session_id, server_id, creating_since FROM numbers "
    "WHERE creating_since IS NOT NULL AND creating_since < :cutoff ORDER BY creating_since"
)
_PLATFORM_SERVERS = text(
    f"SELECT id FROM evolution_servers WHERE tenant_id IS NULL AND state <> 'disabled' AND health NOT IN {HELD_SQL}"
)


@dataclass
class ReconcileReport:
    completed: int = 0
    removed: int = 0
    waiting: int = 0
    orphans_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def reconcile_all(clock: Clock = system_clock) -> ReconcileReport:
    report = ReconcileReport()
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    for tenant_id in tenants:
        reconcile_creations(tenant_id, clock, report)
    sweep_orphans(report)
    return report


def reconcile_creations(tenant_id: uuid.UUID, clock: Clock, report: ReconcileReport) -> None:
    now = clock.now()
    with tenant_session(tenant_id) as s:
        pending = s.execute(_PENDING, {"cutoff": now - CREATE_GRACE}).all()
    for number_id, name, server_id, since in pending:
        try:
            client = client_for(tenant_id, server_id)
            if _exists(client, name):
                _complete(tenant_id, number_id, name, client, now)
                report.completed += 1
                continue
        except (EvolutionError, EvolutionFailure):
            if now - since < GIVE_UP:
                report.waiting += 1
                continue
        _remove(tenant_id, number_id)
        report.removed += 1


def _exists(client: EvolutionClient, name: str) -> bool:
    try:
        return any(row.get("name") == name for row in client.fetch_instances(name))
    except EvolutionNotFound:
        return False


def _complete(tenant_id: uuid.UUID, number_id: uuid.UUID, name: str, client: EvolutionClient, now: datetime) -> None:
    secret = new_token()
    client.set_webhook(name, webhook_url(), webhook_headers(secret), WEBHOOK_EVENTS)
    with tenant_session(tenant_id) as s:
        s.execute(
            text(
                "UPDATE numbers SET creating_since = NULL, status = 'disconnected', disconnect_reason = :reason, "
                "updated_at = :now WHERE id = :id AND creating_since IS NOT NULL"
            ),
            {"id": number_id, "reason": QR_EXPIRED, "now": now},
        )
        s.execute(
            text("UPDATE sessions SET webhook_secret_hash = :h WHERE number_id = :id"),
            {"id": number_id, "h": hash_token(secret)},
        )
        s.commit()
    directory.forget(name)


def _remove(tenant_id: uuid.UUID, number_id: uuid.UUID) -> None:
    with tenant_session(tenant_id) as s:  # its session row cascades
        s.execute(text("DELETE FROM numbers WHERE id = :id AND creating_since IS NOT NULL"), {"id": number_id})
        s.commit()


def sweep_orphans(report: ReconcileReport) -> None:
    with system_session() as s:
        servers = s.execute(_PLATFORM_SERVERS).scalars().all()
    for server_id in servers:
        with contextlib.suppress(EvolutionError, EvolutionFailure):  # a server down now is swept next time
            report.orphans_deleted += _sweep(platform_client(server_id))


def _sweep(client: EvolutionClient) -> int:
    names = [row.get("name") for row in client.fetch_instances()]
    ours = [name for name in names if isinstance(name, str) and INSTANCE_NAME.fullmatch(name)]
    if not ours:
        return 0
    with system_session() as s:
        rows = s.execute(text("SELECT session_id, archived FROM mirage_known_instances(:names)"), {"names": ours})
        live = {row.session_id for row in rows if not row.archived}
    deleted = 0
    for name in ours:
        if name not in live:
            with contextlib.suppress(EvolutionError):
                client.delete(name)
                deleted += 1
    return deleted
