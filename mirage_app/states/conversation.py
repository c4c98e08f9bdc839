"""The conversation being viewed under `/conversations/[id]/…`: its header, tabs and live feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import reflex as rx

from mirage_app.i18n import formats
from mirage_app.logic import waits
from mirage_app.services import conversations
from mirage_app.states.auth import AuthState
from mirage_app.states.bubbles import Bubble, bubble


@dataclass(frozen=True)
class RoundRow:
    state: str  # raw value, picks the badge colour
    state_label: str
    turns: str  # "done/planned"
    speakers: str
    started: str


class ConversationState(AuthState):
    conversation_id: str = ""
    name: str = ""
    mode: str = ""
    active: bool = False
    archived: bool = False  # kept for its history: read-only, cannot be switched on
    found: bool = True
    feed: list[Bubble] = []
    rounds: list[RoundRow] = []
    error_field: str = ""  # the input a service error is about ("sat.evening_end", "min_delay_s"), marked red
    group_state: str = ""  # a group conversation's WhatsApp group: pending | active | failed | closed ("" for others)
    group_line: str = ""  # its subject, members and, when refused, Evolution's reason

    @rx.var
    def mode_label(self) -> str:
        return formats.label(self.tr, "conversations.mode", self.mode)

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
        self.name, self.mode, self.active, self.archived = view.name, view.mode, view.active, view.archived
        self._load_group()
        return self._load_live()

    def _load_group(self) -> None:
        loaded = self._call(conversations.group_status, self.conversation_id)
        group = loaded.value if loaded.ok else None
        self.group_state = group.state if group else ""
        if group is None:
            self.group_line = ""
            return
        line = self.tr["conversations.group.line"].format(subject=group.subject, members=group.members)
        state = formats.label(self.tr, "conversations.group.state", group.state)
        self.group_line = f"{line} · {state}" + (f": {group.error}" if group.error else "")

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
        now = datetime.now(UTC)
        backend = self._backend_origin()
        self.feed = [
            bubble(
                self.tr,
                m,
                backend=backend,
                stamp=lambda when: self.stamp(when, seconds=True, now=now),
                wait=waits.message_line(
                    self.tr,
                    m.status,
                    m.wait_reason,
                    m.wait_until,
                    m.send_after,
                    m.error,
                    now,
                    lambda when: self.stamp(when, now=now),
                ),
            )
            for m in messages
        ]
        self.rounds = [
            RoundRow(
                state=r.state,
                state_label=formats.label(self.tr, "conversations.round", r.state),
                turns=f"{r.turns_done}/{r.planned_turns}",
                speakers=" ↔ ".join(r.speakers),
                started=self.stamp(r.started_at, now=now),
            )
            for r in rounds
        ]
        return None

    @rx.event
    def refresh_live(self, _tick=None):
        if self.group_state == "pending":  # the engine creates it on WhatsApp within a minute of switching on
            self._load_group()
        return self._load_live()

    @rx.event
    def toggle_active(self, value: bool):
        fn = conversations.activate if value else conversations.deactivate
        toggled = self._call(fn, self.conversation_id)
        if not toggled.ok:
            return toggled.feedback
        self.active = toggled.value.active
        self._load_group()
        return rx.toast.success(self.tr["conversations.activated" if self.active else "conversations.paused"])
