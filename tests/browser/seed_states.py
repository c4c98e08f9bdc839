"""Data in every state, written into a running app's database (for the every-page sweep).

Run as `python -m tests.browser.seed_states` with the app's runtime environment (runtime.json: DATABASE_URL,
REDIS_URL, EVOLUTION_URL…) and its MIRAGE_SECRET_KEY: it acts as the tenant's admin through the app's own
services (after the demo, which the sweep loads with the /metrics button), and forces with SQL only the states no
command reaches on demand (a message's ack, a round's state, a target's outcome, a server's probe result), as the
demo loader does. Prints one JSON line: the ids the sweep opens.

Every enum value of the models, every persona trait option, every consent basis and every round phase ends up on
some page, so the sweep sees how each one is written.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import timedelta

from sqlalchemy import text

from mirage_app.base.permissions import Actor
from mirage_app.core.clock import system_clock
from mirage_app.core.db import admin_engine, tenant_session
from mirage_app.logic.prompts import OUTREACH_PHASES, PHASES
from mirage_app.models import (
    ConsentStatus,
    MessageStatus,
    NumberStatus,
    RoundState,
    TargetStatus,
    UserRole,
)
from mirage_app.models.servers import HELD_HEALTH, ServerHealth, ServerState
from mirage_app.services import api_keys, instances, personas, users
from mirage_app.services import contacts as contacts_service
from mirage_app.services import conversations as conv_service
from mirage_app.services.contacts.validation import CONSENT_BASES
from mirage_app.services.outreach import policies, targets

MEMBER_PASSWORD = "Seeded-Member-Password-2026!"
# Each persona shows one option of each trait; together they show all of them.
PERSONA_TRAITS = (
    ("Daniela Rocha", {"emoji_use": "none", "typical_length": "short"}),
    ("Eduardo Pires", {"emoji_use": "low", "typical_length": "medium"}),
    ("Fabiana Melo", {"emoji_use": "medium", "typical_length": "long"}),
    ("Gilberto Sá", {"emoji_use": "high", "typical_length": "short"}),
)


def admin_actor(email: str) -> Actor:
    """The user with this email as the services see them once signed in with two-factor (for seeding as them)."""
    with admin_engine().connect() as c:
        row = c.execute(text("SELECT id, tenant_id, role FROM users WHERE email = :e"), {"e": email}).one()
    return Actor(tenant_id=row.tenant_id, role=UserRole(row.role), label=email, user_id=row.id, mfa_enabled=True)


def _sql(actor: Actor, sql: str, **params) -> None:
    with tenant_session(actor.tenant_id) as s:
        s.execute(text(sql), params)
        s.commit()


def _personas(actor: Actor) -> list[uuid.UUID]:
    ids = []
    for name, traits in PERSONA_TRAITS:
        view = personas.create_persona(
            actor, name=name, style="Conversa leve sobre o dia a dia.", traits={"age": 33, **traits}
        )
        ids.append(view.id)
    return ids


def _numbers(actor: Actor, persona_ids: list[uuid.UUID]) -> dict[str, uuid.UUID]:
    """One number in each status: connected ones through a simulated scan, then the others moved by hand."""
    numbers = {}
    for i, status in enumerate(NumberStatus):
        view = instances.create_instance(actor, f"Estado {i + 1}", persona_ids[i % len(persona_ids)])
        numbers[status.value] = view.id
        if status is NumberStatus.connecting:
            continue  # a QR code shown and never scanned
        instances.simulate_scan(actor, view.id)
        if status is NumberStatus.disconnected:
            instances.stop(actor, view.id)
        elif status is not NumberStatus.connected:
            _sql(
                actor,
                "UPDATE numbers SET status = CAST(:s AS number_status) WHERE id = :id",
                s=status.value,
                id=view.id,
            )
    return numbers


def _conversations(actor: Actor, numbers: dict[str, uuid.UUID]) -> dict[str, uuid.UUID]:
    """A conversation in each mode, all inactive (the engine leaves them alone); the pair one has rounds in every
    state and messages in every status and phase."""
    ids = {}
    connected = numbers[NumberStatus.connected.value]
    others = [numbers[NumberStatus.paused.value], numbers[NumberStatus.disconnected.value]]
    for mode in ("pair", "round_robin", "random"):
        view = conv_service.create_conversation(actor, f"Conversa {len(ids) + 1}", mode)
        ids[mode] = view.id
        conv_service.create_topic(actor, view.id, "o jogo de domingo")
        conv_service.create_topic(
            actor, view.id, "receitas de bolo", active_from=system_clock.now() + timedelta(days=3)
        )
        for number_id in [connected, *others][: 2 if mode == "pair" else 3]:
            conv_service.add_participant(actor, view.id, number_id=number_id)
    _rounds_and_messages(actor, ids["pair"], connected, others[0])
    return ids


def _rounds_and_messages(actor: Actor, conversation_id: uuid.UUID, a: uuid.UUID, b: uuid.UUID) -> None:
    now = system_clock.now()
    with tenant_session(actor.tenant_id) as s:
        topic_id = s.execute(
            text("SELECT id FROM topics WHERE conversation_id = :c LIMIT 1"), {"c": conversation_id}
        ).scalar()
        for i, state in enumerate(RoundState):
            round_id = uuid.uuid4()
            started = now - timedelta(minutes=30 * (len(RoundState) - i))
            ended = started + timedelta(minutes=10) if state in (RoundState.done, RoundState.aborted) else None
            s.execute(
                text(
                    "INSERT INTO rounds (id, tenant_id, conversation_id, topic_id, planned_turns, turns_done, state, "
                    "window_key, started_at, ended_at, created_at) VALUES (:id, :t, :c, :topic, 4, 1, "
                    "CAST(:state AS round_state), :wk, :at, :ended, :created)"
                ),
                {
                    "id": round_id,
                    "t": actor.tenant_id,
                    "c": conversation_id,
                    "topic": topic_id,
                    "state": state.value,
                    "wk": f"seed-{i}",
                    "at": started if state is not RoundState.planned else None,
                    "ended": ended,
                    "created": started,
                },
            )
            if state is not RoundState.running:
                continue
            phases = [*PHASES, *OUTREACH_PHASES]
            for j, status in enumerate(MessageStatus):
                at = started + timedelta(minutes=j)
                queued = status is MessageStatus.queued
                s.execute(
                    text(
                        "INSERT INTO messages (tenant_id, conversation_id, round_id, from_number_id, to_number_id, "
                        "wa_msg_id, direction, body, meta, status, created_at, sent_at, send_after) VALUES (:t, :c, "
                        ":r, :a, :b, :wa, 'out', :body, CAST(:meta AS jsonb), CAST(:status AS message_status), :at, "
                        ":sent, :after)"
                    ),
                    {
                        "t": actor.tenant_id,
                        "c": conversation_id,
                        "r": round_id,
                        "a": a if j % 2 == 0 else b,
                        "b": b if j % 2 == 0 else a,
                        "wa": None if queued else f"SEED{uuid.uuid4().hex[:16].upper()}",
                        "body": f"Mensagem {j + 1} sobre o jogo",
                        "meta": json.dumps({"origin": "seed", "phase": phases[j % len(phases)]}),
                        "status": status.value,
                        "at": at,
                        "sent": None if queued else at,
                        "after": now + timedelta(minutes=20) if queued else None,
                    },
                )
        s.commit()


def _contacts(actor: Actor) -> dict[str, uuid.UUID]:
    """Contacts in each consent state, the granted ones under each legal basis."""
    ids = {}
    for i, basis in enumerate(CONSENT_BASES):
        view = contacts_service.create_contact(
            actor,
            f"+55119870010{i:02d}",
            f"Contato {basis[:4]} {i}",
            tags="semente",
            consent_status=ConsentStatus.granted.value,
            consent_basis=basis,
            consent_source="formulário do site",
        )
        ids[f"granted-{basis}"] = view.id
    ids["unknown"] = contacts_service.create_contact(actor, "+5511987001090", "Contato sem resposta").id
    revoked = contacts_service.create_contact(
        actor,
        "+5511987001091",
        "Contato que saiu",
        consent_status="granted",
        consent_basis="consent",
        consent_source="evento",
    )
    contacts_service.revoke_consent(actor, revoked.id)
    ids["revoked"] = revoked.id
    return ids


def _policies_and_targets(
    actor: Actor, numbers: dict[str, uuid.UUID], persona_ids: list[uuid.UUID], contact_ids: dict[str, uuid.UUID]
) -> None:
    """An active policy on every daypart and weekday, an inactive one with none chosen; targets in every status."""
    active = policies.create_policy(
        actor,
        number_id=numbers[NumberStatus.connected.value],
        persona_id=persona_ids[0],
        dayparts=["morning", "afternoon", "evening"],
        allow_days=["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        optout_keywords=["SAIR", "PARAR"],
        active=True,
    )
    policies.create_policy(actor, number_id=numbers[NumberStatus.paused.value], dayparts=["morning"], active=False)
    granted = [cid for key, cid in contact_ids.items() if key.startswith("granted")]
    targets.add_targets(actor, active.id, granted, priority=1)
    extra = [
        contacts_service.create_contact(
            actor,
            f"+55119870020{i:02d}",
            f"Alvo {i}",
            consent_status="granted",
            consent_basis="consent",
            consent_source="feira",
        ).id
        for i in range(len(TargetStatus))
    ]
    targets.add_targets(actor, active.id, extra)
    for contact_id, status in zip(extra, TargetStatus, strict=True):
        _sql(
            actor,
            "UPDATE outreach_targets SET status = CAST(:s AS target_status), last_error = :err WHERE contact_id = :c",
            s=status.value,
            err="sem resposta do servidor" if status is TargetStatus.failed else None,
            c=contact_id,
        )


def _people(actor: Actor) -> None:
    """A user of each role besides the admin, a pending invitation and an API key."""
    for role, name in ((UserRole.operator, "Renata"), (UserRole.viewer, "Otávio")):
        invitation = users.invite(actor, f"{name.lower().replace('á', 'a')}@mirage.local", role)
        users.accept_invitation(invitation.token, MEMBER_PASSWORD, "pt-BR", f"{name} Semente")
    users.invite(actor, "convidado.semente@mirage.local", UserRole.viewer)
    api_keys.create_key(actor, "integração CRM")


def _servers(actor: Actor) -> None:
    """The tenant's own servers in every operator state and every probe result (no numbers on them; only a held
    one is active, so nothing new is placed there)."""
    held = {h.value for h in HELD_HEALTH}
    parked = [ServerState.draining.value, ServerState.disabled.value]
    with tenant_session(actor.tenant_id) as s:
        for i, health in enumerate(ServerHealth):
            s.execute(
                text(
                    "INSERT INTO evolution_servers (id, tenant_id, name, base_url, capacity, state, health, "
                    "created_at) VALUES (:id, :t, :name, :url, 10, :state, :health, now())"
                ),
                {
                    "id": uuid.uuid4(),
                    "t": actor.tenant_id,
                    "name": f"servidor-{i + 1}",
                    "url": f"http://10.0.0.{i + 1}:8080",
                    "state": ServerState.active.value if health.value in held else parked[i % 2],
                    "health": health.value,
                },
            )
        s.commit()


def main(admin_email: str) -> dict:
    actor = admin_actor(admin_email)
    persona_ids = _personas(actor)
    numbers = _numbers(actor, persona_ids)
    conversations = _conversations(actor, numbers)
    contact_ids = _contacts(actor)
    _policies_and_targets(actor, numbers, persona_ids, contact_ids)
    _people(actor)
    _servers(actor)
    return {
        "conversations": {mode: str(cid) for mode, cid in conversations.items()},
        "numbers": {status: str(nid) for status, nid in numbers.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
