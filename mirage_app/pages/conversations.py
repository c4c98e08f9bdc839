"""`/conversations`: list, create, activate/deactivate warming conversations."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.services import conversations
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t

MODES = ["pair", "round_robin", "random"]


@dataclass(frozen=True)
class ConversationRow:
    id: str
    name: str
    mode: str
    active: bool
    participants: int
    rounds_today: int
    running: bool  # a round is under way right now
    next_round: str


class ConversationsState(AuthState):
    rows: list[ConversationRow] = []
    loaded: bool = False
    creating: bool = False
    create_error: str = ""

    @rx.event
    def load(self, _tick=None):
        listed = self._call(conversations.list_conversations)
        if not listed.ok:
            return listed.feedback
        self.rows = [
            ConversationRow(
                id=str(c.id),
                name=c.name,
                mode=c.mode,
                active=c.active,
                participants=c.participants,
                rounds_today=c.rounds_today,
                running=c.running_round,
                next_round=c.next_due_at.strftime("%d/%m %H:%M") if c.next_due_at and c.active else "—",
            )
            for c in listed.value
        ]
        self.loaded = True
        return None

    @rx.event
    def set_creating(self, is_open: bool):
        self.creating, self.create_error = is_open, ""

    @rx.event
    def create(self, form: dict):
        created = self._call(
            conversations.create_conversation, form.get("name", ""), form.get("mode", "pair"), error_to="create_error"
        )
        if not created.ok:
            return created.feedback
        self.creating = False
        return rx.redirect(f"/conversations/{created.value.id}/participants")

    @rx.event
    def toggle(self, conversation_id: str, value: bool):
        fn = conversations.activate if value else conversations.deactivate
        toggled = self._call(fn, conversation_id)
        self.load()
        return toggled.feedback

    @rx.event
    def delete(self, conversation_id: str):
        deleted = self._call(conversations.delete_conversation, conversation_id, success="conversations.deleted")
        self.load()
        return deleted.feedback


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), t("conversations.new"), id="conversation-new")),
        rx.dialog.content(
            rx.dialog.title(t("conversations.new")),
            rx.form(
                rx.vstack(
                    rx.text(t("conversations.name"), size="2", weight="medium"),
                    rx.input(name="name", id="conversation-name-input", width="100%"),
                    rx.text(t("conversations.mode"), size="2", weight="medium"),
                    rx.select(MODES, name="mode", default_value="pair", id="conversation-mode"),
                    rx.text(t("conversations.mode_hint"), size="1", color_scheme="gray"),
                    field_error(ConversationsState.create_error, "conversation-error"),
                    rx.button(t("common.create"), type="submit", id="conversation-create"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=ConversationsState.create,
            ),
        ),
        open=ConversationsState.creating,
        on_open_change=ConversationsState.set_creating,
    )


def _row(r: rx.Var[ConversationRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r.name, href="/conversations/" + r.id + "/settings", weight="medium")),
        rx.table.cell(rx.badge(r.mode, variant="outline")),
        rx.table.cell(r.participants),
        rx.table.cell(
            rx.hstack(
                rx.text(r.rounds_today),
                rx.cond(r.running, rx.badge(t("conversations.running"), color_scheme="cyan")),
            )
        ),
        rx.table.cell(r.next_round),
        rx.table.cell(
            rx.switch(
                checked=r.active,
                on_change=lambda v: ConversationsState.toggle(r.id, v),
                disabled=~AuthState.can_manage,
            )
        ),
        rx.table.cell(
            rx.hstack(
                *[
                    rx.link(
                        rx.icon_button(rx.icon(icon, size=14), size="1", variant="ghost"),
                        href="/conversations/" + r.id + "/" + tab,
                        aria_label=tab,
                    )
                    for tab, icon in (
                        ("schedule", "calendar-clock"),
                        ("participants", "users"),
                        ("topics", "lightbulb"),
                    )
                ],
                rx.cond(
                    AuthState.can_manage,
                    rx.icon_button(
                        rx.icon("trash-2", size=14),
                        size="1",
                        variant="ghost",
                        color_scheme="red",
                        on_click=ConversationsState.delete(r.id),
                        aria_label="delete",
                    ),
                ),
            )
        ),
    )


@app_page("/conversations", "Conversations", on_load=ConversationsState.load)
def conversations_page() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k))
                    for k in (
                        "conversations.name",
                        "conversations.mode",
                        "conversations.participants",
                        "conversations.rounds_today",
                        "conversations.next",
                        "conversations.active",
                        "",
                    )
                ]
            )
        ),
        rx.table.body(rx.foreach(ConversationsState.rows, _row)),
        width="100%",
        id="conversations-table",
    )
    return page_layout(
        "page.conversations.title",
        "page.conversations.subtitle",
        rx.vstack(
            rx.hstack(rx.spacer(), rx.cond(AuthState.can_manage, _create_dialog()), width="100%"),
            rx.cond(
                ConversationsState.rows.length() > 0,
                table,
                rx.cond(
                    ConversationsState.loaded,
                    empty_state("messages-square", "conversations.empty_title", "conversations.empty_hint"),
                ),
            ),
            rx.moment(interval=5000, on_change=ConversationsState.load, display="none"),
            spacing="4",
            width="100%",
        ),
    )
