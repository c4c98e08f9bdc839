"""A round turn beyond text: what the speaker does (logic.actions.plan_turn) turned into message rows.

`dress_turn` takes the turn's text row as the round wrote it and returns it dressed as its main action (a voice note
that says the text, a picture with the text as caption, a sticker, a location, a contact card, a quote of the
message answered, a typo), plus the extra rows the plan adds: a reaction to the partner's message first (sometimes
taken back later) and the typo's fix. Every row carries its kind and cap weight; the send pipeline sends each.

Content comes from the tenant's media library through engine.media_pick (never the same file twice to the same
partner; generated when the library runs out). When a file cannot be had the turn falls back to text.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from mirage_app.engine import media_pick
from mirage_app.evolution.jids import phone_digits
from mirage_app.logic import actions, reputation
from mirage_app.logic.actions import Habits, TurnPlan
from mirage_app.logic.places import pick_place

log = logging.getLogger("mirage.turn_actions")

# Another of the tenant's numbers whose card the speaker may share (never the partner or the speaker itself).
CARD_CANDIDATE = text(
    """
    SELECT n.wa_number, COALESCE(p.name, n.label) AS name FROM numbers n LEFT JOIN personas p ON p.id = n.persona_id
    WHERE n.id <> ALL(:exclude) AND n.wa_number IS NOT NULL AND n.archived_at IS NULL
    ORDER BY md5(n.id::text || :seed) LIMIT 1
    """
)


@dataclass
class TurnRows:
    """The turn's main row (the columns of rounds.INSERT_TURN) and the extra rows to queue with it."""

    main: dict[str, Any]
    extras: list[dict[str, Any]] = field(default_factory=list)
    plan: TurnPlan = field(default_factory=TurnPlan)


@dataclass(frozen=True)
class Speaker:
    number_id: uuid.UUID
    habits: Habits
    day: int  # its warm-up day (1-based), for the phase rules
    locale: str
    band: str | None = None  # its reputation band (logic.reputation), which may forbid actions the phase allows


@dataclass(frozen=True)
class Answered:
    """The message a turn answers, as far as actions need it."""

    kind: str
    wa_msg_id: str | None
    body: str
    author_wa: str | None


def dress_turn(
    open_session: Callable[[], Any],
    row: dict[str, Any],
    meta: dict[str, Any],
    speaker: Speaker,
    rules: actions.ActionRules,
    answered: Answered | None,
    *,
    seed: str,
    now: datetime,
    typing_ms: int,
) -> TurnRows:
    """Dress the text row `row` (its `meta` dict not yet serialised) as the planned action. `open_session()` opens
    a session under the tenant, only for the actions that read the library or the numbers (a text turn opens none)."""
    rng = random.Random(f"{seed}|actions")
    group = row.get("group") is not None
    plan = actions.plan_turn(
        speaker.habits,
        rules,
        speaker.day,
        rng,
        incoming_kind=answered.kind if answered and answered.wa_msg_id else None,
        group=group,
    )
    plan = reputation.restrict(plan, speaker.band)
    main = dict(row, kind=actions.TEXT)
    partner = row["group"] or row["to_id"]
    if plan.kind in actions.MEDIA_ACTIONS:
        with open_session() as s:
            media_id = media_pick.pick_asset(
                s, row["t"], speaker.number_id, partner, plan.kind, rng, text_for_voice=row["body"],
                locale=speaker.locale,
            )  # fmt: skip
            s.commit()
        if media_id is None:
            meta["action_fallback"] = f"no_{plan.kind}"
            plan = actions.downgrade(plan, plan.kind)
        else:
            main["media_id"] = media_id
            if plan.kind == actions.STICKER or (plan.kind == actions.IMAGE and rng.random() < 0.4):
                main["body"] = ""  # a sticker has no text; a picture often goes without a caption
    elif plan.kind == actions.LOCATION:
        meta["location"] = pick_place(speaker.locale, rng).as_meta()
        main["body"] = ""
    elif plan.kind == actions.CONTACT:
        exclude = [speaker.number_id, *([row["to_id"]] if row["to_id"] else [])]
        with open_session() as s:
            card = s.execute(CARD_CANDIDATE, {"exclude": exclude, "seed": seed}).first()
        if card is None:
            meta["action_fallback"] = "no_contact_to_share"
            plan = actions.downgrade(plan, actions.CONTACT)
        else:
            meta["contact_card"] = {
                "full_name": card.name,
                "wuid": phone_digits(card.wa_number),
                "phone": card.wa_number,
            }
            main["body"] = ""
    main["kind"] = plan.kind
    main["weight"] = actions.cap_weight(plan.kind)
    if plan.quote and answered is not None and answered.wa_msg_id:
        meta["quoted"] = {
            "wa_msg_id": answered.wa_msg_id,
            "body": answered.body[:500],
            "kind": answered.kind,
            "author_wa": answered.author_wa,
        }
        main["ref"] = answered.wa_msg_id
    extras: list[dict[str, Any]] = []
    key = meta["send_key"]
    if plan.typo:
        typo = actions.make_typo(main["body"], rng)
        if typo is not None:
            meta["typo_fix"] = main["body"]
            fix_at = (
                main["send_after"]
                + timedelta(milliseconds=typing_ms)
                + timedelta(seconds=actions.edit_delay_s(main["body"], rng))
            )
            extras.append(_extra(main, "edit", main["body"], key + ":edit", fix_at, {"edit_of": str(main["id"])}))
            main["body"] = typo
    if plan.react and answered is not None and answered.wa_msg_id:
        react_at = max(now, main["send_after"] - timedelta(seconds=rng.uniform(2.0, 8.0)))
        reaction = {"reaction_author_wa": answered.author_wa}
        extras.append(_extra(main, "reaction", plan.react, key + ":react", react_at, reaction, ref=answered.wa_msg_id))
        if plan.unreact:
            later = react_at + timedelta(seconds=actions.unreact_delay_s(rng))
            extras.append(_extra(main, "reaction", "", key + ":unreact", later, reaction, ref=answered.wa_msg_id))
    meta["action"] = {"kind": plan.kind, "react": plan.react, "quote": plan.quote, "typo": "typo_fix" in meta}
    main["meta"] = json.dumps(meta)
    return TurnRows(main, extras, plan)


def _extra(
    main: dict[str, Any],
    kind: str,
    body: str,
    send_key: str,
    send_after: datetime,
    meta: dict[str, Any],
    ref: str | None = None,
) -> dict[str, Any]:
    """A row that rides along with a turn: same round, sender and chat; its own send key; no `turn` (it never
    advances the round, and the partner never answers it)."""
    extra_meta = dict(meta, send_key=send_key, app_origin="round", round_id=str(main["r"]), extra=kind)
    return dict(
        main,
        id=uuid.uuid4(),
        kind=kind,
        body=body,
        media_id=None,
        ref=ref,
        weight=actions.cap_weight(kind),
        send_after=send_after,
        meta=json.dumps(extra_meta),
    )
