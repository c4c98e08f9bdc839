"""`/conversations/[id]/schedule`: the weekly 7×3 grid — days × morning/afternoon/evening, windows, rounds, pauses."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.conversation import conversation_page
from mirage_app.components.field_errors import outline
from mirage_app.components.layout import app_page
from mirage_app.logic.form_fields import NOT_A_NUMBER, NotANumber, labelled, numbers
from mirage_app.services import conversations
from mirage_app.states.auth import AuthState
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

PARTS = ("morning", "afternoon", "evening")
WHOLE_NUMBERS = ("max_rounds_per_window", "pause_min", "pause_max")


@dataclass(frozen=True)
class ScheduleDay:
    """One editable row of the grid. Numbers stay as typed (text inputs) until Save parses them."""

    day: str
    label: str
    morning_enabled: bool
    morning_start: str
    morning_end: str
    afternoon_enabled: bool
    afternoon_start: str
    afternoon_end: str
    evening_enabled: bool
    evening_start: str
    evening_end: str
    max_rounds_per_window: str
    pause_min: str
    pause_max: str

    def as_payload(self) -> dict:
        """The service's day dict; raises `NotANumber` naming the first number cell that is not one."""
        try:
            parsed = numbers({key: getattr(self, key) for key in WHOLE_NUMBERS})
        except NotANumber as exc:
            raise NotANumber(f"{self.day}.{exc.field}") from None
        return {
            "day": self.day,
            **{f"{p}_{k}": getattr(self, f"{p}_{k}") for p in PARTS for k in ("enabled", "start", "end")},
            **parsed,
        }


def _window_text(window: dict | None, tr: dict[str, str], none_key: str) -> str:
    if not window:
        return tr[none_key]
    start, end = (v.strftime("%H:%M") if hasattr(v, "strftime") else str(v) for v in (window["start"], window["end"]))
    return f"{tr['weekday.' + window['day']]} {start}–{end}"


def cell_name(field: str, tr: dict[str, str]) -> str:
    """Where an error is, in words: "sat.evening_end" → "Saturday · Evening (end)"; "" for a field not in the grid."""
    day, _, cell = field.partition(".")
    if f"weekday.{day}" not in tr:
        return ""
    part, _, edge = cell.partition("_")
    if part in PARTS:
        where = f"{tr[f'daypart.{part}']} ({tr.get(f'conversations.cell.{edge}', '')})"
    else:
        where = tr.get(f"conversations.cell.{cell}", "")
    return f"{tr[f'weekday.{day}']} · {where}" if where else tr[f"weekday.{day}"]


class ScheduleState(ConversationState):
    days: list[ScheduleDay] = []
    error: str = ""
    window_open: bool = False
    window_now: str = ""
    window_next: str = ""

    @rx.event
    def load(self):
        conversation_id = self._id_from_url()

        def read(actor):
            return (
                conversations.get_schedule(actor, conversation_id),
                conversations.next_window(actor, conversation_id),
            )

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        days, window = loaded.value
        self.days = [
            ScheduleDay(
                label=self.tr[f"weekday.{d.day}"],
                **{
                    **d.as_dict(),
                    **{k: str(getattr(d, k)) for k in ("max_rounds_per_window", "pause_min", "pause_max")},
                },
            )
            for d in days
        ]
        self.window_open = window["open"] is not None
        self.window_now = _window_text(window["open"], self.tr, "conversations.window_closed")
        self.window_next = _window_text(window["next"], self.tr, "conversations.window_none")
        self.error, self.error_field = "", ""
        return None

    @rx.event
    def set_cell(self, index: int, key: str, value: str):
        self.days = [replace(d, **{key: value}) if i == index else d for i, d in enumerate(self.days)]

    @rx.event
    def toggle(self, index: int, part: str):
        key = f"{part}_enabled"
        self.days = [replace(d, **{key: not getattr(d, key)}) if i == index else d for i, d in enumerate(self.days)]

    @rx.event
    def save(self):
        try:
            payload = [d.as_payload() for d in self.days]
        except NotANumber as exc:
            self.error_field = exc.field
            self.error = labelled(self.tr[NOT_A_NUMBER], cell_name(exc.field, self.tr))
            return None
        saved = self._call(
            conversations.set_schedule,
            self._id_from_url(),
            payload,
            error_to="error",
            success="conversations.schedule_saved",
        )
        self.error_field = saved.error_field or ""
        if saved.ok:
            self.load()
        else:
            self.error = labelled(self.error, cell_name(self.error_field, self.tr))
        return saved.feedback


def _number_input(index: rx.Var, day: rx.Var[ScheduleDay], key: str) -> rx.Component:
    return rx.input(
        type="number",
        value=getattr(day, key),
        size="1",
        width="64px",
        on_change=lambda v: ScheduleState.set_cell(index, key, v),
        disabled=~AuthState.can_manage,
        aria_label=t(f"conversations.cell.{key}"),
        **outline(ScheduleState.error_field, day.day + f".{key}", f"schedule-{key}"),
    )


def _time_input(index: rx.Var, day: rx.Var[ScheduleDay], part: str, edge: str) -> rx.Component:
    key = f"{part}_{edge}"
    return rx.input(
        type="time",
        value=getattr(day, key),
        size="1",
        width="92px",
        on_change=lambda v: ScheduleState.set_cell(index, key, v),
        disabled=~AuthState.can_manage,
        **outline(ScheduleState.error_field, day.day + f".{key}", f"schedule-{key}"),
    )


def _cell(index: rx.Var, day: rx.Var[ScheduleDay], part: str) -> rx.Component:
    enabled = getattr(day, f"{part}_enabled")
    return rx.table.cell(
        rx.vstack(
            rx.checkbox(
                checked=enabled,
                on_change=lambda _v: ScheduleState.toggle(index, part),
                disabled=~AuthState.can_manage,
            ),
            rx.cond(
                enabled,
                rx.hstack(_time_input(index, day, part, "start"), _time_input(index, day, part, "end"), spacing="1"),
            ),
            spacing="1",
        ),
        class_name=rx.cond(enabled, "slot slot-on", "slot"),
    )


def _row(day: rx.Var[ScheduleDay], index: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(day.label, weight="medium")),
        *[_cell(index, day, p) for p in PARTS],
        rx.table.cell(_number_input(index, day, "max_rounds_per_window")),
        rx.table.cell(
            rx.hstack(
                _number_input(index, day, "pause_min"),
                rx.text("–"),
                _number_input(index, day, "pause_max"),
                align="center",
                spacing="1",
            )
        ),
    )


@app_page(
    "/conversations/[id]/schedule", "Conversation schedule", on_load=[ScheduleState.load_header, ScheduleState.load]
)
def conversation_schedule_page() -> rx.Component:
    grid = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(""),
                *[rx.table.column_header_cell(t(f"daypart.{p}")) for p in PARTS],
                rx.table.column_header_cell(t("conversations.rounds_per_window")),
                rx.table.column_header_cell(t("conversations.pause")),
            )
        ),
        rx.table.body(rx.foreach(ScheduleState.days, _row)),
        size="1",
        width="100%",
        id="schedule-grid",
    )
    return conversation_page(
        "schedule",
        "page.conversation_schedule.title",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.cond(
                        ScheduleState.window_open,
                        rx.badge(t("conversations.window_now"), ": ", ScheduleState.window_now, color_scheme="grass"),
                        rx.badge(ScheduleState.window_now, color_scheme="gray", variant="soft"),
                    ),
                    rx.badge(
                        t("conversations.window_next"),
                        ": ",
                        ScheduleState.window_next,
                        color_scheme="gray",
                        variant="outline",
                    ),
                    wrap="wrap",
                    id="schedule-window",
                ),
                rx.text(
                    t("conversations.schedule_zone"),
                    " ",
                    rx.text.strong(AuthState.zone_label),
                    ". ",
                    t("conversations.schedule_hint"),
                    size="1",
                    color_scheme="gray",
                    id="schedule-zone",
                ),
                rx.scroll_area(grid, type="auto", scrollbars="horizontal"),
                field_error(ScheduleState.error, "schedule-error"),
                rx.cond(
                    AuthState.can_manage,
                    rx.button(t("common.save"), on_click=ScheduleState.save, id="schedule-save"),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        wide=True,
    )
