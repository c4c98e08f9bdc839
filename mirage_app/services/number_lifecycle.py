"""The end of a number's life and of a connection attempt: delete (or archive) a number, cancel a QR attempt, and
expire attempts nobody scanned.

Deleting applies the rule of `base.impact`: a number with history (messages, or an outreach policy that sent through
it) is archived, not erased. Archiving logs the number out and deletes its Evolution instance (best effort: a server
that is down does not keep the number alive), takes it out of every conversation — deactivating a conversation
left with fewer than two participants — deactivates the outreach policies that send through it, fails what it still
had queued, frees its server slot and refuses its webhooks from then on (the session's secret is cleared).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from sqlalchemy import text

from mirage_app.base import audit
from mirage_app.base.errors import Conflict
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.evolution_gateway import EvolutionFailure, client_for
from mirage_app.engine.ingest import directory
from mirage_app.evolution.errors import EvolutionError
from mirage_app.models import NumberStatus
from mirage_app.services.instances import get_number

# A QR code lives about 45 s and the open dialog renews it every few seconds: an attempt whose last code is older
# than this was abandoned (dialog closed, browser gone) and goes back to "disconnected".
QR_ATTEMPT_TTL = timedelta(minutes=3)
ARCHIVED = "archived"
QR_CANCELLED = "qr_cancelled"
QR_EXPIRED = "qr_expired"

_CONVERSATIONS = text(
    """
    SELECT c.id, c.name, c.active,
           (SELECT count(*) FROM conversation_participants o
              WHERE o.conversation_id = c.id AND o.number_id IS DISTINCT FROM :n) AS others
    FROM conversations c
    WHERE EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.number_id = :n)
    ORDER BY c.name
    """
)
_POLICIES = text(
    "SELECT id, active FROM outreach_policies WHERE number_id = :n AND archived_at IS NULL ORDER BY created_at"
)
_HISTORY = text("SELECT count(*) FROM messages WHERE from_number_id = :n OR to_number_id = :n")
_ANY_POLICY = text("SELECT count(*) FROM outreach_policies WHERE number_id = :n")


def _stops(conversation) -> bool:
    """A conversation needs two participants: one left alone stops instead of failing every round."""
    return conversation.active and conversation.others < 2


def _dependents(s, number_id: uuid.UUID, label: str) -> tuple[list[Dependent], bool, list, list]:
    conversations = s.execute(_CONVERSATIONS, {"n": number_id}).all()
    policies = s.execute(_POLICIES, {"n": number_id}).all()
    messages = s.execute(_HISTORY, {"n": number_id}).scalar() or 0
    out = [
        Dependent("conversation_seat", c.name, Effect.deactivated if _stops(c) else Effect.detached)
        for c in conversations
    ]
    for p in policies:
        out.append(Dependent("sending_policy", label, Effect.deactivated if p.active else Effect.kept))
    if messages:
        out.append(Dependent("number_history", str(messages), Effect.kept))
    has_history = bool(messages) or bool(s.execute(_ANY_POLICY, {"n": number_id}).scalar())
    return out, has_history, conversations, policies


def number_impact(actor: Actor, number_id: uuid.UUID | str) -> Impact:
    """What deleting this number would do (shown before asking; `delete_number` applies the same rule)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        dependents, has_history, _, _ = _dependents(s, number.id, number.label)
        return Impact(number.label, tuple(dependents), archive=has_history)


def delete_number(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> Impact:
    """Delete a number, or archive it when it has history; returns what was done (the same `Impact`)."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        if number.archived_at is not None:
            raise Conflict("instances.archived")
        name, server = number.session_id, number.server_id
    _forget_at_evolution(actor.tenant_id, server, name)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        dependents, has_history, conversations, policies = _dependents(s, number.id, number.label)
        params = {"n": number.id, "now": now}
        stopped = [c.id for c in conversations if _stops(c)]
        if stopped:
            s.execute(
                text(
                    "UPDATE conversations SET active = false, next_due_at = NULL, updated_at = :now "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": stopped, "now": now},
            )
        s.execute(text("DELETE FROM pairings WHERE number_a_id = :n OR number_b_id = :n"), params)
        s.execute(text("DELETE FROM conversation_participants WHERE number_id = :n"), params)
        if policies:
            s.execute(
                text("UPDATE outreach_policies SET active = false, updated_at = :now WHERE number_id = :n AND active"),
                params,
            )
        impact = Impact(number.label, tuple(dependents), archive=has_history)
        if has_history:
            _archive(s, params)
        else:
            s.execute(text("DELETE FROM numbers WHERE id = :n"), params)
        audit.record(
            s, actor, "instance.archive" if has_history else "instance.delete", "number", number.id,
            before={"label": number.label, "status": number.status.value, "session": name},
        )  # fmt: skip
        s.commit()
    directory.forget(name)
    return impact


def _archive(s, params: dict) -> None:
    s.execute(
        text(
            "UPDATE messages SET status = 'failed', error = 'number_archived', updated_at = :now "
            "WHERE from_number_id = :n AND status = 'queued'"
        ),
        params,
    )
    s.execute(
        text(
            "UPDATE numbers SET archived_at = :now, status = 'disconnected', disconnect_reason = :reason, "
            "server_id = NULL, failure_streak = 0, paused_reason = NULL, updated_at = :now WHERE id = :n"
        ),
        {**params, "reason": ARCHIVED},
    )
    # Without its secret the instance's webhooks are refused: nothing can bring an archived number back to life.
    s.execute(
        text("UPDATE sessions SET webhook_secret_hash = NULL, token_enc = NULL, last_qr = NULL WHERE number_id = :n"),
        params,
    )


def _forget_at_evolution(tenant_id: uuid.UUID, server_id: uuid.UUID | None, name: str) -> None:
    """Log out and delete the Evolution instance; a server that is down or refuses must not keep the number."""
    if server_id is None:
        return
    with contextlib.suppress(EvolutionError, EvolutionFailure):
        client = client_for(tenant_id, server_id)
        with contextlib.suppress(EvolutionError):
            client.logout(name)
        client.delete(name)


def cancel_attempt(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> None:
    """The QR dialog was closed without a scan: the attempt ends (logged out at Evolution, best effort) and the
    number reads "disconnected" with its Connect button again. A number that got paired meanwhile stays so."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        if number.status != NumberStatus.connecting:
            return
        name, server = number.session_id, number.server_id
    _end_attempts(actor.tenant_id, [(number.id, name, server)], QR_CANCELLED, clock)


_STALE_ATTEMPTS = text(
    """
    SELECT n.id, n.session_id, n.server_id FROM numbers n LEFT JOIN sessions se ON se.number_id = n.id
    WHERE n.status = 'connecting' AND n.archived_at IS NULL
      AND (se.last_qr IS NOT NULL OR n.paired_at IS NULL)
      AND COALESCE(se.last_qr_at, n.updated_at, n.created_at) < :cutoff
    """
)


def expire_attempts(actor: Actor, clock: Clock = system_clock) -> int:
    """QR attempts nobody scanned within `QR_ATTEMPT_TTL` end as "disconnected"; run whenever the numbers are read
    (upkeep, so any reader may trigger it). Only attempts waiting for a QR: a paired number that Evolution is
    reconnecting by itself has no QR and is left alone."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        stale = s.execute(_STALE_ATTEMPTS, {"cutoff": clock.now() - QR_ATTEMPT_TTL}).all()
    _end_attempts(actor.tenant_id, [(r.id, r.session_id, r.server_id) for r in stale], QR_EXPIRED, clock)
    return len(stale)


def _end_attempts(tenant_id: uuid.UUID, attempts: list, reason: str, clock: Clock) -> None:
    for number_id, name, server in attempts:
        if server is not None:
            with contextlib.suppress(EvolutionError, EvolutionFailure):
                client_for(tenant_id, server).logout(name)
        with tenant_session(tenant_id) as s:
            s.execute(
                text(
                    # "disconnected" too: the logout's own webhook may have landed first (with "logged_out")
                    "UPDATE numbers SET status = 'disconnected', disconnect_reason = :reason, updated_at = :now "
                    "WHERE id = :n AND status IN ('connecting', 'disconnected')"
                ),
                {"n": number_id, "reason": reason, "now": clock.now()},
            )
            s.execute(text("UPDATE sessions SET last_qr = NULL WHERE number_id = :n"), {"n": number_id})
            s.commit()
