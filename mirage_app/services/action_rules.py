"""The phase rules of rich actions (logic.actions.ActionRules): from which warm-up day each action is allowed and
which are switched off, for the tenant, with a conversation's overrides on top ("the tenant's" by default).

Each refusal names its field (`min_day.<action>`, `off`), so the form marks the very input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.db import tenant_session
from mirage_app.logic.actions import DEFAULT_MIN_DAY, TEXT, ActionRules
from mirage_app.models import TenantSettings
from mirage_app.services.conversations.records import load_conversation
from mirage_app.services.conversations.settings import settings_row
from mirage_app.services.tenant_settings import settings_row as tenant_row

# The actions a rule can hold back (text is always allowed), in the order the defaults open them.
RULED: tuple[str, ...] = tuple(sorted((a for a in DEFAULT_MIN_DAY if a != TEXT), key=DEFAULT_MIN_DAY.__getitem__))


@dataclass(frozen=True)
class RulesView:
    stored: dict  # what this level stores ({"min_day": {...}, "off": [...]}, keys absent = the level above)
    base: dict  # the level above, complete (the defaults for a tenant, the tenant's for a conversation)
    effective: dict  # what applies, complete


def _clean(min_day: dict[str, Any] | None, off: list[str] | None) -> dict[str, Any]:
    """Only what is set: a day per action (None or "" = the level above), and the list of actions off (None =
    the level above's list)."""
    data: dict[str, Any] = {}
    days: dict[str, int] = {}
    for action, day in (min_day or {}).items():
        if action not in RULED:
            raise ValidationFailed("actions.unknown", field=f"min_day.{action}", name=str(action))
        if day is None or day == "":
            continue
        try:
            ActionRules.from_mapping({"min_day": {action: day}})
        except (TypeError, ValueError):
            raise ValidationFailed("actions.day_invalid", field=f"min_day.{action}") from None
        days[action] = day
    if days:
        data["min_day"] = days
    if off is not None:
        if not isinstance(off, list | tuple) or any(a not in RULED for a in off):
            raise ValidationFailed("actions.off_invalid", field="off")
        data["off"] = sorted(set(off))
    return data


def riskier(before: ActionRules, after: ActionRules) -> list[str]:
    """The actions `after` allows sooner than `before` (an earlier first day, or switched back on): less safe for
    a young number, so it needs `settings.safety_limits_raise` (admin with MFA), like shorter delays do."""
    return sorted(
        action
        for action in RULED
        if after.min_day.get(action, 1) < before.min_day.get(action, 1)
        or (action in before.off and action not in after.off)
    )


def get_tenant_rules(actor: Actor) -> RulesView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        row = s.exec(select(TenantSettings)).first()
        stored = dict(row.actions or {}) if row else {}
    return RulesView(stored, ActionRules.default().as_mapping(), ActionRules.merged(stored, None).as_mapping())


def set_tenant_rules(actor: Actor, min_day: dict[str, Any] | None = None, off: list[str] | None = None) -> RulesView:
    """Replace the tenant's rules: days not given go back to the defaults, `off` is the full list."""
    authorize(actor, Action.settings_tenant)
    data = _clean(min_day, off if off is not None else [])
    with tenant_session(actor.tenant_id) as s:
        row = tenant_row(s, actor.tenant_id)
        before = dict(row.actions or {})
        if riskier(ActionRules.merged(before, None), ActionRules.merged(data, None)):
            authorize(actor, Action.settings_safety_limits_raise)
        row.actions = data
        s.add(row)
        audit.record(s, actor, "settings.actions", "settings_tenant", row.id, before=before, after=data)
        s.commit()
    return RulesView(data, ActionRules.default().as_mapping(), ActionRules.merged(data, None).as_mapping())


def get_conversation_rules(actor: Actor, conversation_id: Any) -> RulesView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        row = settings_row(s, conv)
        tenant = s.exec(select(TenantSettings)).first()
        tenant_stored = dict(tenant.actions or {}) if tenant else {}
        stored = dict(row.actions or {})
        s.commit()
    return RulesView(
        stored,
        ActionRules.merged(tenant_stored, None).as_mapping(),
        ActionRules.merged(tenant_stored, stored).as_mapping(),
    )


def set_conversation_rules(
    actor: Actor, conversation_id: Any, min_day: dict[str, Any] | None = None, off: list[str] | None = None
) -> RulesView:
    """Replace the conversation's overrides: a day not given, and `off=None`, follow the tenant's."""
    authorize(actor, Action.conversations_manage)
    data = _clean(min_day, off)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        row = settings_row(s, conv)
        before = dict(row.actions or {})
        tenant = s.exec(select(TenantSettings)).first()
        tenant_stored = dict(tenant.actions or {}) if tenant else {}
        if riskier(ActionRules.merged(tenant_stored, before), ActionRules.merged(tenant_stored, data)):
            authorize(actor, Action.settings_safety_limits_raise)
        row.actions = data
        s.add(row)
        audit.record(s, actor, "conversation.actions", "conversation", conv.id, before=before, after=data)
        s.commit()
    return RulesView(
        data,
        ActionRules.merged(tenant_stored, None).as_mapping(),
        ActionRules.merged(tenant_stored, data).as_mapping(),
    )
