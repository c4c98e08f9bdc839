"""`/conversations/[id]/settings`: per-conversation overrides of the tenant's pacing, plus model and temperature."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.components.action_rules import action_rules_card
from mirage_app.components.auth_card import field_error
from mirage_app.components.conversation import conversation_page
from mirage_app.components.field_errors import outline
from mirage_app.components.layout import app_page
from mirage_app.logic.form_fields import NOT_A_NUMBER, NotANumber, named_error, numbers
from mirage_app.services import conversations
from mirage_app.services.conversations import OVERRIDE_FIELDS
from mirage_app.states.action_rules import ActionRulesState
from mirage_app.states.auth import AuthState
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

NUMERIC = ("min_delay_s", "max_delay_s", "hourly_burst_limit")
OVERRIDE_HELP = {k: f"conversations.invalid.{k}" for k in NUMERIC}
LABELS = {k: f"conversations.field.{k}" for k in OVERRIDE_FIELDS}
SWITCHES = ("humanize", "allow_bot_to_bot")
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TEMPERATURE = 0.8


@dataclass(frozen=True)
class ConversationOverrides:
    """The form. Numbers stay as typed until Save parses them; "" and None mean "the tenant's default"."""

    min_delay_s: str = ""
    max_delay_s: str = ""
    hourly_burst_limit: str = ""
    humanize: bool | None = None
    allow_bot_to_bot: bool | None = None
    guard_no_echo: bool = True
    openai_model: str = DEFAULT_MODEL
    temperature: str = str(DEFAULT_TEMPERATURE)

    @classmethod
    def from_service(cls, overrides: dict) -> ConversationOverrides:
        return cls(
            **{k: "" if overrides[k] is None else str(overrides[k]) for k in NUMERIC},
            **{k: overrides[k] for k in SWITCHES},
            guard_no_echo=overrides["guard_no_echo"],
            openai_model=overrides["openai_model"],
            temperature=str(overrides["temperature"]),
        )

    def changes(self) -> dict:
        """What `conversations.set_settings` takes; raises `NotANumber` naming the first field that is not one."""
        pacing = numbers({k: getattr(self, k) for k in NUMERIC}, blank_is_none=True)  # blank: the tenant's default
        temperature = numbers({"temperature": self.temperature or str(DEFAULT_TEMPERATURE)}, {"temperature": float})
        return {
            **pacing,
            **{k: getattr(self, k) for k in SWITCHES},
            "guard_no_echo": self.guard_no_echo,
            "openai_model": self.openai_model or DEFAULT_MODEL,
            **temperature,
        }


@dataclass(frozen=True)
class TenantPacing:
    """What applies when a field is left at the tenant's default, shown as the inputs' placeholders."""

    min_delay_s: int = 0
    max_delay_s: int = 0
    hourly_burst_limit: int = 0


class ConversationSettingsState(ConversationState):
    overrides: ConversationOverrides = ConversationOverrides()
    tenant_pacing: TenantPacing = TenantPacing()
    reply_source: str = ""
    error: str = ""

    @rx.event
    def load(self):
        loaded = self._call(conversations.get_settings, self._id_from_url())
        if not loaded.ok:
            return loaded.feedback
        view = loaded.value
        self.overrides = ConversationOverrides.from_service(view.overrides)
        self.tenant_pacing = TenantPacing(**{k: view.effective[k] for k in NUMERIC})
        self.reply_source, self.error, self.error_field = self._source_words(view.reply_source), "", ""
        return None

    def _source_words(self, source: str) -> str:
        """ "offline" → "Gerador offline"; "openai:api.openai.com" → "OpenAI (api.openai.com)"."""
        kind, _, host = source.partition(":")
        return f"OpenAI ({host})" if kind == "openai" else self.tr["app.llm_offline"]

    @rx.event
    def set_text(self, name: str, value: str):
        self.overrides = replace(self.overrides, **{name: value})

    @rx.event
    def set_switch(self, name: str, choice: str | list[str]):
        """A tri-state control: "" = tenant default, "true" / "false" = this conversation's own choice."""
        choice = choice if isinstance(choice, str) else choice[0]
        self.overrides = replace(self.overrides, **{name: None if choice == "" else choice == "true"})

    @rx.event
    def set_guard_no_echo(self, value: bool):
        self.overrides = replace(self.overrides, guard_no_echo=value)

    @rx.event
    def save(self):
        try:
            changes = self.overrides.changes()
        except NotANumber as exc:
            self.error_field, self.error = named_error(self.tr, LABELS, exc.field, self.tr[NOT_A_NUMBER])
            return None
        saved = self._call(
            conversations.set_settings,
            self.conversation_id or self._id_from_url(),
            error_to="error",
            success="instances.saved",
            **changes,
        )
        if saved.ok:
            self.load()
            return saved.feedback
        message = self.error
        if saved.error_code == "conversations.override_invalid" and saved.error_field in OVERRIDE_HELP:
            message = self.tr[OVERRIDE_HELP[saved.error_field]]  # the service's text names the raw key, no range
        self.error_field, self.error = named_error(self.tr, LABELS, saved.error_field, message)
        return saved.feedback


def _numeric(key: str) -> rx.Component:
    return rx.vstack(
        rx.text(t(f"conversations.field.{key}"), size="2", weight="medium"),
        rx.input(
            value=getattr(ConversationSettingsState.overrides, key),
            type="number",
            id=f"setting-{key}",
            on_change=lambda v: ConversationSettingsState.set_text(key, v),
            disabled=~AuthState.can_manage,
            **outline(ConversationSettingsState.error_field, key),
            placeholder=t("conversations.default")
            + ": "
            + getattr(ConversationSettingsState.tenant_pacing, key).to_string(),
        ),
        spacing="1",
    )


def _switch_choice(value: rx.Var) -> rx.Var:
    """The segmented control's value for a `bool | None` override."""
    return rx.cond(value.is_none(), "", rx.cond(value, "true", "false"))


def _tristate(key: str) -> rx.Component:
    return rx.vstack(
        rx.text(t(f"conversations.field.{key}"), size="2", weight="medium"),
        rx.segmented_control.root(
            rx.segmented_control.item(t("conversations.default"), value=""),
            rx.segmented_control.item(t("common.on"), value="true"),
            rx.segmented_control.item(t("common.off"), value="false"),
            value=_switch_choice(getattr(ConversationSettingsState.overrides, key)),
            on_change=lambda v: ConversationSettingsState.set_switch(key, v),
            size="1",
            disabled=~AuthState.can_manage,
            id=f"setting-{key}",
        ),
        spacing="1",
    )


@app_page(
    "/conversations/[id]/settings",
    "Conversation settings",
    on_load=[ConversationSettingsState.load_header, ConversationSettingsState.load, ActionRulesState.load_conversation],
)
def conversation_settings_page() -> rx.Component:
    return conversation_page(
        "settings",
        "page.conversation_settings.title",
        rx.card(
            rx.vstack(
                rx.text(t("conversations.settings_hint"), size="2", color_scheme="gray"),
                rx.grid(*[_numeric(k) for k in NUMERIC], columns=rx.breakpoints(initial="1", sm="3"), spacing="4"),
                rx.grid(*[_tristate(k) for k in SWITCHES], columns=rx.breakpoints(initial="1", sm="2"), spacing="4"),
                rx.hstack(
                    rx.switch(
                        checked=ConversationSettingsState.overrides.guard_no_echo,
                        on_change=ConversationSettingsState.set_guard_no_echo,
                        disabled=~AuthState.can_manage,
                        id="setting-guard_no_echo",
                    ),
                    rx.text(t("conversations.field.guard_no_echo"), size="2"),
                    align="center",
                ),
                rx.grid(
                    rx.vstack(
                        rx.text(t("conversations.field.openai_model"), size="2", weight="medium"),
                        rx.input(
                            value=ConversationSettingsState.overrides.openai_model,
                            on_change=lambda v: ConversationSettingsState.set_text("openai_model", v),
                            disabled=~AuthState.can_manage,
                            id="setting-openai_model",
                            **outline(ConversationSettingsState.error_field, "openai_model"),
                        ),
                        spacing="1",
                    ),
                    rx.vstack(
                        rx.text(t("conversations.field.temperature"), size="2", weight="medium"),
                        rx.input(
                            value=ConversationSettingsState.overrides.temperature,
                            type="number",
                            step="0.1",
                            on_change=lambda v: ConversationSettingsState.set_text("temperature", v),
                            disabled=~AuthState.can_manage,
                            id="setting-temperature",
                            **outline(ConversationSettingsState.error_field, "temperature"),
                        ),
                        spacing="1",
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="4",
                ),
                rx.text(
                    t("conversations.reply_source"),
                    ": ",
                    ConversationSettingsState.reply_source,
                    size="1",
                    color_scheme="gray",
                ),
                field_error(ConversationSettingsState.error, "settings-error"),
                rx.cond(
                    AuthState.can_manage,
                    rx.button(t("common.save"), on_click=ConversationSettingsState.save, id="settings-save"),
                ),
                spacing="4",
                width="100%",
            ),
        ),
        rx.box(action_rules_card(AuthState.can_manage & ~ConversationState.archived), padding_top="1em"),
    )
