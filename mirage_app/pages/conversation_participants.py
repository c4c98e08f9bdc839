"""`/conversations/[id]/participants`: which numbers (and consenting humans) talk, in what order, and the pairs."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.conversation import conversation_page, impact_view
from mirage_app.components.layout import app_page
from mirage_app.i18n import formats
from mirage_app.logic import event_args
from mirage_app.services import conversations, instances
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.conversation import ConversationState
from mirage_app.states.rows import SelectOption
from mirage_app.states.ui import t

PAIR_SIDES = {"pair_a": event_args.uuid_or_empty, "pair_b": event_args.uuid_or_empty}  # the two pickers of a new pair


@dataclass(frozen=True)
class ParticipantRow:
    id: str
    is_bot: bool  # a number of ours; otherwise a consenting human contact
    label: str
    wa_number: str
    status: str  # in words: the number's connection, or the contact's consent
    connected: bool  # a human, or a number that can speak now
    order: int  # 1 = speaks first
    number_id: str  # "" for a human


@dataclass(frozen=True)
class PairingRow:
    number_a_id: str
    number_b_id: str
    label: str


class ParticipantsState(ConfirmDelete, ConversationState):
    participants: list[ParticipantRow] = []
    pairings: list[PairingRow] = []
    available_numbers: list[SelectOption] = []
    pair_a: str = ""
    pair_b: str = ""

    def _status_words(self, kind: str, status: str) -> str:
        return formats.label(self.tr, "status" if kind == "bot" else "conversations.consent", status)

    @rx.event
    def load(self):
        conversation_id = self._id_from_url()

        def read(actor):
            return (
                conversations.list_participants(actor, conversation_id),
                conversations.list_pairings(actor, conversation_id),
                instances.list_instances(actor),
            )

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        participants, pairings, numbers = loaded.value
        self.participants = [
            ParticipantRow(
                id=str(p.id),
                is_bot=p.kind == "bot",
                label=p.label,
                wa_number=p.wa_number or "—",
                status=self._status_words(p.kind, p.status),
                connected=p.kind != "bot" or p.status == "connected",
                order=i + 1,
                number_id=str(p.number_id or ""),
            )
            for i, p in enumerate(participants)
        ]
        self.pairings = [
            PairingRow(str(p.number_a_id), str(p.number_b_id), f"{p.label_a} ↔ {p.label_b}") for p in pairings
        ]
        used = {p.number_id for p in self.participants}
        self.available_numbers = [
            SelectOption(str(n.id), self._option_label(n.label, str(n.status)))
            for n in numbers
            if str(n.id) not in used
        ]
        return None

    def _option_label(self, label: str, status: str) -> str:
        """ "Conv A (Conectado)"; a number that is not connected says it won't speak until it is."""
        words = f"{label} ({formats.label(self.tr, 'status', status)})"
        return words if status == "connected" else f"{words} — {self.tr['conversations.picker_offline']}"

    @rx.event
    def add_number(self, form: dict):
        if not form.get("number_id"):
            return None
        added = self._call(
            conversations.add_participant,
            self._id_from_url(),
            number_id=form["number_id"],
            success="conversations.participant_added",
        )
        self.load()
        if added.ok and added.value.status != "connected":
            # it joins, but a number that is not connected cannot speak: say so now, not when nothing happens
            status = self._status_words("bot", added.value.status).lower()
            warning = self.tr["conversations.participant_offline"].format(name=added.value.label, status=status)
            return rx.toast.warning(warning, id="participant-offline", duration=10_000)
        return added.feedback

    def _impact(self, target_id: str):
        return self._call(conversations.participant_impact, self._id_from_url(), target_id)

    def _view(self, impact, target_id: str):
        return impact_view(self.tr, impact, target_id, verb="remove")

    def _delete(self, target_id: str):
        """Removes the participant from the conversation (the number itself stays)."""
        removed = self._call(conversations.remove_participant, self._id_from_url(), target_id)
        self.load()
        if not removed.ok:
            return removed.feedback
        paused = any(d.kind == "conversation" for d in removed.value.dependents)
        if paused:
            self.active = False
        key = "conversations.participant_removed_paused" if paused else "conversations.participant_removed"
        return rx.toast.success(self.tr[key], id="service-ok")

    @rx.event
    def move(self, participant_id: str, delta: int):
        ids = [p.id for p in self.participants]
        i = ids.index(participant_id)
        j = max(0, min(len(ids) - 1, i + delta))
        ids[i], ids[j] = ids[j], ids[i]
        reordered = self._call(conversations.reorder_participants, self._id_from_url(), ids)
        self.load()
        return reordered.feedback

    @rx.event
    def set_pair(self, side: str, value: str):
        change = event_args.accepted(PAIR_SIDES, f"pair_{side}" if isinstance(side, str) else None, value)
        if change is None:
            return rx.toast.error(self.tr["error.generic"], id="service-error")
        setattr(self, *change)  # pair_a or pair_b only
        return None

    def _save_pairs(self, pairs: list[tuple[str, str]], success: str | None = None):
        saved = self._call(conversations.set_pairings, self._id_from_url(), pairs, success=success)
        self.load()
        return saved.feedback

    @rx.event
    def add_pair(self):
        pairs = [(p.number_a_id, p.number_b_id) for p in self.pairings] + [(self.pair_a, self.pair_b)]
        return self._save_pairs(pairs, success="conversations.pairs_saved")

    @rx.event
    def remove_pair(self, number_a_id: str, number_b_id: str):
        pairs = [
            (p.number_a_id, p.number_b_id)
            for p in self.pairings
            if (p.number_a_id, p.number_b_id) != (number_a_id, number_b_id)
        ]
        return self._save_pairs(pairs)


def _participant(p: rx.Var[ParticipantRow]) -> rx.Component:
    return rx.hstack(
        rx.badge(p.order, variant="outline", class_name="mono"),
        rx.icon(rx.cond(p.is_bot, "smartphone", "user"), size=16),
        rx.vstack(
            rx.text(p.label, weight="medium"),
            rx.text(p.wa_number, size="1", color_scheme="gray", class_name="mono"),
            spacing="0",
        ),
        rx.badge(p.status, variant="soft", color_scheme=rx.cond(p.connected, "grass", "amber")),
        rx.spacer(),
        rx.cond(
            AuthState.can_manage,
            rx.hstack(
                rx.icon_button(
                    rx.icon("arrow-up", size=14),
                    size="1",
                    variant="ghost",
                    on_click=ParticipantsState.move(p.id, -1),
                    aria_label=t("conversations.move_up"),
                ),
                rx.icon_button(
                    rx.icon("arrow-down", size=14),
                    size="1",
                    variant="ghost",
                    on_click=ParticipantsState.move(p.id, 1),
                    aria_label=t("conversations.move_down"),
                ),
                rx.icon_button(
                    rx.icon("x", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=ParticipantsState.ask_delete(p.id),
                    aria_label=t("confirm.verb.remove"),
                    class_name="participant-remove",
                ),
            ),
        ),
        width="100%",
        align="center",
        class_name="participant-row",
    )


def _pair_picker(side: str) -> rx.Component:
    return rx.el.select(
        rx.el.option("—", value=""),
        rx.foreach(
            ParticipantsState.participants,
            lambda p: rx.cond(p.is_bot, rx.el.option(p.label, value=p.number_id)),
        ),
        value=getattr(ParticipantsState, f"pair_{side}"),
        on_change=lambda v: ParticipantsState.set_pair(side, v),
        class_name="native-select native-select-sm",
    )


@app_page(
    "/conversations/[id]/participants", "Participants", on_load=[ParticipantsState.load_header, ParticipantsState.load]
)
def conversation_participants_page() -> rx.Component:
    add = rx.form(
        rx.hstack(
            rx.el.select(
                rx.el.option(t("conversations.pick_number"), value=""),
                rx.foreach(
                    ParticipantsState.available_numbers, lambda option: rx.el.option(option.label, value=option.value)
                ),
                name="number_id",
                class_name="native-select",
                id="participant-number",
            ),
            rx.button(rx.icon("plus", size=14), t("conversations.add_number"), type="submit", id="participant-add"),
            width="100%",
        ),
        on_submit=ParticipantsState.add_number,
        reset_on_submit=True,
    )
    pairs = rx.vstack(
        rx.text(t("conversations.pairs"), weight="medium"),
        rx.text(t("conversations.pairs_hint"), size="1", color_scheme="gray"),
        rx.foreach(
            ParticipantsState.pairings,
            lambda p: rx.hstack(
                rx.text(p.label),
                rx.spacer(),
                rx.cond(
                    AuthState.can_manage,
                    rx.icon_button(
                        rx.icon("x", size=14),
                        size="1",
                        variant="ghost",
                        color_scheme="red",
                        on_click=ParticipantsState.remove_pair(p.number_a_id, p.number_b_id),
                        aria_label=t("confirm.verb.remove"),
                    ),
                ),
                width="100%",
            ),
        ),
        rx.cond(
            AuthState.can_manage,
            rx.hstack(
                _pair_picker("a"),
                rx.text("↔"),
                _pair_picker("b"),
                rx.button(t("conversations.add_pair"), size="1", on_click=ParticipantsState.add_pair),
                align="center",
            ),
        ),
        width="100%",
    )
    return conversation_page(
        "participants",
        "page.conversation_participants.title",
        rx.card(
            rx.vstack(
                rx.text(t("conversations.participants_hint"), size="2", color_scheme="gray"),
                rx.cond(AuthState.can_manage, add),
                rx.vstack(
                    rx.foreach(ParticipantsState.participants, _participant),
                    width="100%",
                    spacing="2",
                    id="participants",
                ),
                rx.cond(ParticipantsState.mode == "pair", rx.box(rx.separator(), pairs, width="100%")),
                confirm_dialog(
                    ParticipantsState.confirm, ParticipantsState.delete, ParticipantsState.cancel_delete, "participant"
                ),
                spacing="3",
                width="100%",
            ),
        ),
    )
