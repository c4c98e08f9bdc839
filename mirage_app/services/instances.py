"""WhatsApp numbers (Evolution instances): connect by QR, watch, rename, assign a persona, stop, reconnect.

Shared by the Reflex pages and `/api/instances`. A new number's row is written first, marked `creating_since`, and
Evolution is called after it. If Evolution surely made nothing (unreachable, or it refused) the row goes again; if
the outcome is unknown (a timeout or a 5xx: Evolution may have made the instance anyway) the row stays "creating…"
and `services.instance_reconcile` completes or removes it, so no instance is ever left without its row. If the
database write after a confirmed create fails, the new Evolution instance is deleted again. Reconnecting reuses the
same number row, so a number keeps its history.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.config import get_settings
from mirage_app.core.db import tenant_session
from mirage_app.core.security import encrypt, hash_token, new_token
from mirage_app.engine.evolution_gateway import EvolutionFailure, as_failure, client_for, simulator_scan
from mirage_app.engine.ingest import SECRET_HEADER, directory
from mirage_app.evolution.errors import EvolutionError, EvolutionTimeout, EvolutionUnavailable
from mirage_app.evolution.models import InstanceState
from mirage_app.logic import warmup
from mirage_app.models import EvolutionSession, Number, NumberStatus, Persona, Tenant
from mirage_app.models.messaging import counted_sends
from mirage_app.models.numbers import STOPPED
from mirage_app.models.servers import HELD_HEALTH
from mirage_app.services import metrics, number_activity, plan_limits
from mirage_app.services.message_history import NUMBER_SCOPE, MessageItem, load_items

# A number's history: the messages it sent or received (a number with any is archived, not erased).
NUMBER_MESSAGES = "(SELECT count(*) FROM messages m WHERE m.from_number_id = n.id OR m.to_number_id = n.id)"
WEBHOOK_EVENTS = [
    "QRCODE_UPDATED", "CONNECTION_UPDATE", "MESSAGES_UPSERT", "MESSAGES_UPDATE", "SEND_MESSAGE",
    "MESSAGES_EDITED", "SEND_MESSAGE_UPDATE", "GROUPS_UPSERT", "GROUP_PARTICIPANTS_UPDATE",
]  # fmt: skip
# Status posts of the tenant's other numbers reach an instance only with readStatus on (rich-actions §12.6).
INSTANCE_SETTINGS = {"readStatus": True}


@dataclass(frozen=True)
class InstanceView:
    id: uuid.UUID
    label: str
    session_id: str
    wa_number: str | None
    status: str
    persona_id: uuid.UUID | None
    persona_name: str | None
    messages_today: int
    messages_7d: int
    last_seen: datetime | None
    disconnect_reason: str | None
    paused_reason: str | None
    failure_streak: int
    paired_at: datetime | None
    qr_code: str | None
    active_days: int = 0
    reply_latency_s: float | None = None  # average over the last 7 days
    server_id: uuid.UUID | None = None
    server_name: str | None = None
    server_health: str | None = None  # the Evolution server's, e.g. "unreachable" (not a WhatsApp disconnect)
    warm_day: int = 1  # the warm-up day it is on now (logic.warmup.day_today, as the send caps read it)
    warmed_up: bool = False
    # Sent and received as every total counts them (services.metrics.number_activity); messages_* are their sums.
    activity: metrics.Activity = field(default_factory=metrics.Activity)
    reputation_score: float | None = None  # logic.reputation; None until first computed
    reputation_band: str | None = None
    reputation_cooldown_until: datetime | None = None


@dataclass(frozen=True)
class QrView:
    id: uuid.UUID
    session_id: str
    status: str
    qr_code: str | None  # PNG data URL; None once connected


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    if not 1 <= len(label) <= 120:
        raise ValidationFailed("instances.label_required", field="label")
    return label


# Every instance name Mirage makes, and only those: the reconciliation job deletes orphans matching it.
INSTANCE_NAME = re.compile(r"mrg-[a-z0-9-]{1,24}-[0-9a-f]{8}")


def instance_name(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:24] or "number"
    return f"mrg-{slug}-{secrets.token_hex(4)}"


def _check_persona(s, persona_id: uuid.UUID | None) -> None:
    if persona_id is not None and s.get(Persona, persona_id) is None:
        raise NotFound("personas.not_found", field="persona_id")


def get_number(
    s, number_id: uuid.UUID | str, *, archived_ok: bool = False, lock: bool = False, field: str | None = None
) -> Number:
    """The tenant's number; an archived one only where its history is read (`archived_ok`). `lock`: the row is
    locked until the transaction ends (FOR UPDATE); `field`: the form field the errors name."""
    try:
        number = s.get(Number, uuid.UUID(str(number_id)), with_for_update=lock)
    except ValueError:
        number = None
    if number is None:  # another tenant's id looks exactly like a missing one (RLS)
        raise NotFound("instances.not_found", field=field)
    if number.archived_at is not None and not archived_ok:
        raise Conflict("instances.archived", field=field)
    return number


def _place(s, only: uuid.UUID | None = None, exclude: uuid.UUID | None = None) -> uuid.UUID:
    """The server a number goes to: `only` if it is eligible, else the least loaded eligible one with room (the
    tenant's own servers first). Atomic with the caller's INSERT: the function holds the placement lock until the
    transaction ends, so concurrent creations never overfill a server."""
    server_id = s.execute(
        text("SELECT mirage_evolution_place(:only, :exclude)"), {"only": only, "exclude": exclude}
    ).scalar()
    if server_id is None:
        if only is not None:
            raise Conflict("servers.unavailable", field="server_id")
        raise Conflict("servers.pool_full")
    return server_id


def _server_uuid(server_id: uuid.UUID | str | None) -> uuid.UUID | None:
    if not server_id:
        return None
    try:
        return uuid.UUID(str(server_id))
    except ValueError as exc:
        raise NotFound("servers.not_found", field="server_id") from exc


def webhook_url() -> str:
    return get_settings().public_url.rstrip("/") + "/api/webhooks/evolution"


def webhook_headers(secret: str) -> dict[str, str]:
    return {SECRET_HEADER: secret, "Content-Type": "application/json"}


def _register_at(client, name: str, secret: str, token: str):
    """Create the Evolution instance with Mirage's webhook on it."""
    return client.create_instance(
        name,
        token=token,
        qrcode=True,
        webhook_url=webhook_url(),
        webhook_headers=webhook_headers(secret),
        webhook_events=WEBHOOK_EVENTS,
        settings=INSTANCE_SETTINGS,
    )


def create_instance(
    actor: Actor, label: str, persona_id: uuid.UUID | str | None = None, server_id: uuid.UUID | str | None = None
) -> QrView:
    """Place a new number on a server (reserving its slot), create its Evolution instance there, then complete the
    row. The row is written first, "creating…", so an instance Evolution makes is never without it (module doc)."""
    authorize(actor, Action.numbers_manage)
    label = _clean_label(label)
    persona_uuid = uuid.UUID(str(persona_id)) if persona_id else None
    wanted = _server_uuid(server_id)
    name, secret, token = instance_name(label), new_token(), new_token(24)
    with tenant_session(actor.tenant_id) as s:
        _check_persona(s, persona_uuid)
        plan_limits.ensure_room(s, "numbers")
        placed_on = _place(s, only=wanted)
        number = Number(
            tenant_id=actor.tenant_id,
            session_id=name,
            label=label,
            persona_id=persona_uuid,
            status=NumberStatus.connecting,
            server_id=placed_on,
            creating_since=system_clock.now(),
        )
        s.add(number)
        s.flush()
        # The token is ours (Evolution keeps the one it is given): stored now, a reconciled number needs nothing more.
        s.add(
            EvolutionSession(
                tenant_id=actor.tenant_id,
                number_id=number.id,
                webhook_secret_hash=hash_token(secret),
                token_enc=encrypt(token),
            )
        )
        s.commit()
        number_id = number.id
    client = client_for(actor.tenant_id, placed_on)
    try:
        created = _register_at(client, name, secret, token)
    except EvolutionError as exc:
        if not maybe_created(exc):
            _forget_reserved(actor.tenant_id, number_id)
            raise as_failure(exc) from exc
        status = 504 if isinstance(exc, EvolutionTimeout) else 502
        raise EvolutionFailure("instances.creation_unconfirmed", status=status, detail=str(exc)[:200]) from exc
    except BaseException:
        _forget_reserved(actor.tenant_id, number_id)
        raise
    qr = created.qr.base64 if created.qr else None
    try:
        with tenant_session(actor.tenant_id) as s:
            number = get_number(s, number_id)
            number.creating_since = None
            if created.status == "open":
                number.status = NumberStatus.connected
            session = s.exec(select(EvolutionSession).where(EvolutionSession.number_id == number.id)).one()
            session.token_enc = encrypt(created.token)
            session.last_qr, session.last_qr_at = qr, system_clock.now() if qr else None
            s.add_all([number, session])
            after = {"label": label, "session": name, "server_id": str(placed_on)}
            audit.record(s, actor, "instance.create", "number", number.id, after=after)
            s.commit()
            view = QrView(number.id, name, number.status.value, qr)
    except Exception:
        with contextlib.suppress(EvolutionError):
            client.delete(name)  # compensate: no Evolution instance without its Mirage row
        _forget_reserved(actor.tenant_id, number_id)
        raise
    directory.forget(name)
    return view


def maybe_created(exc: EvolutionError) -> bool:
    """Whether a failed create may still have made the instance: not when the request never left (unreachable) or
    Evolution refused it (4xx, an unlicensed server); after a timeout, a dropped connection or a 5xx it may have."""
    if isinstance(exc, EvolutionUnavailable) or exc.reason == "license_required":
        return False
    return exc.status is None or exc.status >= 500 or exc.status < 400


def _forget_reserved(tenant_id: uuid.UUID, number_id: uuid.UUID) -> None:
    with tenant_session(tenant_id) as s:
        s.execute(text("DELETE FROM numbers WHERE id = :id"), {"id": number_id})
        s.commit()


def get_qr(actor: Actor, number_id: uuid.UUID | str) -> QrView:
    """A fresh QR while the number is not connected (asking Evolution, which rotates codes). It (re)starts a
    connection attempt, so only those who manage numbers may ask."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        session = s.exec(select(EvolutionSession).where(EvolutionSession.number_id == number.id)).one()
        if number.status == NumberStatus.connected:
            return QrView(number.id, number.session_id, number.status.value, None)
        name, server = number.session_id, number.server_id
    try:
        result = client_for(actor.tenant_id, server).connect(name)
    except EvolutionError as exc:
        raise as_failure(exc) from exc
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        session = s.exec(select(EvolutionSession).where(EvolutionSession.number_id == number.id)).one()
        if isinstance(result, InstanceState):
            if result.state == "open" and number.status != NumberStatus.paused:
                number.status = NumberStatus.connected
            qr = None
        else:
            qr = result.base64 or session.last_qr
            session.last_qr, session.last_qr_at = qr, system_clock.now()
            if number.status in (NumberStatus.disconnected, NumberStatus.error):
                number.status = NumberStatus.connecting
            s.add(session)
        s.add(number)
        s.commit()
        return QrView(number.id, number.session_id, number.status.value, qr)


def reconnect(actor: Actor, number_id: uuid.UUID | str, server_id: uuid.UUID | str | None = None) -> QrView:
    """Pair an existing number again (after logout or ban review) without losing its history. If its server is
    draining, disabled or down, or another server is asked for, the number moves: its instance is made on the new
    server and the same row (history, persona, conversations) points there."""
    authorize(actor, Action.numbers_manage)
    wanted = _server_uuid(server_id)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        server = s.execute(
            text("SELECT state, health FROM evolution_servers WHERE id = :id"), {"id": number.server_id}
        ).first()
        server_gone = server is None or server.state != "active" or server.health in HELD_HEALTH
        # A number still connected where it is stays there unless another server is asked for explicitly.
        must_move = (wanted is not None and wanted != number.server_id) or (
            server_gone and number.status != NumberStatus.connected
        )
        before = number.status.value
        if number.status != NumberStatus.connected:
            number.status = NumberStatus.connecting
            number.disconnect_reason = None
            number.paused_reason = None
        s.add(number)
        audit.record(s, actor, "instance.reconnect", "number", number.id, before={"status": before})
        s.commit()
    if must_move:
        _move(actor, number_id, wanted)
    return get_qr(actor, number_id)


def _move(actor: Actor, number_id: uuid.UUID | str, wanted: uuid.UUID | None) -> None:
    """Re-pair a number on another server (same instance name, new webhook secret and token)."""
    secret, token = new_token(), new_token(24)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        old_server, name = number.server_id, number.session_id
        new_server = _place(s, only=wanted, exclude=None if wanted else old_server)
        if new_server == old_server:
            return
        number.server_id = new_server
        number.status = NumberStatus.connecting
        s.add(number)
        s.commit()  # the slot is ours; the placement lock is released
    new_client = client_for(actor.tenant_id, new_server)
    try:
        created = _register_at(new_client, name, secret, token)
    except EvolutionError as exc:
        with tenant_session(actor.tenant_id) as s:
            s.execute(text("UPDATE numbers SET server_id = :old WHERE id = :id"), {"old": old_server, "id": number_id})
            s.commit()
        raise as_failure(exc) from exc
    with contextlib.suppress(EvolutionError, EvolutionFailure):
        client_for(actor.tenant_id, old_server).delete(name)  # best effort: the old server may be down for good
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        session = s.exec(select(EvolutionSession).where(EvolutionSession.number_id == number.id)).one()
        session.token_enc = encrypt(created.token)
        session.webhook_secret_hash = hash_token(secret)
        qr = created.qr.base64 if created.qr else None
        session.last_qr, session.last_qr_at = qr, system_clock.now() if qr else None
        s.add(session)
        audit.record(
            s, actor, "instance.move", "number", number.id,
            before={"server_id": str(old_server) if old_server else None}, after={"server_id": str(new_server)},
        )  # fmt: skip
        s.commit()
    directory.forget(name)


def stop(actor: Actor, number_id: uuid.UUID | str) -> QrView:
    """Log the number out at Evolution; the row (and its history) stays for a later reconnect."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        name, server = number.session_id, number.server_id
    try:
        client_for(actor.tenant_id, server).logout(name)
    except EvolutionError as exc:
        if exc.status != 400:  # 400 = "not connected": already where we want it
            raise as_failure(exc) from exc
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        before = number.status.value
        number.status = NumberStatus.disconnected
        number.disconnect_reason = STOPPED
        s.add(number)
        audit.record(s, actor, "instance.stop", "number", number.id, before={"status": before})
        s.commit()
        return QrView(number.id, number.session_id, number.status.value, None)


def update_instance(
    actor: Actor, number_id: uuid.UUID | str, *, label: str | None = None, persona_id: str | None = ""
) -> None:
    """Rename and/or assign a persona (`persona_id=None` clears it; "" leaves it unchanged)."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        before = {"label": number.label, "persona_id": str(number.persona_id) if number.persona_id else None}
        if label is not None:
            number.label = _clean_label(label)
        if persona_id != "":
            persona_uuid = uuid.UUID(str(persona_id)) if persona_id else None
            _check_persona(s, persona_uuid)
            number.persona_id = persona_uuid
        number.updated_at = system_clock.now()
        s.add(number)
        after = {"label": number.label, "persona_id": str(number.persona_id) if number.persona_id else None}
        audit.record(s, actor, "instance.update", "number", number.id, before=before, after=after)
        s.commit()


def simulate_scan(actor: Actor, number_id: uuid.UUID | str) -> None:
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        base_url = s.execute(
            text("SELECT base_url FROM evolution_servers WHERE id = :id"), {"id": number.server_id}
        ).scalar()
    simulator_scan(base_url or get_settings().evolution_url or "", number.session_id)


@dataclass(frozen=True)
class InstanceList:
    instances: list[InstanceView]
    # Every number's activity added up, archived and removed ones included: the overview's totals, equal to
    # /metrics' (what `metrics.tenant_activity` answers, from the same single read).
    totals: metrics.Activity


def list_instances(actor: Actor, clock: Clock = system_clock) -> list[InstanceView]:
    return list_instances_with_totals(actor, clock).instances


def list_instances_with_totals(actor: Actor, clock: Clock = system_clock) -> InstanceList:
    """The live numbers with their activity and warm-up day, and the tenant's totals. A read: the warm-up counters
    are kept by the send pipeline (and by whatever writes history behind it, e.g. the demo data)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        tz_name = s.get(Tenant, actor.tenant_id).timezone
        now = clock.now()
        local_now = now.astimezone(ZoneInfo(tz_name))
        day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        policy = number_activity.policy_of(s)
        rows = s.execute(
            text(
                f"""
                SELECT n.id, n.label, n.session_id, n.wa_number, n.persona_id,
                       CASE WHEN n.creating_since IS NULL THEN n.status::text ELSE 'creating' END AS status,
                       p.name AS persona_name, n.last_seen_at, n.disconnect_reason, n.paused_reason,
                       n.failure_streak, n.paired_at, se.last_qr, n.active_days,
                       n.server_id, es.name AS server_name, es.health AS server_health,
                       n.reputation_score, n.reputation_band, n.reputation_cooldown_until,
                       -- as the send caps count them (engine.send_context COUNTS)
                       (SELECT count(*) FROM messages m WHERE m.from_number_id = n.id
                          AND m.sent_at >= :today AND m.sent_at <= :now AND {counted_sends("m")}) AS sent_today,
                       (SELECT max(m.sent_at) FROM messages m WHERE m.from_number_id = n.id AND m.direction = 'out'
                          AND m.sent_at < :today AND m.status <> 'failed') AS last_before_today
                FROM numbers n
                LEFT JOIN personas p ON p.id = n.persona_id
                LEFT JOIN sessions se ON se.number_id = n.id
                LEFT JOIN evolution_servers es ON es.id = n.server_id
                WHERE n.archived_at IS NULL
                ORDER BY n.created_at
                """
            ),
            {"today": day_start, "now": now},
        ).all()
        every = metrics.number_activity(s, ZoneInfo(tz_name), now)
        latency = metrics.number_latency(s, ZoneInfo(tz_name), now)
    activity = {r.id: every.get(r.id, metrics.Activity()) for r in rows}
    days = {r.id: warmup.day_today(policy, r.active_days, r.sent_today > 0, r.last_before_today, now) for r in rows}
    views = [
        InstanceView(
            r.id,
            r.label,
            r.session_id,
            r.wa_number,
            r.status,
            r.persona_id,
            r.persona_name,
            activity[r.id].today,
            activity[r.id].week,
            r.last_seen_at,
            r.disconnect_reason,
            r.paused_reason,
            r.failure_streak,
            r.paired_at,
            r.last_qr if r.status != "connected" else None,
            r.active_days,
            round(latency[r.id], 1) if r.id in latency else None,
            r.server_id,
            r.server_name,
            r.server_health,
            days[r.id],
            warmup.warmed_up(days[r.id], policy),
            activity[r.id],
            r.reputation_score,
            r.reputation_band,
            r.reputation_cooldown_until,
        )
        for r in rows
    ]
    return InstanceList(views, sum(every.values(), metrics.Activity()))


def recent_messages(actor: Actor, number_id: uuid.UUID | str, limit: int = 100) -> list[MessageItem]:
    """A number's newest messages, sent and received, with what each shows (services.message_history)."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id, archived_ok=True)
        return load_items(s, NUMBER_SCOPE, number.id, min(max(limit, 1), 100))


@dataclass(frozen=True)
class ArchivedView:
    id: uuid.UUID
    label: str
    wa_number: str | None
    archived_at: datetime
    messages: int


def list_archived(actor: Actor) -> list[ArchivedView]:
    """Numbers deleted after they had history: kept for that history, shown apart from the live list."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            text(
                f"SELECT n.id, n.label, n.wa_number, n.archived_at, {NUMBER_MESSAGES} AS messages "
                "FROM numbers n WHERE n.archived_at IS NOT NULL ORDER BY n.archived_at DESC"
            )
        ).all()
    return [ArchivedView(r.id, r.label, r.wa_number, r.archived_at, r.messages) for r in rows]


def persona_choices(actor: Actor) -> list[tuple[str, str]]:
    """(id, name) of the tenant's personas, for the persona pickers."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return [(str(p.id), p.name) for p in s.exec(select(Persona).order_by(Persona.name))]
