"""Warming groups on WhatsApp: created among a `group` conversation's numbers before its first round.

The scheduler queues `setup_group` when a group conversation is due and its group does not exist yet. The owner
(the first connected member) creates it through its own Evolution server with the other members; the group's
JID, state and members are stored. A refusal leaves the group `failed` with Evolution's reason (shown on the
conversation; the operator can retry by switching the conversation off and on), never a failed number.

One creation at a time per conversation: a short Redis claim, not a row lock, so no transaction stays open (and
nothing else waits on the group's row) while Evolution creates the group; the result is written only if the group
is still pending then.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.core.redis import get_redis
from mirage_app.engine import safety_stop
from mirage_app.engine.evolution_gateway import EvolutionFailure, client_for
from mirage_app.engine.runtime import runtime
from mirage_app.evolution.errors import EvolutionError
from mirage_app.evolution.jids import phone_digits

log = logging.getLogger("mirage.groups")

CREATED = "created"
EXISTS = "exists"
NOT_ENOUGH = "not_enough_members"
FAILED = "failed"
BUSY = "busy"
STOPPED = "emergency_stop"
# Longer than a create call can take (Evolution's client gives up after 10 s), short enough to retry soon after a
# worker died holding it.
CLAIM_SECONDS = 60

MEMBERS = text(
    """
    SELECT n.id, n.wa_number, n.session_id, n.server_id, n.status::text AS status
    FROM conversation_participants cp JOIN numbers n ON n.id = cp.number_id
    WHERE cp.conversation_id = :c AND cp.kind = 'bot' AND n.archived_at IS NULL
    ORDER BY cp.start_order, cp.id
    """
)


def setup_group(tenant_id: uuid.UUID | str, conversation_id: uuid.UUID | str) -> str:
    """Create the conversation's WhatsApp group if it is still pending; idempotent (a created group is left as is)."""
    tenant, conv = uuid.UUID(str(tenant_id)), uuid.UUID(str(conversation_id))
    claim = f"mirage:group-setup:{conv}"
    if not get_redis().set(claim, "1", nx=True, ex=CLAIM_SECONDS):
        return BUSY  # another worker is creating it now
    try:
        return _create(tenant, conv)
    finally:
        get_redis().delete(claim)


def _create(tenant: uuid.UUID, conv: uuid.UUID) -> str:
    with tenant_session(tenant) as s:
        group = s.execute(
            text(
                "SELECT id, subject, description, state::text AS state FROM warming_groups WHERE conversation_id = :c"
            ),
            {"c": conv},
        ).first()
        if group is None or group.state != "pending":
            return EXISTS
        if safety_stop.held_since(s) is not None:
            return STOPPED  # the next tick asks again once the tenant's send gate opens (stop or suspension)
        members = [m for m in s.execute(MEMBERS, {"c": conv}).all() if m.wa_number]
    connected = [m for m in members if m.status == "connected"]
    if not connected or len(members) < 2:
        return NOT_ENOUGH
    owner = connected[0]
    others = [phone_digits(m.wa_number) for m in members if m.id != owner.id]
    try:
        info = client_for(tenant, owner.server_id).group_create(
            owner.session_id, group.subject, others, description=group.description or None
        )
    except (EvolutionError, EvolutionFailure) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        with tenant_session(tenant) as s:
            s.execute(
                text(
                    "UPDATE warming_groups SET state = 'failed', error = :e, updated_at = :now "
                    "WHERE id = :g AND state = 'pending'"
                ),
                {"e": reason[:500], "now": runtime().clock.now(), "g": group.id},
            )
            s.commit()
        log.warning("group of conversation %s not created: %s", conv, reason)
        return FAILED
    _record(tenant, group.id, owner.id, members, info)
    return CREATED


def _record(tenant: uuid.UUID, group_id: uuid.UUID, owner_id: uuid.UUID, members: list, info) -> None:
    now = runtime().clock.now()
    joined = {phone_digits(p.phone) for p in info.participants if p.phone}
    with tenant_session(tenant) as s:
        s.execute(
            text(
                "UPDATE warming_groups SET state = 'active', group_jid = :jid, owner_number_id = :o, error = NULL, "
                "updated_at = :now WHERE id = :g"
            ),
            {"jid": info.jid, "o": owner_id, "now": now, "g": group_id},
        )
        for m in members:
            inside = m.id == owner_id or phone_digits(m.wa_number) in joined
            s.execute(
                text(
                    "INSERT INTO warming_group_members (tenant_id, group_id, number_id, admin, joined_at, left_at) "
                    "VALUES (:t, :g, :n, :admin, :joined, :left) ON CONFLICT (group_id, number_id) DO UPDATE "
                    "SET joined_at = EXCLUDED.joined_at, left_at = EXCLUDED.left_at"
                ),
                {
                    "t": tenant, "g": group_id, "n": m.id, "admin": m.id == owner_id,
                    "joined": now if inside else None, "left": None if inside else now,
                },
            )  # fmt: skip
        s.commit()
