"""`/conversations/[id]/settings`: per-conversation overrides of the tenant's pacing, plus model and temperature."""

from __future__ import annotations

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.components.auth_card import field_error
from mirage_app.components.conversation import conversation_page
from mirage_app.components.layout import app_page
from mirage_app.services import conversations
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

NUMERIC = ("min_delay_s", "max_delay_s", "hourly_burst_limit")
SWITCHES = ("humanize", "allow_bot_to_bot")


class ConversationSettingsState(ConversationState):
    values: dict[str, str] = {}  # "" = tenant default
    effective: dict[str, str] = {}
    reply_source: str = ""
    error: str = ""

    @rx.event
    def load(self):
        view, feedback = self._call(conversations.get_settings, self._id_from_url())
        if view is None:
            return feedback
        self.values = {
            k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in view.overrides.items()
        }
        self.effective = {k: str(v) for k, v in view.effective.items()}
        self.reply_source, self.error = view.reply_source, ""
        return None

    @rx.event
    def set_value(self, name: str, value: str | list[str]):
        self.values = {**self.values, name: value if isinstance(value, str) else value[0]}

    @rx.event
    def save(self):
        changes: dict = {}
        try:
            for key in NUMERIC:
                raw = self.values.get(key, "")
                changes[key] = int(raw) if raw != "" else None
            for key in SWITCHES:
                raw = self.values.get(key, "")
                changes[key] = None if raw == "" else raw == "true"
            changes["guard_no_echo"] = self.values.get("guard_no_echo", "true") == "true"
            changes["openai_model"] = self.values.get("openai_model") or "gpt-4o-mini"
            changes["temperature"] = float(self.values.get("temperature") or 0.8)
        except ValueError:
            self.error = self.tr["conversations.numbers_only"]
            return None
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            conversations.set_settings(actor, self.conversation_id or self._id_from_url(), **changes)
        except ServiceError as exc:
            self.error = self._error(exc)
            return None
        self.load()
        return rx.toast.success(self.tr["instances.saved"])


def _numeric(key: str) -> rx.Component:
    return rx.vstack(
        rx.text(t(f"conversations.field.{key}"), size="2", weight="medium"),
        rx.input(
            value=ConversationSettingsState.values[key],
            type="number",
            id=f"setting-{key}",
            on_change=lambda v: ConversationSettingsState.set_value(key, v),
            placeholder=t("conversations.default") + ": " + ConversationSettingsState.effective[key],
        ),
        spacing="1",
    )


def _tristate(key: str) -> rx.Component:
    return rx.vstack(
        rx.text(t(f"conversations.field.{key}"), size="2", weight="medium"),
        rx.segmented_control.root(
            rx.segmented_control.item(t("conversations.default"), value=""),
            rx.segmented_control.item(t("common.on"), value="true"),
            rx.segmented_control.item(t("common.off"), value="false"),
            value=ConversationSettingsState.values[key],
            on_change=lambda v: ConversationSettingsState.set_value(key, v),
            size="1",
        ),
        spacing="1",
    )


@app_page(
    "/conversations/[id]/settings",
    "Conversation settings",
    on_load=[ConversationSettingsState.load_header, ConversationSettingsState.load],
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
                        checked=ConversationSettingsState.values["guard_no_echo"] == "true",
                        on_change=lambda v: ConversationSettingsState.set_value(
                            "guard_no_echo", rx.cond(v, "true", "false")
                        ),
                    ),
                    rx.text(t("conversations.field.guard_no_echo"), size="2"),
                    align="center",
                ),
                rx.grid(
                    rx.vstack(
                        rx.text(t("conversations.field.openai_model"), size="2", weight="medium"),
                        rx.input(
                            value=ConversationSettingsState.values["openai_model"],
                            on_change=lambda v: ConversationSettingsState.set_value("openai_model", v),
                        ),
                        spacing="1",
                    ),
                    rx.vstack(
                        rx.text(t("conversations.field.temperature"), size="2", weight="medium"),
                        rx.input(
                            value=ConversationSettingsState.values["temperature"],
                            type="number",
                            step="0.1",
                            on_change=lambda v: ConversationSettingsState.set_value("temperature", v),
                        ),
                        spacing="1",
                    ),
                    columns="2",
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
                rx.button(t("common.save"), on_click=ConversationSettingsState.save, id="settings-save"),
                spacing="4",
                width="100%",
            ),
        ),
    )
