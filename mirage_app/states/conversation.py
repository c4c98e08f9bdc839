"""The conversation being viewed under `/conversations/[id]/…`: its header, tabs and live feed."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from mirage_app.services import conversations
from mirage_app.states.auth import AuthState


@dataclass(frozen=True)
class FeedMessage:
    at: str
    sender: str
    recipient: str
    body: str
    status: str
    phase: str


@dataclass(frozen=True)
class RoundRow:
    state: str
    turns: str  # "done/planned"
    speakers: str
    started: str


class ConversationState(AuthState):
    conversation_id: str = ""
    name: str = ""
    mode: str = ""
    active: bool = False
    found: bool = True
    feed: list[FeedMessage] = []
    rounds: list[RoundRow] = []

    def _id_from_url(self) -> str:
        parts = self.router.url.path.strip("/").split("/")
        return parts[1] if len(parts) >= 2 else ""

    @rx.event
    def load_header(self):
        self.conversation_id = self._id_from_url()
        loaded = self._call(conversations.get_conversation, self.conversation_id)
        self.found = loaded.ok
        if not loaded.ok:
            return loaded.feedback
        view = loaded.value
        self.name, self.mode, self.active = view.name, view.mode, view.active
        return self._load_live()

    def _load_live(self):
        if not self.found or self.conversation_id != self._id_from_url():
            return None  # the header (on_load) sets the conversation before the live panel reads it
        conversation_id = self.conversation_id

        def read(actor):
            return (
                conversations.recent_messages(actor, conversation_id, limit=20),
                conversations.list_rounds(actor, conversation_id, limit=8),
            )

        loaded = self._call(read)
        if not loaded.ok:
            return None  # deleted or signed out meanwhile: the next page load says so
        messages, rounds = loaded.value
        self.feed = [
            FeedMessage(
                at=m["created_at"].strftime("%d/%m %H:%M:%S"),
                sender=m["from_label"] or "—",
                recipient=m["to_label"] or "—",
                body=m["body"] or "…",
                status=m["status"],
                phase=m["phase"] or "",
            )
            for m in messages
        ]
        self.rounds = [
            RoundRow(
                state=r.state,
                turns=f"{r.turns_done}/{r.planned_turns}",
                speakers=" ↔ ".join(r.speakers),
                started=r.started_at.strftime("%d/%m %H:%M") if r.started_at else "—",
            )
            for r in rounds
        ]
        return None

    @rx.event
    def refresh_live(self, _tick=None):
        return self._load_live()

    @rx.event
    def toggle_active(self, value: bool):
        fn = conversations.activate if value else conversations.deactivate
        toggled = self._call(fn, self.conversation_id)
        if not toggled.ok:
            return toggled.feedback
        self.active = toggled.value.active
        return rx.toast.success(self.tr["conversations.activated" if self.active else "conversations.paused"])
