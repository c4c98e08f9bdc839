"""Per-conversation overrides of the tenant's pacing and model settings, and what the engine applies as a result.
Making pacing less safe than what applies now needs `settings.safety_limits_raise` (admin with MFA).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import ValidationFailed
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import tenant_session
from mirage_app.engine.effective_settings import effective
from mirage_app.engine.llm import reply_source
from mirage_app.models import Conversation, ConversationSettings, TenantSettings
from mirage_app.services.conversations.records import (
    clean_model,
    clean_temperature,
    load_conversation,
    mark_changed,
)
from mirage_app.services.tenant_settings import safety_raises

OVERRIDE_FIELDS = (
    "min_delay_s",
    "max_delay_s",
    "hourly_burst_limit",
    "humanize",
    "allow_bot_to_bot",
    "guard_no_echo",
    "openai_model",
    "temperature",
)


@dataclass(frozen=True)
class ConversationSettingsView:
    overrides: dict  # OVERRIDE_FIELDS → value or None ("tenant default")
    effective: dict  # what the engine applies
    reply_source: str  # "offline" or "openai:<host>"


def settings_row(s, conv: Conversation) -> ConversationSettings:
    row = s.exec(select(ConversationSettings).where(ConversationSettings.conversation_id == conv.id)).first()
    if row is None:
        row = ConversationSettings(tenant_id=conv.tenant_id, conversation_id=conv.id)
        s.add(row)
        s.flush()
    return row


def _overrides(conv: Conversation, row: ConversationSettings) -> dict[str, Any]:
    return {
        "min_delay_s": row.min_delay_s,
        "max_delay_s": row.max_delay_s,
        "hourly_burst_limit": row.hourly_burst_limit,
        "humanize": row.humanize,
        "allow_bot_to_bot": row.allow_bot_to_bot,
        "guard_no_echo": row.guard_no_echo,
        "openai_model": conv.openai_model,
        "temperature": conv.temperature,
    }


def _effective_dict(tenant_row: TenantSettings | None, row: ConversationSettings | None) -> dict[str, Any]:
    eff = effective(tenant_row, row)
    return {
        "min_delay_s": eff.min_delay_s,
        "max_delay_s": eff.max_delay_s,
        "hourly_burst_limit": eff.hourly_burst_limit,
        "humanize": eff.humanize,
        "allow_bot_to_bot": eff.allow_bot_to_bot,
        "guard_no_echo": eff.guard_no_echo,
    }


def get_settings(actor: Actor, conversation_id: Any) -> ConversationSettingsView:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id, archived_ok=True)
        row = settings_row(s, conv)
        tenant_row = s.exec(select(TenantSettings)).first()
        eff = _effective_dict(tenant_row, row) | {"openai_model": conv.openai_model, "temperature": conv.temperature}
        view = ConversationSettingsView(_overrides(conv, row), eff, reply_source())
        s.commit()
        return view


def _clean_override(key: str, value: Any) -> Any:
    if value is None:
        if key in ("guard_no_echo", "openai_model", "temperature"):
            raise ValidationFailed("conversations.override_invalid", field=key, name=key)
        return None
    if key in ("humanize", "allow_bot_to_bot", "guard_no_echo"):
        if not isinstance(value, bool):
            raise ValidationFailed("conversations.override_invalid", field=key, name=key)
        return value
    if key == "openai_model":
        return clean_model(value)
    if key == "temperature":
        return clean_temperature(value)
    limits = {"min_delay_s": (0, 3600), "max_delay_s": (0, 86400), "hourly_burst_limit": (1, 1000)}
    low, high = limits[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed("conversations.override_invalid", field=key, name=key)
    return value


def set_settings(actor: Actor, conversation_id: Any, clock: Clock = system_clock, **changes: Any):
    """Set overrides (None = back to the tenant default). Making pacing less safe than what applies now (shorter
    delays, humanising off) needs `settings.safety_limits_raise` (admin with MFA)."""
    authorize(actor, Action.conversations_manage)
    unknown = set(changes) - set(OVERRIDE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("conversations.override_invalid", field=name, name=name)
    clean = {k: _clean_override(k, v) for k, v in changes.items()}
    with tenant_session(actor.tenant_id) as s:
        conv = load_conversation(s, conversation_id)
        row = settings_row(s, conv)
        tenant_row = s.exec(select(TenantSettings)).first()
        before_overrides = _overrides(conv, row)
        before_effective = _effective_dict(tenant_row, row)
        for key, value in clean.items():
            if key in ("openai_model", "temperature"):
                setattr(conv, key, value)
            else:
                setattr(row, key, value)
        min_d = row.min_delay_s if row.min_delay_s is not None else before_effective["min_delay_s"]
        max_d = row.max_delay_s if row.max_delay_s is not None else before_effective["max_delay_s"]
        if min_d > max_d:
            raise ValidationFailed("settings.delay_order", field="min_delay_s")
        after_effective = _effective_dict(tenant_row, row)
        if safety_raises(before_effective, after_effective):
            authorize(actor, Action.settings_safety_limits_raise)
        mark_changed(conv, clock)
        s.add(row)
        s.add(conv)
        audit.record(
            s,
            actor,
            "conversation.settings",
            "conversation",
            conv.id,
            before=before_overrides,
            after=_overrides(conv, row),
        )
        s.commit()
        eff = after_effective | {"openai_model": conv.openai_model, "temperature": conv.temperature}
        return ConversationSettingsView(_overrides(conv, row), eff, reply_source())
