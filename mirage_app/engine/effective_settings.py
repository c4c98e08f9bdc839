"""Tenant defaults merged with a conversation's overrides: the values the engine actually applies.

Overrides may be None ("use the tenant default"). Caps take the tightest of both (an override can make a
conversation stricter; it never lifts the tenant's hourly burst limit).

The engine reads the settings with the row it is working on (no query of their own, on the per-reply path):
`TENANT_SETTINGS` (and `CONVERSATION_SETTINGS`) in the SELECT list, `settings_joins(...)` after its FROM, and
`settings_of(row)` to resolve them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from mirage_app.logic.actions import ActionRules
from mirage_app.logic.caps import tightest_limit
from mirage_app.logic.dayparts import QuietHours, parse_time
from mirage_app.logic.pacing import HumanizeConfig
from mirage_app.logic.warmup import WarmupPolicy


def _get(row: Any, key: str, default: Any = None) -> Any:
    if row is None:
        return default
    if isinstance(row, dict):
        return row.get(key, default)
    return getattr(row, key, default)


@dataclass(frozen=True)
class EffectiveSettings:
    min_delay_s: int
    max_delay_s: int
    hourly_burst_limit: int | None
    quiet_start: time
    quiet_end: time
    humanize: bool
    allow_bot_to_bot: bool
    guard_no_echo: bool
    warmup: WarmupPolicy
    actions: ActionRules  # which actions beyond text each warm-up day allows (the conversation's over the tenant's)

    @property
    def quiet_hours(self) -> QuietHours:
        return QuietHours(self.quiet_start, self.quiet_end)

    @property
    def humanize_config(self) -> HumanizeConfig:
        return HumanizeConfig(min_delay_s=float(self.min_delay_s), max_delay_s=float(self.max_delay_s))

    @property
    def min_gap(self) -> timedelta:
        """Minimum pause between two sends of one number (humanised only)."""
        return timedelta(seconds=self.min_delay_s) if self.humanize else timedelta(0)


def effective(tenant_settings: Any, conversation_settings: Any = None) -> EffectiveSettings:
    """Merge a `settings_tenant` row (or dict of its columns) with an optional `settings_conversation` row."""

    def pick(key: str, default: Any) -> Any:
        override = _get(conversation_settings, key)
        return override if override is not None else _get(tenant_settings, key, default)

    min_delay = int(pick("min_delay_s", 15))
    max_delay = max(min_delay, int(pick("max_delay_s", 180)))
    warmup = WarmupPolicy.from_mapping_or_default(_get(tenant_settings, "warmup"))
    return EffectiveSettings(
        min_delay_s=min_delay,
        max_delay_s=max_delay,
        hourly_burst_limit=tightest_limit(
            _get(tenant_settings, "hourly_burst_limit"), _get(conversation_settings, "hourly_burst_limit")
        ),
        quiet_start=parse_time(_get(tenant_settings, "quiet_start", time(22, 0))),
        quiet_end=parse_time(_get(tenant_settings, "quiet_end", time(8, 0))),
        humanize=bool(pick("humanize", True)),
        allow_bot_to_bot=bool(pick("allow_bot_to_bot", True)),
        guard_no_echo=bool(_get(conversation_settings, "guard_no_echo", True)),
        warmup=warmup,
        actions=ActionRules.merged(_get(tenant_settings, "actions"), _get(conversation_settings, "actions")),
    )


_TENANT_KEYS = ("min_delay_s", "max_delay_s", "hourly_burst_limit", "quiet_start", "quiet_end", "humanize",
                "allow_bot_to_bot", "warmup", "actions")  # fmt: skip
_CONVERSATION_KEYS = ("min_delay_s", "max_delay_s", "hourly_burst_limit", "humanize", "allow_bot_to_bot",
                      "guard_no_echo", "actions")  # fmt: skip

TENANT_SETTINGS = ", ".join(f"st.{k}" for k in _TENANT_KEYS)
CONVERSATION_SETTINGS = ", ".join(f"sc.{k} AS c_{k}" for k in _CONVERSATION_KEYS)


def settings_joins(tenant_id: str, conversation_id: str | None = None) -> str:
    """The joins behind TENANT_SETTINGS (and CONVERSATION_SETTINGS when `conversation_id` is given): SQL
    expressions of the row's tenant and conversation ids."""
    joins = f"LEFT JOIN settings_tenant st ON st.tenant_id = {tenant_id}"
    if conversation_id is not None:
        joins += f" LEFT JOIN settings_conversation sc ON sc.conversation_id = {conversation_id}"
    return joins


def settings_of(row: Any) -> EffectiveSettings:
    """The effective settings of a row selected with TENANT_SETTINGS (and, if any, CONVERSATION_SETTINGS)."""
    tenant = {k: getattr(row, k) for k in _TENANT_KEYS if getattr(row, k) is not None}
    conversation = {k: getattr(row, f"c_{k}", None) for k in _CONVERSATION_KEYS}
    if conversation["guard_no_echo"] is None:
        conversation["guard_no_echo"] = True
    return effective(tenant, conversation)
