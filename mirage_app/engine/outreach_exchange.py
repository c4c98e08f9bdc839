"""The outreach exchange: what a number writes to a contact, round by round, and how it answers the contact.

Rounds: the opener (written by the tick, `outreach_scheduler`) is round 1; each reply from the contact earns one
more message until `max_rounds_per_contact`; the last one is a closing and the target is then `done`.

`handle_inbound_from_contact(tenant, message)` (the dispatcher, for a message from a contact): the opt-out check
(`optout`), then, if the contact has an exchange in progress with the number it wrote to, the next round
(follow-up, or closing on the last round) in the policy persona's voice, through the humanised send pipeline
(read receipt, reading delay, typing). One reply per inbound message (send key `outreach-reply:<message id>`); a
contact's second message while our reply is still queued is answered by that same reply.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from mirage_app.core.db import tenant_session
from mirage_app.engine import send_outcomes
from mirage_app.engine.llm_client import DEFAULT_MODEL
from mirage_app.engine.optout import load_inbound, mark_message, optout_keywords, record_optout
from mirage_app.engine.outreach_sender import INSERT_OUTREACH_MESSAGE, load_sender
from mirage_app.engine.outreach_sends import OUTREACH
from mirage_app.engine.replies import Reply, llm_or_offline
from mirage_app.engine.runtime import runtime
from mirage_app.logic.dayparts import daypart_at, to_local
from mirage_app.logic.offline_generator import OfflineGenerator
from mirage_app.logic.optout import with_optout_hint
from mirage_app.logic.pacing import SendPlan, plan_send
from mirage_app.logic.prompts import (
    CLOSING,
    FOLLOW_UP,
    OPENER,
    ContactOptedOut,
    PersonaSpec,
    Turn,
    as_turns,
    build_outreach_messages,
)

NO_REPLY_AFTER = timedelta(hours=72)  # an exchange with no reply for this long is done
OUTREACH_TEMPERATURE = 0.7


def compose(
    persona: PersonaSpec,
    contact_name: str | None,
    phase: str,
    history: Iterable[object] | None,
    locale: str | None,
    keywords: Iterable[str],
    daypart: str | None,
    *,
    seed: str,
    llm: Any | None,
) -> Reply:
    """An outreach message in the persona's voice: the LLM when configured (falling back to the offline
    generator on failure, empty or repeated text), else the offline generator. Openers always end with how to
    opt out. Raises prompts.ContactOptedOut when the history holds an opt-out."""
    turns = as_turns(history)
    keywords = tuple(keywords)
    return llm_or_offline(
        llm,
        lambda: build_outreach_messages(persona, contact_name, phase, turns, locale, keywords),
        DEFAULT_MODEL,
        OUTREACH_TEMPERATURE,
        turns,
        persona.name,
        lambda: OfflineGenerator(random.Random(seed)).generate_outreach(
            persona, contact_name, phase, turns, locale, daypart, keywords
        ),
        **({"finish": lambda text: with_optout_hint(text, locale)} if phase == OPENER else {}),
    )


def phase_for(round_no: int, max_rounds: int) -> str:
    """Opener, follow-up or closing: what round `round_no` of an exchange of `max_rounds` is."""
    if round_no <= 1:
        return OPENER
    return CLOSING if round_no >= max_rounds else FOLLOW_UP


def outreach_meta(
    *, kind: str, policy_id: uuid.UUID, target_id: uuid.UUID, round_no: int, daypart: str | None,
    plan: SendPlan, reply: Reply,
) -> dict[str, Any]:  # fmt: skip
    """The meta of an outreach message: the send guard finds its policy and target (and round) there."""
    return {
        "app_origin": OUTREACH,
        "kind": kind,
        "phase": kind,
        "outreach_policy_id": str(policy_id),
        "outreach_target_id": str(target_id),
        "round": round_no,
        "daypart": daypart,
        "plan": {"read_ms": plan.read_delay_ms, "typing_ms": plan.typing_ms, "gap_s": round(plan.gap_s, 1)},
        "llm": reply.meta(),
    }


def exchange_history(s, target_id: uuid.UUID, number_id: uuid.UUID, contact_id: uuid.UUID, limit: int = 12):
    """This exchange's messages (since its latest opener) between the number and the contact, oldest first."""
    rows = s.execute(
        text(
            """
            SELECT body, direction::text AS direction FROM messages
            WHERE contact_id = :c AND (from_number_id = :n OR to_number_id = :n) AND body <> ''
              AND status <> 'failed' AND created_at >= COALESCE((
                  SELECT max(created_at) FROM messages WHERE outreach_target_id = CAST(:t AS uuid)
                    AND meta->>'kind' = 'opener'), '-infinity')
            ORDER BY created_at DESC LIMIT :lim
            """
        ),
        {"c": contact_id, "n": number_id, "t": str(target_id), "lim": limit},
    ).all()
    return [Turn(r.body, r.direction == "out") for r in reversed(rows)]


# -- inbound: opt-out, then the next round ----------------------------------------------------------------------


GONE = "gone"
NOT_INBOUND = "not_inbound"
OPTOUT = "optout"
NO_EXCHANGE = "no_exchange"
REPLY_QUEUED = "reply_queued"
ALREADY_ANSWERING = "already_answering"
EXCHANGE_DONE = "exchange_done"
POLICY_OFF = "policy_inactive"
NOT_CONTACTABLE = "not_contactable"
EXISTS = "exists"


@dataclass(frozen=True)
class InboundOutcome:
    state: str
    consumed: bool  # True: outreach handled this message (the conversation engine must not answer it)
    message_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """The contact's exchange in progress with the number it wrote to (EXCHANGE)."""

    target_id: uuid.UUID
    status: str
    rounds_done: int
    contact_id: uuid.UUID
    policy_id: uuid.UUID
    active: bool
    number_id: uuid.UUID
    persona_id: uuid.UUID | None
    max_rounds_per_contact: int
    display_name: str | None
    consent: str
    opted_out_at: datetime | None
    suppressed: bool
    answering: bool  # our reply to an earlier message of theirs is still queued


_EXCHANGE_COLUMNS = tuple(f.name for f in fields(Exchange))


EXCHANGE = text(
    """
    SELECT t.id AS target_id, t.status::text AS status, t.rounds_done, t.contact_id, p.id AS policy_id, p.active,
           p.number_id, p.persona_id, p.max_rounds_per_contact, c.display_name, c.consent_status::text AS consent,
           c.opted_out_at, EXISTS (SELECT 1 FROM suppression su WHERE su.wa_number = c.wa_number) AS suppressed,
           EXISTS (SELECT 1 FROM messages m WHERE m.outreach_target_id = t.id AND m.status = 'queued') AS answering
    FROM outreach_targets t
    JOIN outreach_policies p ON p.id = t.policy_id
    JOIN contacts c ON c.id = t.contact_id
    WHERE t.contact_id = :c AND p.number_id = :n AND t.status = 'in_progress'
    ORDER BY t.last_contact_at DESC NULLS LAST
    LIMIT 1
    """
)


def handle_inbound_from_contact(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> InboundOutcome:
    """The follow-up of an inbound contact message (see the module docstring). `consumed` False means outreach
    has nothing to do with it and the conversation engine may look at it."""
    rt = runtime()
    tenant, mid = uuid.UUID(str(tenant_id)), uuid.UUID(str(message_id))
    with tenant_session(tenant) as s:
        msg = load_inbound(s, mid)
        if msg is None:
            return InboundOutcome(GONE, False)
        if msg.direction != "in" or msg.to_number_id is None:
            return InboundOutcome(NOT_INBOUND, False)
        optout = record_optout(s, rt, tenant, msg)
        if optout is not None:
            mark_message(s, mid, outreach_handled=OPTOUT)
            s.commit()
            if optout.confirmation_id is not None:
                send_outcomes.schedule(rt, tenant, optout.confirmation_id, None)
            return InboundOutcome(OPTOUT, True, optout.confirmation_id)
        contact_id = msg.contact_id
        row = s.execute(EXCHANGE, {"c": contact_id, "n": msg.to_number_id}).first() if contact_id else None
        if row is None:
            mark_message(s, mid, outreach_handled=NO_EXCHANGE)
            s.commit()
            return InboundOutcome(NO_EXCHANGE, False)
        ex = Exchange(**{name: getattr(row, name) for name in _EXCHANGE_COLUMNS})
        now = rt.clock.now()
        s.execute(
            text("UPDATE outreach_targets SET last_contact_at = :now, updated_at = :now WHERE id = :t"),
            {"now": now, "t": ex.target_id},
        )
        state = None
        if not ex.active:
            state = POLICY_OFF
        elif ex.suppressed or ex.opted_out_at is not None or ex.consent != "granted":
            state = NOT_CONTACTABLE
        elif ex.rounds_done >= ex.max_rounds_per_contact:
            s.execute(
                text("UPDATE outreach_targets SET status = 'done', updated_at = :now WHERE id = :t"),
                {"now": now, "t": ex.target_id},
            )
            state = EXCHANGE_DONE
        elif ex.answering:
            state = ALREADY_ANSWERING
        if state is not None:
            mark_message(s, mid, outreach_handled=state)
            s.commit()
            return InboundOutcome(state, True)
        round_no = ex.rounds_done + 1
        phase = phase_for(round_no, ex.max_rounds_per_contact)
        sender = load_sender(s, ex.number_id, ex.persona_id)
        history = exchange_history(s, ex.target_id, ex.number_id, ex.contact_id, rt.settings.history_limit)
        if not history or history[-1].text != (msg.body or "") or history[-1].from_self:
            history.append(Turn(msg.body or "", False))
        keywords = optout_keywords(s)
        s.commit()
    locale = sender.locale
    daypart = daypart_at(to_local(now, sender.timezone).time())
    try:
        reply = compose(
            sender.persona, ex.display_name, phase, history, locale, keywords, daypart,
            seed=f"{ex.target_id}|{round_no}|{mid}", llm=rt.llm_client(),
        )  # fmt: skip
    except ContactOptedOut:
        return InboundOutcome(OPTOUT, True)
    settings = sender.settings
    plan = plan_send(reply.text, random.Random(f"{mid}|plan"), settings.humanize_config, humanize=settings.humanize,
                     incoming=msg.body)  # fmt: skip
    meta = outreach_meta(kind=phase, policy_id=ex.policy_id, target_id=ex.target_id, round_no=round_no,
                         daypart=daypart, plan=plan, reply=reply)  # fmt: skip
    meta["send_key"] = f"outreach-reply:{mid}"
    meta["reply_to"] = {"message_id": str(mid), "wa_msg_id": msg.wa_msg_id}
    send_after = now + timedelta(seconds=plan.gap_s)
    meta["reply_latency_s"] = round((send_after - msg.created_at).total_seconds(), 1) if msg.created_at else None
    with tenant_session(tenant) as s:
        target = s.execute(
            text("SELECT status::text AS status, rounds_done FROM outreach_targets WHERE id = :t FOR UPDATE"),
            {"t": ex.target_id},
        ).first()
        if target is None or target.status != "in_progress" or target.rounds_done != ex.rounds_done:
            mark_message(s, mid, outreach_handled=EXISTS)
            s.commit()
            return InboundOutcome(EXISTS, True)
        new_id = s.execute(
            INSERT_OUTREACH_MESSAGE,
            {"t": tenant, "n": ex.number_id, "c": ex.contact_id, "body": reply.text, "meta": json.dumps(meta),
             "now": now, "send_after": send_after},
        ).scalar()  # fmt: skip
        if new_id is None:
            mark_message(s, mid, outreach_handled=EXISTS)
            s.commit()
            return InboundOutcome(EXISTS, True)
        s.execute(
            text(
                "UPDATE outreach_targets SET rounds_done = :r, last_contact_at = :now, updated_at = :now, "
                "status = CAST(:st AS target_status) WHERE id = :t"
            ),
            {"r": round_no, "now": now, "t": ex.target_id, "st": "done" if phase == CLOSING else "in_progress"},
        )
        mark_message(s, mid, outreach_handled=REPLY_QUEUED)
        s.commit()
    send_outcomes.schedule(rt, tenant, new_id, send_after)
    return InboundOutcome(REPLY_QUEUED, True, new_id)
