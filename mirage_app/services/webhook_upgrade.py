"""The periodic `webhook-upgrade` job: numbers created before Mirage listened to an event get it added.

Mirage asks Evolution for `instances.WEBHOOK_EVENTS` when it creates an instance. When a release listens to more
(edits, groups…), the instances made earlier would never send those. Each one's webhook is read back
(`/webhook/find`) and, when its events lack any of the list, set again with the full list and the SAME url and
headers: Evolution returns the headers it stores, and Mirage keeps the webhook secret only hashed, so it could not
write a new header without rotating the secret (and refusing the deliveries already on their way). A webhook
without Mirage's secret header is left alone and reported.

A number once found current is remembered in Redis under a fingerprint of the event list, so the job reads each
instance once per change of the list, not every run; a lost Redis only means reading them all again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import asdict, dataclass

from sqlalchemy import text

from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.engine.evolution_gateway import EvolutionFailure, client_for
from mirage_app.engine.ingest import SECRET_HEADER
from mirage_app.evolution.errors import EvolutionError
from mirage_app.models.servers import HELD_SQL
from mirage_app.services.instances import WEBHOOK_EVENTS

log = logging.getLogger("mirage.webhook_upgrade")

CURRENT_KEY = "mirage:webhook-events:" + hashlib.sha256(",".join(sorted(WEBHOOK_EVENTS)).encode()).hexdigest()[:16]
BATCH = 200  # instances read per tenant and run: a large fleet is upgraded over a few runs, never in one burst

_NUMBERS = text(
    f"""
    SELECT n.id, n.session_id, n.server_id FROM numbers n JOIN evolution_servers es ON es.id = n.server_id
    WHERE n.archived_at IS NULL AND n.creating_since IS NULL AND es.state <> 'disabled'
      AND es.health NOT IN {HELD_SQL}
    ORDER BY n.created_at
    """
)


@dataclass
class UpgradeReport:
    checked: int = 0
    upgraded: int = 0
    not_ours: int = 0  # no webhook, or one without Mirage's secret header: left as it is
    unreachable: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def upgrade_all() -> UpgradeReport:
    report = UpgradeReport()
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    for tenant_id in tenants:
        upgrade_tenant(tenant_id, report)
    return report


def upgrade_tenant(tenant_id: uuid.UUID, report: UpgradeReport) -> None:
    with tenant_session(tenant_id) as s:
        numbers = s.execute(_NUMBERS).all()
    if not numbers:
        return
    redis = get_redis()
    known = redis.smismember(CURRENT_KEY, [str(n.id) for n in numbers])
    pending = [n for n, done in zip(numbers, known, strict=True) if not done][:BATCH]
    for number in pending:
        try:
            outcome = _upgrade_one(client_for(tenant_id, number.server_id), number.session_id)
        except (EvolutionError, EvolutionFailure):
            report.unreachable += 1  # tried again next run
            continue
        report.checked += 1
        if outcome == "upgraded":
            report.upgraded += 1
        elif outcome == "not_ours":
            report.not_ours += 1
        redis.sadd(CURRENT_KEY, str(number.id))


def _upgrade_one(client, name: str) -> str:
    """ "upgraded", "current" or "not_ours" (nothing changed)."""
    row = client.find_webhook(name)
    if not row or not row.get("enabled"):
        return "not_ours"
    headers = {str(k): str(v) for k, v in (row.get("headers") or {}).items()}
    if not any(key.lower() == SECRET_HEADER for key in headers):
        log.warning("instance %s: its webhook carries no Mirage secret header; events left as they are", name)
        return "not_ours"
    events = set(row.get("events") or [])
    if not events or set(WEBHOOK_EVENTS) <= events:  # no list at all means every event
        return "current"
    client.set_webhook(name, row["url"], headers, WEBHOOK_EVENTS, by_events=bool(row.get("webhookByEvents")))
    log.info("instance %s: webhook events brought up to date (%d added)", name, len(set(WEBHOOK_EVENTS) - events))
    return "upgraded"
