"""The conversation being viewed under `/conversations/[id]/…`: its header, tabs and live feed."""

from __future__ import annotations

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.services import conversations
from mirage_app.states.auth import AuthState


class ConversationState(AuthState):
    conversation_id: str = ""
    name: str = ""
    mode: str = ""
    active: bool = False
    found: bool = True
    feed: list[dict[str, str]] = []
    rounds: list[dict[str, str]] = []

    def _id_from_url(self) -> str:
        parts = self.router.url.path.strip("/").split("/")
        return parts[1] if len(parts) >= 2 else ""

    @rx.event
    def load_header(self):
        self.conversation_id = self._id_from_url()
        view, feedback = self._call(conversations.get_conversation, self.conversation_id)
        self.found = view is not None
        if view is None:
            return feedback
        self.name, self.mode, self.active = view.name, view.mode, view.active
        return self._load_live()

    def _load_live(self):
        actor = self._actor()
        if actor is None or not self.found or self.conversation_id != self._id_from_url():
            return None  # the header (on_load) sets the conversation before the live panel reads it
        try:
            messages = conversations.recent_messages(actor, self.conversation_id, limit=20)
            rounds = conversations.list_rounds(actor, self.conversation_id, limit=8)
        except ServiceError:
            return None  # deleted meanwhile: the next page load says so
        self.feed = [
            {
                "at": m["created_at"].strftime("%d/%m %H:%M:%S"),
                "from": m["from_label"] or "—",
                "to": m["to_label"] or "—",
                "body": m["body"] or "…",
                "status": m["status"],
                "phase": m["phase"] or "",
            }
            for m in messages
        ]
        self.rounds = [
            {
                "state": r.state,
                "turns": f"{r.turns_done}/{r.planned_turns}",
                "speakers": " ↔ ".join(r.speakers),
                "started": r.started_at.strftime("%d/%m %H:%M") if r.started_at else "—",
                "reason": r.end_reason or "",
            }
            for r in rounds
        ]
        return None

    @rx.event
    def refresh_live(self, _tick=None):
        return self._load_live()

    @rx.event
    def toggle_active(self, value: bool):
        fn = conversations.activate if value else conversations.deactivate
        view, feedback = self._call(fn, self.conversation_id)
        if view is not None:
            self.active = view.active
            return rx.toast.success(self.tr["conversations.activated" if view.active else "conversations.paused"])
        return feedback
