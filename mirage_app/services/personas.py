"""Personas: the voice a number speaks with (greetings per daypart, style, traits), and a preview of it.

Every function takes the acting `Actor`, checks it with `authorize`, validates input into
`ValidationFailed(code, field=...)` and audits changes. Views are plain dataclasses, safe for UI state.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from mirage_app.base import audit
from mirage_app.base.errors import NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine import replies
from mirage_app.engine.runtime import runtime
from mirage_app.i18n import LOCALES
from mirage_app.logic.actions import Habits
from mirage_app.logic.dayparts import DAYPARTS
from mirage_app.logic.prompts import PHASES, PersonaSpec
from mirage_app.models import Number, OutreachPolicy, Persona, Tenant

TRAITS = {
    "age": None,
    "occupation": None,
    "writing_style": None,
    "emoji_use": ("none", "low", "medium", "high"),
    "typical_length": ("short", "medium", "long"),
}
FIELDS = (
    "name",
    "style",
    "greeting_morning",
    "greeting_afternoon",
    "greeting_evening",
    "traits",
    "active_hours",
    "locale",
    "habits",
)


@dataclass(frozen=True)
class PersonaView:
    id: uuid.UUID
    name: str
    style: str
    greeting_morning: str
    greeting_afternoon: str
    greeting_evening: str
    traits: dict
    active_hours: dict
    locale: str
    numbers: int  # how many numbers speak with this persona
    created_at: datetime
    updated_at: datetime | None
    habits: dict = field(default_factory=dict)  # every logic.actions.Habits rate, the defaults filled in

    @classmethod
    def of(cls, p: Persona, numbers: int = 0) -> PersonaView:
        return cls(
            p.id,
            p.name,
            p.style,
            p.greeting_morning,
            p.greeting_afternoon,
            p.greeting_evening,
            dict(p.traits or {}),
            dict(p.active_hours or {}),
            p.locale,
            numbers,
            p.created_at,
            p.updated_at,
            asdict(Habits.from_mapping_or_default(p.habits)),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Preview:
    text: str
    source: str  # "offline" or "openai:<host>" (or "offline_fallback" when the model failed)
    daypart: str
    phase: str
    locale: str


def _clean(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationFailed("personas.trait_unknown", field=sorted(unknown)[0], name=sorted(unknown)[0])
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not 1 <= len(name) <= 120:
            raise ValidationFailed("personas.name_required", field="name")
        out["name"] = name
    if "style" in data:
        style = str(data["style"] or "").strip()
        if len(style) > 2000:
            raise ValidationFailed("personas.style_too_long", field="style")
        out["style"] = style
    for part in DAYPARTS:
        key = f"greeting_{part}"
        if key in data:
            value = str(data[key] or "").strip()
            if len(value) > 300:
                raise ValidationFailed("personas.greeting_too_long", field=key)
            out[key] = value
    if "traits" in data:
        out["traits"] = _clean_traits(data["traits"] or {})
    if "active_hours" in data:
        out["active_hours"] = _clean_hours(data["active_hours"] or {})
    if "habits" in data:
        out["habits"] = _clean_habits(data["habits"] or {})
    if "locale" in data or not partial:
        locale = data.get("locale") or "pt-BR"
        if locale not in LOCALES:
            raise ValidationFailed("personas.locale_invalid", field="locale")
        out["locale"] = locale
    return out


def _clean_traits(traits: Any) -> dict[str, Any]:
    if not isinstance(traits, dict):
        raise ValidationFailed("personas.trait_invalid", field="traits", name="traits")
    out = {}
    for key, value in traits.items():
        if key not in TRAITS:
            raise ValidationFailed("personas.trait_unknown", field=f"traits.{key}", name=key)
        if value in (None, ""):
            continue
        allowed = TRAITS[key]
        if key == "age":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ValidationFailed("personas.age_invalid", field="traits.age") from None
            if not 13 <= value <= 120:
                raise ValidationFailed("personas.age_invalid", field="traits.age")
        elif allowed is not None:
            value = str(value).strip().lower()
            if value not in allowed:
                raise ValidationFailed(f"personas.{key}_invalid", field=f"traits.{key}")
        else:
            value = str(value).strip()[:200]
        out[key] = value
    return out


def _clean_habits(habits: Any) -> dict[str, float]:
    """Rates from 0 to 1 (logic.actions.Habits); each refusal names its habit (`habits.<name>`)."""
    if not isinstance(habits, dict):
        raise ValidationFailed("personas.habit_invalid", field="habits")
    for name, value in habits.items():
        if name not in Habits.names():
            raise ValidationFailed("personas.habit_unknown", field=f"habits.{name}", name=name)
        if value is None:
            continue  # the default
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationFailed("personas.habit_invalid", field=f"habits.{name}")
    return asdict(Habits.from_mapping(habits))


def _clean_hours(hours: Any) -> dict[str, str]:
    if not isinstance(hours, dict) or not hours:
        return {}
    try:
        start, end = _hhmm(hours["start"]), _hhmm(hours["end"])
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed("personas.active_hours_invalid", field="active_hours") from None
    if start >= end:
        raise ValidationFailed("personas.active_hours_invalid", field="active_hours")
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


def _hhmm(value: Any) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not m:
        raise ValueError(value)
    return time(int(m.group(1)), int(m.group(2)))  # ValueError when out of range


def _get(s, persona_id: uuid.UUID | str) -> Persona:
    try:
        persona = s.get(Persona, uuid.UUID(str(persona_id)))
    except ValueError:
        persona = None
    if persona is None:
        raise NotFound("personas.not_found")
    return persona


def _snapshot(p: Persona) -> dict[str, Any]:
    return {k: getattr(p, k) for k in FIELDS}


def _live_numbers(s, persona_id: uuid.UUID) -> int:
    """Numbers writing as the persona (archived ones no longer write: `_impact` ignores them too)."""
    live = (Number.persona_id == persona_id, col(Number.archived_at).is_(None))
    return s.exec(select(func.count()).select_from(Number).where(*live)).one()


def list_personas(actor: Actor) -> list[PersonaView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        live = (col(Number.persona_id).is_not(None), col(Number.archived_at).is_(None))
        counts = dict(s.exec(select(Number.persona_id, func.count()).where(*live).group_by(Number.persona_id)).all())
        rows = s.exec(select(Persona).order_by(col(Persona.name))).all()
        return [PersonaView.of(p, counts.get(p.id, 0)) for p in rows]


def get_persona(actor: Actor, persona_id: uuid.UUID | str) -> PersonaView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        p = _get(s, persona_id)
        return PersonaView.of(p, _live_numbers(s, p.id))


def create_persona(actor: Actor, clock: Clock = system_clock, **fields: Any) -> PersonaView:
    """Fields: name (required), style, greeting_morning/afternoon/evening, traits, active_hours, locale, habits."""
    authorize(actor, Action.personas_manage)
    data = _clean(fields, partial=False)
    with tenant_session(actor.tenant_id) as s:
        persona = Persona(tenant_id=actor.tenant_id, created_at=clock.now(), **data)
        s.add(persona)
        s.flush()
        audit.record(s, actor, "persona.create", "persona", persona.id, after=_snapshot(persona), clock=clock)
        s.commit()
        return PersonaView.of(persona)


def update_persona(
    actor: Actor, persona_id: uuid.UUID | str, clock: Clock = system_clock, **fields: Any
) -> PersonaView:
    authorize(actor, Action.personas_manage)
    data = _clean(fields, partial=True)
    with tenant_session(actor.tenant_id) as s:
        persona = _get(s, persona_id)
        before = _snapshot(persona)
        for key, value in data.items():
            setattr(persona, key, value)
        persona.updated_at = clock.now()
        s.add(persona)
        audit.record(s, actor, "persona.update", "persona", persona.id, before=before, after=_snapshot(persona))
        s.commit()
        return PersonaView.of(persona, _live_numbers(s, persona.id))


def _impact(s, persona: Persona) -> Impact:
    """An active outreach policy writing as this persona blocks the delete (it would go on under another voice
    without anyone choosing it); inactive policies and numbers keep working without it (the number's own persona,
    else its label)."""
    dependents = []
    policies = s.exec(
        select(OutreachPolicy, Number.label)
        .join(Number, col(Number.id) == OutreachPolicy.number_id)
        .where(OutreachPolicy.persona_id == persona.id, col(OutreachPolicy.archived_at).is_(None))
        .order_by(col(Number.label))
    ).all()
    for policy, label in policies:
        dependents.append(Dependent("policy", label, Effect.blocks if policy.active else Effect.detached))
    numbers = s.exec(
        select(Number.label)
        .where(Number.persona_id == persona.id, col(Number.archived_at).is_(None))
        .order_by(col(Number.label))
    ).all()
    dependents.extend(Dependent("number", label, Effect.detached) for label in numbers)
    return Impact(persona.name, tuple(dependents))


def persona_impact(actor: Actor, persona_id: uuid.UUID | str) -> Impact:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        return _impact(s, _get(s, persona_id))


def delete_persona(actor: Actor, persona_id: uuid.UUID | str) -> Impact:
    """Refused while an active outreach policy writes as it (`personas.in_use`, naming the policies); numbers and
    inactive policies using it are detached (they write as the number's own persona, else its label)."""
    authorize(actor, Action.personas_manage)
    with tenant_session(actor.tenant_id) as s:
        persona = _get(s, persona_id)
        impact = _impact(s, persona)
        impact.refuse_if_blocked("personas.in_use", field="persona_id")
        before = _snapshot(persona)
        s.delete(persona)  # numbers.persona_id and outreach_policies.persona_id are SET NULL
        audit.record(s, actor, "persona.delete", "persona", persona.id, before=before)
        s.commit()
    return impact


def preview(
    actor: Actor,
    persona_id: uuid.UUID | str | None = None,
    draft: dict[str, Any] | None = None,
    daypart: str = "morning",
    locale: str | None = None,
    phase: str = "greeting",
    topic: str = "",
    seed: str | None = None,
) -> Preview:
    """A sample message in the persona's voice, through the same reply generator the engine uses (the LLM when
    one is configured, else the offline generator). `draft` previews unsaved form values."""
    authorize(actor, Action.data_read)
    if daypart not in DAYPARTS:
        raise ValidationFailed("personas.daypart_invalid", field="daypart")
    if phase not in PHASES:
        raise ValidationFailed("personas.phase_invalid", field="phase")
    if draft is not None:
        data = _clean({k: v for k, v in draft.items() if k in FIELDS}, partial=True)
        spec = PersonaSpec.coerce({"name": data.get("name") or "Persona", **data})
        default_locale = data.get("locale")
    else:
        if persona_id is None:
            raise ValidationFailed("personas.not_found", field="persona_id")
        with tenant_session(actor.tenant_id) as s:
            row = _get(s, persona_id)
            spec, default_locale = PersonaSpec.coerce(row), row.locale
    if locale is None:
        if default_locale is None:
            with tenant_session(actor.tenant_id) as s:
                default_locale = s.get(Tenant, actor.tenant_id).locale
        locale = default_locale
    if locale not in LOCALES:
        raise ValidationFailed("personas.locale_invalid", field="locale")
    reply = replies.generate(
        spec,
        {"seed": topic},
        daypart,
        phase,
        [],
        locale,
        seed=seed or uuid.uuid4().hex,
        llm=runtime().llm_client(),
    )
    return Preview(reply.text, reply.source, daypart, phase, locale)
