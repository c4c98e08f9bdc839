"""The phase rules form (services.action_rules), for the tenant (settings → tenant) and for one conversation
(its settings tab, where every field starts as "the tenant's")."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.logic.form_fields import NOT_A_NUMBER, labelled
from mirage_app.services import action_rules
from mirage_app.services.action_rules import RULED, RulesView
from mirage_app.states.auth import AuthState


@dataclass(frozen=True)
class RuleRow:
    action: str
    day: str  # as typed; "" = the level above's (a conversation only)
    base_day: str  # the level above's first day, the input's placeholder
    off: bool  # switched off at this level (for a conversation: in its own list)
    base_off: bool  # switched off by the level above


class ActionRulesState(AuthState):
    scope: str = "tenant"  # or "conversation"
    conversation_id: str = ""
    rows: list[RuleRow] = []
    own_off: bool = False  # a conversation keeps its own list of actions off (else the tenant's)
    error: str = ""
    error_field: str = ""  # "min_day.voice", "off"

    def _show(self, view: RulesView) -> None:
        stored_days = view.stored.get("min_day") or {}
        base_days, base_off = view.base["min_day"], set(view.base["off"])
        off = set(view.stored["off"]) if "off" in view.stored else set(view.effective["off"])
        if self.scope == "tenant":
            self.rows = [
                RuleRow(a, str(view.effective["min_day"][a]), str(base_days[a]), a in off, False) for a in RULED
            ]
        else:
            self.rows = [
                RuleRow(a, str(stored_days.get(a, "")), str(base_days[a]), a in off, a in base_off) for a in RULED
            ]
        self.own_off = "off" in view.stored

    @rx.event
    def load_tenant(self):
        self.scope, self.conversation_id, self.error, self.error_field = "tenant", "", "", ""
        loaded = self._call(action_rules.get_tenant_rules)
        if not loaded.ok:
            return loaded.feedback
        self._show(loaded.value)
        return None

    @rx.event
    def load_conversation(self):
        parts = self.router.url.path.strip("/").split("/")
        self.scope, self.error, self.error_field = "conversation", "", ""
        self.conversation_id = parts[1] if len(parts) >= 2 else ""
        loaded = self._call(action_rules.get_conversation_rules, self.conversation_id)
        if not loaded.ok:
            return loaded.feedback
        self._show(loaded.value)
        return None

    @rx.event
    def set_day(self, action: str, value: str):
        self.rows = [replace(r, day=value) if r.action == action else r for r in self.rows]

    @rx.event
    def set_allowed(self, action: str, allowed: bool):
        self.rows = [replace(r, off=not allowed) if r.action == action else r for r in self.rows]

    @rx.event
    def set_follow_tenant(self, follow: bool):
        """A conversation that stops following the tenant's list starts its own from what applies now."""
        self.own_off = not follow
        if self.own_off:
            self.rows = [replace(r, off=r.base_off) for r in self.rows]

    @rx.event
    def save(self):
        days: dict[str, int | str] = {}
        for r in self.rows:
            typed = r.day.strip()
            if not typed:
                continue
            try:
                days[r.action] = int(typed)
            except ValueError:
                self.error_field = f"min_day.{r.action}"
                self.error = labelled(self.tr[NOT_A_NUMBER], self.tr[f"action.{r.action}"])
                return None
        off = [r.action for r in self.rows if r.off]
        if self.scope == "tenant":
            saved = self._call(action_rules.set_tenant_rules, days, off, error_to="error", success="rules.saved")
        else:
            saved = self._call(
                action_rules.set_conversation_rules,
                self.conversation_id,
                days,
                off if self.own_off else None,
                error_to="error",
                success="rules.saved",
            )
        self.error_field = saved.error_field or ""
        if saved.ok:
            self._show(saved.value)
        elif self.error_field.startswith("min_day."):
            self.error = labelled(self.error, self.tr.get(f"action.{self.error_field[8:]}", ""))
        return saved.feedback
