"""Turn-taking inside a round: A's turn goes out through Evolution, B answers when B's own inbound webhook says the
message arrived (`on_message`), and so on until the planned turns are done.

- `start_round(tenant, round)`: writes and sends turn 0 (the opener).
- `on_message(tenant, message)`: a message was received by one of our numbers. If it is the current turn of a
  running round and addressed to the next speaker, that speaker's reply is written and queued (idempotent: one
  row per `send_key` = "<round>:<turn>", however many times the webhook or a recovery triggers this).
- Anti-loop: a bot-to-bot message that belongs to no running round is never answered. The only exception is a
  message our own send pipeline has not finished recording yet (the recipient's webhook won the race): it is
  parked, and the sender's job re-triggers `on_message` once it has merged the two rows.
- guard_no_echo: a message whose text equals one of the receiver's own last bodies in this conversation is never
  answered (the round is aborted with `echo_guard`).
- Human participants: a round may pair a bot with a consenting contact; the contact's turns are not generated,
  their inbound message counts as the turn.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from mirage_app.core.db import app_engine, tenant_connection
from mirage_app.engine import replies, round_state, send_outcomes, sending, turn_actions
from mirage_app.engine.effective_settings import (
    CONVERSATION_SETTINGS,
    TENANT_SETTINGS,
    EffectiveSettings,
    settings_joins,
    settings_of,
)
from mirage_app.engine.runtime import EngineRuntime, runtime
from mirage_app.logic.actions import NEVER_A_TURN, Habits
from mirage_app.logic.optout import fold
from mirage_app.logic.pacing import plan_send
from mirage_app.logic.prompts import PersonaSpec, Turn, round_phases
from mirage_app.models.messaging import insert_once_per_send_key

log = logging.getLogger("mirage.rounds")

# on_message / start_round outcomes (returned by the jobs, handy in tests and logs)
QUEUED = "queued"
EXISTS = "exists"
GONE = "gone"
OUTSIDE_ROUND = "outside_round"
PENDING_MERGE = "pending_merge"
AWAIT_HUMAN = "await_human"
ECHO = "echo_guard"
NOT_ADDRESSED = "not_addressed"
ROUND_COMPLETE = "round_complete"


@dataclass(frozen=True)
class TurnResult:
    state: str
    message_id: uuid.UUID | None = None
    send: send_outcomes.SendOutcome | None = None


def send_key(round_id: uuid.UUID | str, turn: int) -> str:
    return f"{round_id}:{turn}"


def start_round(tenant_id: uuid.UUID | str, round_id: uuid.UUID | str) -> TurnResult:
    return create_turn(uuid.UUID(str(tenant_id)), uuid.UUID(str(round_id)), 0, None)


ROUND_CONTEXT = text(
    f"""
    SELECT r.id, r.state::text AS state, r.planned_turns, r.turns_done, r.participants, r.window_key, r.topic_id,
           r.conversation_id, cv.active AS conversation_active, cv.openai_model, cv.temperature,
           t.locale AS tenant_locale, tp.seed AS topic_seed, tp.system_prompt AS topic_prompt,
           {TENANT_SETTINGS}, {CONVERSATION_SETTINGS},
           (SELECT jsonb_build_object('id', m.id, 'status', m.status, 'send_after', m.send_after)
              FROM messages m WHERE m.send_key = :key) AS existing,
           (SELECT jsonb_build_object('id', n.id, 'label', n.label, 'name', p.name, 'style', p.style,
                                      'greeting_morning', p.greeting_morning,
                                      'greeting_afternoon', p.greeting_afternoon,
                                      'greeting_evening', p.greeting_evening, 'traits', p.traits,
                                      'locale', p.locale, 'habits', p.habits, 'active_days', n.active_days,
                                      'reputation_band', n.reputation_band)
              FROM numbers n LEFT JOIN personas p ON p.id = n.persona_id
              WHERE n.id = CAST(r.participants -> (CAST(:turn AS int) % GREATEST(jsonb_array_length(r.participants), 1))
                                ->> 'number_id' AS uuid)) AS persona,
           (SELECT jsonb_agg(jsonb_build_array(h.id, h.body, h.from_number_id))
              FROM (SELECT id, body, from_number_id FROM messages WHERE conversation_id = r.conversation_id
                      AND body <> '' AND status <> 'failed' AND kind NOT IN ('reaction', 'edit', 'status')
                    ORDER BY created_at DESC, (meta->>'turn')::int DESC NULLS LAST LIMIT :lim) h) AS history,
           (SELECT g.id FROM warming_groups g WHERE g.conversation_id = r.conversation_id) AS group_id
    FROM rounds r
    JOIN conversations cv ON cv.id = r.conversation_id
    JOIN tenants t ON t.id = r.tenant_id
    LEFT JOIN topics tp ON tp.id = r.topic_id
    {settings_joins("r.tenant_id", "r.conversation_id")}
    WHERE r.id = :r
    """
)

INSERT_TURN = text(
    insert_once_per_send_key(
        "tenant_id, conversation_id, round_id, from_number_id, to_number_id, contact_id, direction, body, meta, "
        "status, created_at, send_after, kind, media_id, ref_wa_msg_id, group_id, cap_weight",
        ":t, :c, :r, :from_id, :to_id, :contact_id, 'out', :body, CAST(:meta AS jsonb), 'queued', :now, :send_after, "
        "CAST(:kind AS message_kind), :media_id, :ref, :group, :weight",
        message_id=":id",
    )
)


@dataclass(frozen=True, slots=True)
class TurnContext:
    """A round as the writer of its next turn needs it (one ROUND_CONTEXT row)."""

    state: str
    planned_turns: int
    participants: list[dict]
    window_key: str | None
    conversation_id: uuid.UUID
    conversation_active: bool
    openai_model: str | None
    temperature: float | None
    tenant_locale: str | None
    topic_seed: str | None
    topic_prompt: str | None
    existing: dict[str, Any] | None  # the row of this turn's send key, if it was written already
    persona: dict[str, Any] | None  # the speaker's number and persona
    history: list[list[Any]] | None  # [id, body, from_number_id], newest first
    group_id: uuid.UUID | None  # the conversation's warming group (its messages go to the group)
    settings: EffectiveSettings

    @classmethod
    def of(cls, row: Any) -> TurnContext:
        return cls(**{name: getattr(row, name) for name in _TURN_COLUMNS}, settings=settings_of(row))


_TURN_COLUMNS = tuple(f.name for f in fields(TurnContext) if f.name != "settings")


@dataclass(frozen=True, slots=True)
class Received:
    """A message one of our numbers received, with its round (MESSAGE_IN_ROUND)."""

    id: uuid.UUID
    direction: str
    from_number_id: uuid.UUID | None
    to_number_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    body: str
    meta: dict[str, Any]
    round_id: uuid.UUID | None
    conversation_id: uuid.UUID | None
    status: str
    wa_msg_id: str | None
    created_at: datetime | None
    kind: str
    group_id: uuid.UUID | None
    author_wa: str | None
    round_state: str | None
    planned_turns: int | None
    participants: list[dict] | None
    guard_no_echo: bool
    own_bodies: list[str] | None

    @classmethod
    def of(cls, row: Any) -> Received:
        received = {name: getattr(row, name) for name in _RECEIVED_COLUMNS}
        received["meta"] = received["meta"] or {}
        return cls(**received)


_RECEIVED_COLUMNS = tuple(f.name for f in fields(Received))


def _speaker(participants: list[dict], turn: int) -> dict:
    """Two participants take turns; a group round lists its speakers turn by turn (logic.actions.group_speakers)."""
    return participants[turn % len(participants)]


def create_turn(
    tenant_id: uuid.UUID,
    round_id: uuid.UUID,
    turn: int,
    reply_to: Received | None,
    rt: EngineRuntime | None = None,
    conn=None,
    session=None,
) -> TurnResult:
    """Write turn `turn` of a round (its speaker's next message) and queue it. `reply_to` is the message row
    being answered (None for the opener). `conn`: a connection the job already holds (one checkout per job);
    `session`: an open session on it whose transaction the round is read in (then ended here, before the model
    is asked: no transaction stays open during an LLM call)."""
    if conn is None:
        with app_engine().connect() as own:
            return create_turn(tenant_id, round_id, turn, reply_to, rt, own)
    rt = rt or runtime()
    key = send_key(round_id, turn)
    reader = contextlib.nullcontext(session) if session is not None else tenant_connection(conn, tenant_id)
    with reader as s:
        row = s.execute(
            ROUND_CONTEXT,
            {"r": round_id, "key": key, "turn": turn, "lim": rt.settings.offline_history_limit},
        ).first()
        if row is None:
            return TurnResult(GONE)
        ctx = TurnContext.of(row)
        if ctx.state != "running" or not ctx.conversation_active:
            return TurnResult(f"round_{ctx.state}" if ctx.state != "running" else "conversation_inactive")
        if turn >= ctx.planned_turns:
            return TurnResult(ROUND_COMPLETE)
        existing = ctx.existing
        if existing is not None:
            s.rollback()
            existing_id = uuid.UUID(existing["id"])
            send_after = datetime.fromisoformat(existing["send_after"]) if existing.get("send_after") else None
            due = send_after is None or send_after <= rt.clock.now()
            if existing["status"] == "queued" and due and rt.settings.inline_sends:
                # A retried job (e.g. its worker was killed mid-send): let the send pipeline finish it safely.
                return TurnResult(EXISTS, existing_id, sending.process(tenant_id, existing_id, conn))
            return TurnResult(EXISTS, existing_id)
        participants = list(ctx.participants or [])
        speaker, listener = _speaker(participants, turn), _speaker(participants, turn + 1)
        if speaker.get("kind") != "bot":
            return TurnResult(AWAIT_HUMAN)
        speaker_id = uuid.UUID(speaker["number_id"])
        persona_row = SimpleNamespace(**ctx.persona) if ctx.persona else None
        history_rows = ctx.history or []  # [id, body, from_number_id] as text, newest first: up to 500 of them
        s.rollback()  # read-only so far
    settings = ctx.settings
    persona = (
        PersonaSpec.coerce(persona_row)
        if persona_row and persona_row.name
        else PersonaSpec(name=persona_row.label if persona_row else "")
    )
    locale = (persona_row.locale if persona_row and persona_row.name else None) or ctx.tenant_locale
    speaker_text, answered_text = str(speaker_id), str(reply_to.id) if reply_to is not None else None
    history = [Turn(body, from_id == speaker_text) for row_id, body, from_id in reversed(history_rows)
               if row_id != answered_text]  # fmt: skip
    if reply_to is not None:
        history.append(Turn(reply_to.body, False))
    phase = round_phases(ctx.planned_turns // 2)[turn].phase
    daypart = ctx.window_key.rsplit(":", 1)[-1] if ctx.window_key else None
    reply = replies.generate(
        persona,
        {"seed": ctx.topic_seed or "", "system_prompt": ctx.topic_prompt or ""},
        daypart,
        phase,
        history,
        locale,
        seed=f"{round_id}|{turn}",
        llm=rt.llm_client(),
        model=ctx.openai_model,
        temperature=ctx.temperature,
        history_limit=rt.settings.history_limit,
    )
    plan = plan_send(
        reply.text,
        random.Random(f"{round_id}|{turn}|plan"),
        settings.humanize_config,
        humanize=settings.humanize,
        incoming=reply_to.body if reply_to is not None else None,
    )
    now = rt.clock.now()
    send_after = now + timedelta(seconds=plan.gap_s) if reply_to is not None else now
    meta: dict[str, Any] = {
        "send_key": key,
        "app_origin": "round",
        "round_id": str(round_id),
        "turn": turn,
        "phase": phase,
        "daypart": daypart,
        "plan": {"read_ms": plan.read_delay_ms, "typing_ms": plan.typing_ms, "gap_s": round(plan.gap_s, 1)},
        "llm": reply.meta(),
    }
    if reply_to is not None:
        meta["reply_to"] = {"message_id": str(reply_to.id), "wa_msg_id": reply_to.wa_msg_id}
        received = getattr(reply_to, "created_at", None)
        if received is not None:
            meta["reply_latency_s"] = round((send_after - received).total_seconds(), 1)
    message_id = uuid.uuid4()
    row = {
        "id": message_id,
        "t": tenant_id,
        "c": ctx.conversation_id,
        "r": round_id,
        "from_id": speaker_id,
        "to_id": None if ctx.group_id else uuid.UUID(listener["number_id"]) if listener.get("number_id") else None,
        "contact_id": uuid.UUID(listener["contact_id"]) if listener.get("contact_id") else None,
        "body": reply.text,
        "now": now,
        "send_after": send_after,
        "group": ctx.group_id,
        "media_id": None,
        "ref": None,
    }
    speaker_spec = turn_actions.Speaker(
        speaker_id,
        Habits.from_mapping_or_default(persona_row.habits if persona_row else None),
        max(1, int(getattr(persona_row, "active_days", 0) or 0)),
        locale,
        getattr(persona_row, "reputation_band", None),
    )
    answered = (
        turn_actions.Answered(reply_to.kind, reply_to.wa_msg_id, reply_to.body, reply_to.author_wa)
        if reply_to is not None
        else None
    )
    dressed = turn_actions.dress_turn(
        lambda: tenant_connection(conn, tenant_id), row, meta, speaker_spec, settings.actions, answered,
        seed=f"{round_id}|{turn}", now=now, typing_ms=plan.typing_ms,
    )  # fmt: skip
    row = dressed.main
    if send_after <= now and rt.settings.inline_sends:
        return _send_inline(tenant_id, rt, conn, row, dressed.extras, now)
    with tenant_connection(conn, tenant_id) as s:
        inserted = s.execute(INSERT_TURN, row).scalar()
        extras = [extra for extra in dressed.extras if inserted is not None and s.execute(INSERT_TURN, extra).scalar()]
        s.commit()
    if inserted is None:  # another trigger wrote this turn first
        return TurnResult(EXISTS)
    for extra in extras:
        send_outcomes.schedule(rt, tenant_id, extra["id"], extra["send_after"])
    send_outcomes.schedule(rt, tenant_id, message_id, send_after)
    return TurnResult(QUEUED, message_id)


def _send_inline(
    tenant_id: uuid.UUID, rt: EngineRuntime, conn, row: dict[str, Any], extras: list[dict[str, Any]], now: datetime
) -> TurnResult:
    """A turn due now is sent by the job that wrote it: its rows are written in the send pipeline's first
    transaction (one transaction less per reply), the extras due now (a reaction to the partner's message) go out
    first, on the same connection, and the later ones (a typo's fix, a reaction taken back) are queued. One job per
    reply, whatever the turn carries."""

    def write(s) -> None:
        if s.execute(INSERT_TURN, row).scalar() is not None:  # None: another trigger wrote this turn first
            for extra in extras:
                s.execute(INSERT_TURN, extra)

    due = [extra for extra in extras if extra["send_after"] <= now]
    order = [*(extra["id"] for extra in due), row["id"]]
    outcome = sending.process(tenant_id, order[0], conn, prepare=write)
    if outcome.state == send_outcomes.NOOP and outcome.reason == "missing":
        return TurnResult(EXISTS)
    for message_id in order[1:]:
        outcome = sending.process(tenant_id, message_id, conn)
    for extra in extras:
        if extra["send_after"] > now:
            send_outcomes.schedule(rt, tenant_id, extra["id"], extra["send_after"])
    return TurnResult(QUEUED, row["id"], outcome)


MESSAGE = text(
    """
    SELECT m.id, m.direction::text AS direction, m.from_number_id, m.to_number_id, m.contact_id, m.body, m.meta,
           m.round_id, m.conversation_id, m.status::text AS status, m.wa_msg_id, m.created_at
    FROM messages m WHERE m.id = :id
    """
)


# The received message with its round and, for guard_no_echo, the receiver's own last bodies in that conversation.
MESSAGE_IN_ROUND = text(
    """
    SELECT m.id, m.direction::text AS direction, m.from_number_id, m.to_number_id, m.contact_id, m.body, m.meta,
           m.round_id, m.conversation_id, m.status::text AS status, m.wa_msg_id, m.created_at,
           m.kind::text AS kind, m.group_id,
           (SELECT COALESCE(fn.wa_number, fc.wa_number) FROM (SELECT 1) one
              LEFT JOIN numbers fn ON fn.id = m.from_number_id LEFT JOIN contacts fc ON fc.id = m.contact_id
           ) AS author_wa,
           r.state::text AS round_state, r.planned_turns, r.participants,
           COALESCE(sc.guard_no_echo, true) AS guard_no_echo,
           (SELECT array_agg(e.body) FROM (SELECT x.body FROM messages x WHERE x.conversation_id = r.conversation_id
                AND x.from_number_id = m.to_number_id AND x.id <> m.id AND x.body <> ''
                AND x.kind NOT IN ('reaction', 'edit', 'status')
                ORDER BY x.created_at DESC LIMIT :last_n) e) AS own_bodies
    FROM messages m
    LEFT JOIN rounds r ON r.id = m.round_id
    LEFT JOIN settings_conversation sc ON sc.conversation_id = r.conversation_id
    WHERE m.id = :id
    """
)


def on_message(tenant_id: uuid.UUID | str, message_id: uuid.UUID | str) -> TurnResult:
    """A message arrived at one of our numbers: answer it if, and only if, the round says so."""
    rt = runtime()
    tenant, mid = uuid.UUID(str(tenant_id)), uuid.UUID(str(message_id))
    params = {"id": mid, "last_n": rt.settings.no_echo_last_n}
    with app_engine().connect() as conn:
        return _on_message(rt, tenant, conn, params)


def _on_message(rt: EngineRuntime, tenant: uuid.UUID, conn, params: dict) -> TurnResult:
    with tenant_connection(conn, tenant) as s:
        row = s.execute(MESSAGE_IN_ROUND, params).first()
        if row is None:
            return TurnResult(GONE)  # merged into the sender's row; the merge re-triggers with that id
        msg = Received.of(row)
        if msg.to_number_id is None and msg.group_id is None:
            return TurnResult(NOT_ADDRESSED)
        if msg.kind in NEVER_A_TURN:
            return TurnResult(OUTSIDE_ROUND)  # a reaction, a typo's fix or a status is not a turn
        if msg.round_id is None:
            found = _claim_for_round(s, rt, msg)
            if isinstance(found, str):  # nothing was written: the row locks it took end with the rollback
                return TurnResult(found)
            s.commit()
            msg = Received.of(s.execute(MESSAGE_IN_ROUND, {**params, "id": found}).one())
        turn = msg.meta.get("turn")
        if msg.round_state is None or turn is None:
            return TurnResult(OUTSIDE_ROUND)
        if msg.round_state != "running":
            return TurnResult(f"round_{msg.round_state}")
        nxt = int(turn) + 1
        if nxt >= msg.planned_turns:
            return TurnResult(ROUND_COMPLETE)
        speaker = _speaker(list(msg.participants), nxt)
        if msg.group_id is None and speaker.get("number_id") != str(msg.to_number_id):
            return TurnResult(NOT_ADDRESSED)
        said = fold(msg.body)  # "" for a sticker, a location, a picture without a caption: nothing to echo
        if msg.guard_no_echo and said and said in {fold(b) for b in msg.own_bodies or ()}:
            round_state.abort(s, msg.round_id, ECHO, rt.clock.now())
            s.commit()
            log.warning("round %s: echo of our own text received, not answered", msg.round_id)
            return TurnResult(ECHO)
        return create_turn(tenant, msg.round_id, nxt, msg, rt, conn, session=s)


def _claim_for_round(s, rt: EngineRuntime, msg: Received) -> uuid.UUID | str:
    """A received message with no round: our unfinished send (adopt or wait), a human's turn, or nothing. The id
    of the message that now carries the turn, or why there is none."""
    if msg.direction == "out" and msg.from_number_id is not None:
        ours = s.execute(
            text(
                "SELECT id, status::text AS status FROM messages WHERE from_number_id = :f AND to_number_id = :t "
                "AND body = :b AND round_id IS NOT NULL AND wa_msg_id IS NULL AND dispatched_at IS NOT NULL "
                "AND (status = 'queued' OR (status = 'failed' AND error = 'unknown_delivery')) "
                "ORDER BY created_at DESC LIMIT 1 FOR UPDATE"
            ),
            {"f": msg.from_number_id, "t": msg.to_number_id, "b": msg.body},
        ).first()
        if ours is None:
            log.info("bot-to-bot message %s outside any round: not answered", msg.id)
            return OUTSIDE_ROUND
        if ours.status == "queued":
            return PENDING_MERGE
        # Our send timed out ("unknown_delivery") but the recipient has it: adopt the proof, the turn went out.
        now = rt.clock.now()
        # The id's key row first, then the rows, as the webhook ingest locks them (sending.MERGE_SENT says why).
        s.execute(text("SELECT 1 FROM message_wa_ids WHERE wa_msg_id = :wa FOR UPDATE"), {"wa": msg.wa_msg_id})
        s.execute(text("DELETE FROM messages WHERE id = :id"), {"id": msg.id})
        s.execute(
            text(
                "UPDATE messages SET wa_msg_id = :wa, status = GREATEST(CAST('sent' AS message_status), "
                "CAST(:st AS message_status)), error = NULL, updated_at = :now WHERE id = :id"
            ),
            {"wa": msg.wa_msg_id, "st": msg.status, "now": now, "id": ours.id},
        )
        adopted = s.execute(MESSAGE, {"id": ours.id}).first()
        turn = (adopted.meta or {}).get("turn")
        if turn is not None:
            round_state.advance(s, adopted.round_id, int(turn), now)
        return adopted.id
    if msg.direction == "in" and msg.contact_id is not None:
        return _human_turn(s, rt, msg)
    return OUTSIDE_ROUND


def _human_turn(s, rt: EngineRuntime, msg: Received) -> uuid.UUID | str:
    """A contact wrote to one of our numbers: it is their turn if a running round pairs them and expects it."""
    rnd = s.execute(
        text(
            "SELECT id, turns_done, participants, conversation_id FROM rounds WHERE state = 'running' "
            "AND participants @> CAST(:c AS jsonb) AND participants @> CAST(:n AS jsonb) "
            "ORDER BY created_at DESC LIMIT 1 FOR UPDATE"
        ),
        {
            "c": json.dumps([{"contact_id": str(msg.contact_id)}]),
            "n": json.dumps([{"number_id": str(msg.to_number_id)}]),
        },
    ).first()
    if rnd is None:
        return OUTSIDE_ROUND
    turn = rnd.turns_done
    if _speaker(list(rnd.participants), turn).get("contact_id") != str(msg.contact_id):
        return OUTSIDE_ROUND
    s.execute(
        text(
            "UPDATE messages SET round_id = :r, conversation_id = :c, "
            "meta = meta || CAST(:meta AS jsonb) WHERE id = :id"
        ),
        {"r": rnd.id, "c": rnd.conversation_id, "id": msg.id, "meta": json.dumps({"turn": turn})},
    )
    round_state.advance(s, rnd.id, turn, rt.clock.now())
    return msg.id
