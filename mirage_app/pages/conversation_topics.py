"""`/conversations/[id]/topics`: what the numbers talk about — seeds, system prompts, active periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.conversation import conversation_page, impact_view
from mirage_app.components.field_errors import outline
from mirage_app.components.layout import app_page
from mirage_app.i18n import formats
from mirage_app.services import conversations
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t


def period_bound(value: str, tz_name: str, days_after: int = 0) -> datetime | None:
    """Midnight of a typed date (YYYY-MM-DD) in the tenant's zone; the "to" day counts whole (`days_after=1`)."""
    if not value:
        return None
    day = date.fromisoformat(value) + timedelta(days=days_after)
    return datetime.combine(day, time(0), tzinfo=formats.tz_of(tz_name))


@dataclass(frozen=True)
class TopicRow:
    id: str
    seed: str
    prompt: str
    active_from: str  # "29 nov 2026", "" when open-ended
    active_to: str
    state: str  # "active" (the one talked about now), "rotation" (in its period) or "outside"


class TopicsState(ConfirmDelete, ConversationState):
    topics: list[TopicRow] = []
    error: str = ""
    strategy: str = "rotate"  # how the next topic is chosen: rotate (in order) or random
    refresh_minutes: str = "120"  # how long a topic lasts, as typed
    rotation_error: str = ""

    @rx.event
    def load(self):
        conversation_id = self._id_from_url()

        def read(actor):
            return (
                conversations.list_topics(actor, conversation_id),
                conversations.get_conversation(actor, conversation_id),
            )

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        topics, view = loaded.value
        self.strategy, self.refresh_minutes = view.topic_strategy, str(view.topic_refresh_minutes)
        self.topics = [
            TopicRow(
                id=str(tp.id),
                seed=tp.seed,
                prompt=tp.system_prompt,
                active_from=self._date(tp.active_from),
                active_to=self._date(tp.active_to, last_day=True),
                state="active" if tp.active_now else "rotation" if tp.in_period else "outside",
            )
            for tp in topics
        ]
        return None

    def _date(self, when: datetime | None, last_day: bool = False) -> str:
        """The period's bound as a day; "to" is stored as the next midnight, shown as the last day it covers."""
        if when is None:
            return ""
        return formats.day(when - timedelta(seconds=1) if last_day else when, self.lang, self.tenant_tz, year=True)

    @rx.event
    def create(self, form: dict):
        try:
            starts = period_bound(form.get("from", ""), self.tenant_tz)
            ends = period_bound(form.get("to", ""), self.tenant_tz, days_after=1)
        except ValueError:
            self.error = self.tr["conversations.date_invalid"]
            return None
        created = self._call(
            conversations.create_topic,
            self._id_from_url(),
            form.get("seed", ""),
            form.get("prompt", ""),
            starts,
            ends,
            error_to="error",
            success="conversations.topic_added",
        )
        self.error_field = created.error_field or ""
        if created.ok:
            self.load()
        return created.feedback

    @rx.event
    def set_strategy(self, value: str | list[str]):
        self.strategy = value if isinstance(value, str) else value[0]

    @rx.event
    def set_refresh_minutes(self, value: str):
        self.refresh_minutes = value

    @rx.event
    def save_rotation(self):
        try:
            minutes = int(self.refresh_minutes)
        except ValueError:
            self.rotation_error = self.tr["conversations.refresh_invalid"]
            return None
        return self._call(
            conversations.update_conversation,
            self._id_from_url(),
            topic_strategy=self.strategy,
            topic_refresh_minutes=minutes,
            error_to="rotation_error",
            success="instances.saved",
        ).feedback

    def _impact(self, target_id: str):
        return self._call(conversations.topic_impact, target_id)

    def _view(self, impact, target_id: str):
        return impact_view(self.tr, impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(conversations.delete_topic, target_id, success="conversations.topic_deleted")
        self.load()
        return deleted.feedback


def _topic(tp: rx.Var[TopicRow]) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.text(tp.seed, weight="medium"),
                    rx.match(
                        tp.state,
                        ("active", rx.badge(t("conversations.topic_active"), color_scheme="grass")),
                        ("rotation", rx.badge(t("conversations.topic_in_rotation"), color_scheme="gray")),
                        rx.badge(t("conversations.topic_inactive"), color_scheme="gray", variant="outline"),
                    ),
                    wrap="wrap",
                ),
                rx.text(tp.prompt, size="1", color_scheme="gray"),
                rx.cond(
                    (tp.active_from != "") | (tp.active_to != ""),
                    rx.text(tp.active_from, " → ", tp.active_to, size="1", color_scheme="gray"),
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                AuthState.can_manage,
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=TopicsState.ask_delete(tp.id),
                    aria_label=t("confirm.verb.delete"),
                    class_name="topic-delete",
                ),
            ),
            width="100%",
        ),
        size="1",
        width="100%",
    )


@app_page("/conversations/[id]/topics", "Topics", on_load=[TopicsState.load_header, TopicsState.load])
def conversation_topics_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.input(name="seed", placeholder=t("conversations.topic_seed"), id="topic-seed", width="100%"),
            rx.text_area(name="prompt", placeholder=t("conversations.topic_prompt"), width="100%"),
            rx.hstack(
                rx.text(t("conversations.topic_period"), size="1"),
                rx.input(name="from", type="date", size="1", **outline(TopicsState.error_field, "active_from")),
                rx.input(name="to", type="date", size="1", **outline(TopicsState.error_field, "active_to")),
                align="center",
                wrap="wrap",
            ),
            field_error(TopicsState.error, "topic-error"),
            rx.button(rx.icon("plus", size=14), t("conversations.add_topic"), type="submit", id="topic-add"),
            width="100%",
        ),
        on_submit=TopicsState.create,
        reset_on_submit=True,
    )
    rotation = rx.card(
        rx.vstack(
            rx.text(t("conversations.rotation_hint"), size="2", color_scheme="gray"),
            rx.hstack(
                rx.segmented_control.root(
                    rx.segmented_control.item(t("conversations.strategy_rotate"), value="rotate"),
                    rx.segmented_control.item(t("conversations.strategy_random"), value="random"),
                    value=TopicsState.strategy,
                    on_change=TopicsState.set_strategy,
                    size="1",
                    disabled=~AuthState.can_manage,
                    id="topic-strategy",
                ),
                rx.text(t("conversations.refresh_every"), size="2"),
                rx.input(
                    value=TopicsState.refresh_minutes,
                    on_change=TopicsState.set_refresh_minutes,
                    type="number",
                    min="1",
                    max="10080",
                    width="6em",
                    size="1",
                    disabled=~AuthState.can_manage,
                    id="topic-refresh",
                ),
                rx.text(t("conversations.minutes"), size="2"),
                rx.cond(
                    AuthState.can_manage,
                    rx.button(t("common.save"), on_click=TopicsState.save_rotation, size="1", id="topic-rotation-save"),
                ),
                align="center",
                wrap="wrap",
            ),
            field_error(TopicsState.rotation_error, "topic-rotation-error"),
            width="100%",
        ),
        width="100%",
    )
    return conversation_page(
        "topics",
        "page.conversation_topics.title",
        rx.vstack(
            rotation,
            rx.cond(AuthState.can_manage, rx.card(form, width="100%")),
            rx.cond(
                ~TopicsState.active & (TopicsState.topics.length() > 0),
                rx.text(t("conversations.topics_paused"), size="1", color_scheme="gray", id="topics-paused"),
            ),
            rx.vstack(rx.foreach(TopicsState.topics, _topic), width="100%", id="topics"),
            confirm_dialog(TopicsState.confirm, TopicsState.delete, TopicsState.cancel_delete, "topic"),
            width="100%",
        ),
    )
