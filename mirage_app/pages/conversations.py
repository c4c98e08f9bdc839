"""`/conversations`: list, create, activate/deactivate and delete (after confirming) warming conversations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.conversation import impact_view
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.i18n import formats
from mirage_app.services import conversations
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.ui import t

MODES = ["pair", "round_robin", "random", "group"]
# Columns a phone leaves out (the conversation's own pages show them): name, mode, on/off and delete fit at 390 px.
WIDE_ONLY = {"display": rx.breakpoints(initial="none", sm="table-cell")}


@dataclass(frozen=True)
class ConversationRow:
    id: str
    name: str
    mode: str  # its words, in the page's language
    active: bool
    participants: int
    rounds_today: int
    running: bool  # a round is under way right now
    next_round: str
    archived: bool


class ConversationsState(ConfirmDelete, AuthState):
    rows: list[ConversationRow] = []
    loaded: bool = False
    creating: bool = False
    create_error: str = ""
    show_archived: bool = False  # the archived conversations instead of the working ones

    @rx.event
    def load(self, _tick=None):
        listed = self._call(conversations.list_conversations, archived=self.show_archived)
        if not listed.ok:
            return listed.feedback
        now = datetime.now(UTC)
        self.rows = [
            ConversationRow(
                id=str(c.id),
                name=c.name,
                mode=formats.label(self.tr, "conversations.mode", c.mode),
                active=c.active,
                participants=c.participants,
                rounds_today=c.rounds_today,
                running=c.running_round,
                next_round=self.stamp(c.next_due_at if c.active else None, now=now),
                archived=c.archived,
            )
            for c in listed.value
        ]
        self.loaded = True
        return None

    @rx.event
    def set_show_archived(self, value: bool):
        self.show_archived = value
        return self.load()

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

    def _impact(self, target_id: str):
        """An active conversation is refused: pause it first."""
        return self._call(conversations.conversation_impact, target_id)

    def _view(self, impact, target_id: str):
        return impact_view(self.tr, impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(conversations.delete_conversation, target_id)
        self.load()
        if not deleted.ok:
            return deleted.feedback
        done = "conversations.archived_done" if deleted.value.archive else "conversations.deleted"
        return rx.toast.success(self.tr[done], id="service-ok")


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
                    rx.select.root(
                        rx.select.trigger(id="conversation-mode"),
                        rx.select.content(
                            *[rx.select.item(t(f"conversations.mode.{mode}"), value=mode) for mode in MODES]
                        ),
                        name="mode",
                        default_value="pair",
                    ),
                    rx.text(t("conversations.mode_hint"), size="1", color_scheme="gray"),
                    field_error(ConversationsState.create_error, "conversation-error"),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button(
                                t("common.cancel"),
                                type="button",
                                variant="soft",
                                color_scheme="gray",
                                id="conversation-cancel",
                            )
                        ),
                        rx.button(t("common.create"), type="submit", id="conversation-create"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
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
        rx.table.cell(r.participants, **WIDE_ONLY),
        rx.table.cell(
            rx.hstack(
                rx.text(r.rounds_today),
                rx.cond(r.running, rx.badge(t("conversations.running"), color_scheme="cyan")),
            ),
            **WIDE_ONLY,
        ),
        rx.table.cell(r.next_round, white_space="nowrap", **WIDE_ONLY),
        rx.table.cell(
            rx.cond(
                r.archived,
                rx.badge(t("conversations.archived_badge"), color_scheme="gray", variant="soft"),
                rx.switch(
                    checked=r.active,
                    on_change=lambda v: ConversationsState.toggle(r.id, v),
                    disabled=~AuthState.can_manage,
                ),
            )
        ),
        rx.table.cell(
            rx.hstack(
                *[
                    rx.link(
                        rx.icon_button(rx.icon(icon, size=14), size="1", variant="ghost"),
                        href="/conversations/" + r.id + "/" + tab,
                        aria_label=t(f"conversations.tab.{tab}"),
                        display=rx.breakpoints(initial="none", sm="inline-flex"),
                    )
                    for tab, icon in (
                        ("schedule", "calendar-clock"),
                        ("participants", "users"),
                        ("topics", "lightbulb"),
                    )
                ],
                rx.cond(
                    AuthState.can_manage & ~r.archived,
                    rx.icon_button(
                        rx.icon("trash-2", size=14),
                        size="1",
                        variant="ghost",
                        color_scheme="red",
                        on_click=ConversationsState.ask_delete(r.id),
                        aria_label=t("confirm.verb.delete"),
                        class_name="conversation-delete",
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
                rx.table.column_header_cell(t("conversations.name")),
                rx.table.column_header_cell(t("conversations.mode")),
                *[
                    rx.table.column_header_cell(t(k), **WIDE_ONLY)
                    for k in ("conversations.participants", "conversations.rounds_today", "conversations.next")
                ],
                rx.table.column_header_cell(t("conversations.active")),
                rx.table.column_header_cell(""),
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
            rx.hstack(
                rx.hstack(
                    rx.switch(
                        checked=ConversationsState.show_archived,
                        on_change=ConversationsState.set_show_archived,
                        id="conversations-show-archived",
                    ),
                    rx.text(t("conversations.show_archived"), size="2"),
                    align="center",
                ),
                rx.spacer(),
                rx.cond(AuthState.can_manage & ~ConversationsState.show_archived, _create_dialog()),
                width="100%",
                align="center",
            ),
            rx.cond(
                ConversationsState.rows.length() > 0,
                table,
                rx.cond(
                    ConversationsState.loaded,
                    rx.cond(
                        ConversationsState.show_archived,
                        rx.text(t("conversations.archived_empty"), size="2", color_scheme="gray"),
                        empty_state("messages-square", "conversations.empty_title", "conversations.empty_hint"),
                    ),
                ),
            ),
            confirm_dialog(
                ConversationsState.confirm, ConversationsState.delete, ConversationsState.cancel_delete, "conversation"
            ),
            rx.moment(interval=5000, on_change=ConversationsState.load, display="none"),
            spacing="4",
            width="100%",
        ),
    )
