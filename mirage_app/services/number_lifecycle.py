"""The end of a number's life and of a connection attempt: delete (or archive) a number, cancel a QR attempt, and
expire attempts nobody scanned.

Deleting applies the rule of `base.impact`: a number with history (messages sent or received) is archived, not
erased. Either way it is logged out and its Evolution instance deleted (best effort: a server that is down does not
keep the number alive) and it leaves every conversation by the participants' own rule — a conversation that can no
longer run is switched off, its running round aborted. Archiving also archives the outreach policies that send
through it, fails what it still had queued, frees its server slot and refuses its webhooks from then on (the
session's secret is cleared).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.engine.evolution_gateway import EvolutionFailure, client_for
from mirage_app.engine.ingest import directory
from mirage_app.evolution.errors import EvolutionError
from mirage_app.models import Conversation, ConversationParticipant, Number, NumberStatus
from mirage_app.models.numbers import ARCHIVED, QR_CANCELLED, QR_EXPIRED
from mirage_app.services.conversations import participants
from mirage_app.services.conversations.records import mark_changed
from mirage_app.services.instances import NUMBER_MESSAGES, get_number

# A QR code lives about 45 s and the open dialog renews it every few seconds: an attempt whose last code is older
# than this was abandoned (dialog closed, browser gone) and goes back to "disconnected".
QR_ATTEMPT_TTL = timedelta(minutes=3)

_SEATS = (
    select(ConversationParticipant, Conversation)
    .join(Conversation, col(Conversation.id) == ConversationParticipant.conversation_id)
    .order_by(col(Conversation.name), col(Conversation.id))
)
_POLICIES = text(
    "SELECT id, active FROM outreach_policies WHERE number_id = :n AND archived_at IS NULL ORDER BY created_at"
)
_HISTORY = text(f"SELECT {NUMBER_MESSAGES} FROM numbers n WHERE n.id = :n")


def _seats(s, number_id: uuid.UUID) -> list[tuple[ConversationParticipant, Conversation]]:
    return list(s.exec(_SEATS.where(ConversationParticipant.number_id == number_id)).all())


def _impact(s, number: Number) -> Impact:
    """Its seats leave their conversations by the participants' own rule (`participants.seat_impact`: a conversation
    that can no longer run is switched off). With messages it is archived and its policies with it (an active one
    is switched off); without, it is deleted and its policies go with it."""
    messages = s.execute(_HISTORY, {"n": number.id}).scalar() or 0
    dependents = []
    for seat, conv in _seats(s, number.id):
        stops = participants.stops_conversation(participants.seat_impact(s, conv, seat))
        dependents.append(Dependent("conversation_seat", conv.name, Effect.deactivated if stops else Effect.detached))
    for p in s.execute(_POLICIES, {"n": number.id}).all():
        effect = Effect.deleted if not messages else Effect.deactivated if p.active else Effect.kept
        dependents.append(Dependent("sending_policy", number.label, effect))
    if messages:
        dependents.append(Dependent("number_history", str(messages), Effect.kept))
    return Impact(number.label, tuple(dependents), archive=bool(messages))


def number_impact(actor: Actor, number_id: uuid.UUID | str) -> Impact:
    """What deleting this number would do (shown before asking; `delete_number` applies the same rule)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _impact(s, get_number(s, number_id))


def delete_number(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> Impact:
    """Delete a number, or archive it when it has history; returns what was done (the same `Impact`)."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        name, server = number.session_id, number.server_id
    _forget_at_evolution(actor.tenant_id, server, name)
    now = clock.now()
    with tenant_session(actor.tenant_id) as s:
        # Locked: a concurrent delete waits here, then finds the number archived (409) or gone (404).
        number = get_number(s, number_id, lock=True)
        impact = _impact(s, number)
        for seat, conv in _seats(s, number.id):
            participants.take_out(s, conv, seat, clock)
            mark_changed(conv, clock)
            s.add(conv)
        params = {"n": number.id, "now": now}
        if impact.archive:
            _archive(s, params)
        else:
            s.execute(text("DELETE FROM numbers WHERE id = :n"), params)  # its policies and targets cascade
        audit.record(
            s, actor, "instance.archive" if impact.archive else "instance.delete", "number", number.id,
            before={"label": number.label, "status": number.status.value, "session": name},
        )  # fmt: skip
        s.commit()
    directory.forget(name)
    return impact


def _archive(s, params: dict) -> None:
    # As `round_state.abort` fails a round's turns: only what no worker has taken yet, with its wait cleared.
    s.execute(
        text(
            "UPDATE messages SET status = 'failed', error = 'number_archived', send_after = NULL, wait_reason = NULL, "
            "updated_at = :now WHERE from_number_id = :n AND status = 'queued' AND dispatched_at IS NULL"
        ),
        params,
    )
    s.execute(
        text(
            "UPDATE outreach_policies SET active = false, archived_at = :now, updated_at = :now "
            "WHERE number_id = :n AND archived_at IS NULL"
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
    WHERE n.status = 'connecting' AND n.archived_at IS NULL AND n.creating_since IS NULL
      AND (se.last_qr IS NOT NULL OR n.paired_at IS NULL)
      AND COALESCE(se.last_qr_at, n.updated_at, n.created_at) < :cutoff
    """
)


def expire_attempts(tenant_id: uuid.UUID, clock: Clock = system_clock) -> int:
    """The tenant's QR attempts nobody scanned within `QR_ATTEMPT_TTL` end as "disconnected". Only attempts waiting
    for a QR: a paired number that Evolution is reconnecting by itself has no QR and is left alone."""
    with tenant_session(tenant_id) as s:
        stale = s.execute(_STALE_ATTEMPTS, {"cutoff": clock.now() - QR_ATTEMPT_TTL}).all()
    _end_attempts(tenant_id, [(r.id, r.session_id, r.server_id) for r in stale], QR_EXPIRED, clock)
    return len(stale)


def expire_all_attempts(clock: Clock = system_clock) -> int:
    """`expire_attempts` for every tenant: the periodic `qr-expire` job (upkeep stays off the pages' reads)."""
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    return sum(expire_attempts(tenant_id, clock) for tenant_id in tenants)


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
