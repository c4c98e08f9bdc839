"""`/conversations/[id]/schedule`: the weekly 7×3 grid — days × morning/afternoon/evening, windows, rounds, pauses."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.conversation import conversation_page
from mirage_app.components.layout import app_page
from mirage_app.services import conversations
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

PARTS = ("morning", "afternoon", "evening")


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
        """The service's day dict; raises ValueError when a number field is not a number."""
        return {
            "day": self.day,
            **{f"{p}_{k}": getattr(self, f"{p}_{k}") for p in PARTS for k in ("enabled", "start", "end")},
            "max_rounds_per_window": int(self.max_rounds_per_window),
            "pause_min": int(self.pause_min),
            "pause_max": int(self.pause_max),
        }


def _window_text(window: dict | None, tr: dict[str, str]) -> str:
    if not window:
        return "—"
    start, end = (v.strftime("%H:%M") if hasattr(v, "strftime") else str(v) for v in (window["start"], window["end"]))
    return f"{tr['weekday.' + window['day']]} {start}–{end}"


class ScheduleState(ConversationState):
    days: list[ScheduleDay] = []
    error: str = ""
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
        self.window_now, self.window_next = _window_text(window["open"], self.tr), _window_text(window["next"], self.tr)
        self.error = ""
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
        except ValueError:
            self.error = self.tr["conversations.numbers_only"]
            return None
        saved = self._call(
            conversations.set_schedule,
            self._id_from_url(),
            payload,
            error_to="error",
            success="conversations.schedule_saved",
        )
        if saved.ok:
            self.load()
        return saved.feedback


def _cell(index: rx.Var, day: rx.Var[ScheduleDay], part: str) -> rx.Component:
    enabled = getattr(day, f"{part}_enabled")
    return rx.table.cell(
        rx.vstack(
            rx.checkbox(checked=enabled, on_change=lambda _v: ScheduleState.toggle(index, part)),
            rx.cond(
                enabled,
                rx.hstack(
                    rx.input(
                        type="time",
                        value=getattr(day, f"{part}_start"),
                        size="1",
                        width="92px",
                        on_change=lambda v: ScheduleState.set_cell(index, f"{part}_start", v),
                    ),
                    rx.input(
                        type="time",
                        value=getattr(day, f"{part}_end"),
                        size="1",
                        width="92px",
                        on_change=lambda v: ScheduleState.set_cell(index, f"{part}_end", v),
                    ),
                    spacing="1",
                ),
            ),
            spacing="1",
        ),
        class_name=rx.cond(enabled, "slot slot-on", "slot"),
    )


def _row(day: rx.Var[ScheduleDay], index: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(day.label, weight="medium")),
        *[_cell(index, day, p) for p in PARTS],
        rx.table.cell(
            rx.input(
                type="number",
                value=day.max_rounds_per_window,
                size="1",
                width="64px",
                on_change=lambda v: ScheduleState.set_cell(index, "max_rounds_per_window", v),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.input(
                    type="number",
                    value=day.pause_min,
                    size="1",
                    width="64px",
                    on_change=lambda v: ScheduleState.set_cell(index, "pause_min", v),
                ),
                rx.text("–"),
                rx.input(
                    type="number",
                    value=day.pause_max,
                    size="1",
                    width="64px",
                    on_change=lambda v: ScheduleState.set_cell(index, "pause_max", v),
                ),
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
                    rx.badge(t("conversations.window_now"), ": ", ScheduleState.window_now, color_scheme="grass"),
                    rx.badge(t("conversations.window_next"), ": ", ScheduleState.window_next, variant="outline"),
                    wrap="wrap",
                ),
                rx.scroll_area(grid, type="auto", scrollbars="horizontal"),
                rx.text(t("conversations.schedule_hint"), size="1", color_scheme="gray"),
                field_error(ScheduleState.error, "schedule-error"),
                rx.button(t("common.save"), on_click=ScheduleState.save, id="schedule-save"),
                spacing="3",
                width="100%",
            ),
        ),
    )
