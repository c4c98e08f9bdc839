"""The number that writes to a contact: its persona's voice, its language, its humanising, and how what it writes is
queued. Shared by the opener (the tick), the follow-ups (the exchange) and the opt-out confirmation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from mirage_app.engine.effective_settings import TENANT_SETTINGS, EffectiveSettings, settings_joins, settings_of
from mirage_app.logic.prompts import PersonaSpec
from mirage_app.models.messaging import insert_once_per_send_key

DEFAULT_LOCALE = "pt-BR"

SENDER = text(
    f"""
    SELECT n.label, t.locale AS tenant_locale, t.timezone, p.name, p.style, p.greeting_morning,
           p.greeting_afternoon, p.greeting_evening, p.traits, p.locale, {TENANT_SETTINGS}
    FROM numbers n JOIN tenants t ON t.id = n.tenant_id
    LEFT JOIN personas p ON p.id = COALESCE(CAST(:pid AS uuid), n.persona_id)
    {settings_joins("n.tenant_id")}
    WHERE n.id = :n
    """
)

# A queued message to a contact; a send key already used writes nothing (None comes back).
INSERT_OUTREACH_MESSAGE = text(
    insert_once_per_send_key(
        "tenant_id, from_number_id, contact_id, direction, body, meta, status, created_at, send_after",
        ":t, :n, :c, 'out', :body, CAST(:meta AS jsonb), 'queued', :now, :send_after",
    )
)


@dataclass(frozen=True, slots=True)
class Sender:
    """A number writing as a persona (the policy's, else the number's own; none: the number's label)."""

    persona: PersonaSpec
    locale: str
    timezone: str
    settings: EffectiveSettings


def load_sender(s, number_id: uuid.UUID, persona_id: uuid.UUID | None = None) -> Sender:
    """The sender for `number_id`, writing as `persona_id` when given."""
    row = s.execute(SENDER, {"n": number_id, "pid": persona_id}).one()
    if row.name:
        persona, locale = PersonaSpec.coerce(row), row.locale or row.tenant_locale
    else:
        persona, locale = PersonaSpec(name=row.label), row.tenant_locale
    return Sender(persona, locale or DEFAULT_LOCALE, row.timezone, settings_of(row))
