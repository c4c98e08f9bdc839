"""`/conversations/[id]/schedule`: the weekly 7×3 grid — days × morning/afternoon/evening, windows, rounds, pauses."""

from __future__ import annotations

import reflex as rx

from mirage_app.base.errors import ServiceError
from mirage_app.components.auth_card import field_error
from mirage_app.components.conversation import conversation_page
from mirage_app.components.layout import app_page
from mirage_app.services import conversations
from mirage_app.states.conversation import ConversationState
from mirage_app.states.ui import t

PARTS = ("morning", "afternoon", "evening")


class ScheduleState(ConversationState):
    days: list[dict[str, str]] = []
    error: str = ""
    window_now: str = ""
    window_next: str = ""

    @rx.event
    def load(self):
        rows, feedback = self._call(conversations.get_schedule, self._id_from_url())
        if rows is None:
            return feedback
        self.days = [
            {
                "day": d.day,
                "label": self.tr[f"weekday.{d.day}"],
                **{f"{p}_enabled": "1" if getattr(d, f"{p}_enabled") else "0" for p in PARTS},
                **{f"{p}_start": getattr(d, f"{p}_start") for p in PARTS},
                **{f"{p}_end": getattr(d, f"{p}_end") for p in PARTS},
                "max_rounds_per_window": str(d.max_rounds_per_window),
                "pause_min": str(d.pause_min),
                "pause_max": str(d.pause_max),
            }
            for d in rows
        ]
        info, _ = self._call(conversations.next_window, self._id_from_url())
        if info:

            def fmt(w) -> str:
                if not w:
                    return "—"
                start, end = (v.strftime("%H:%M") if hasattr(v, "strftime") else str(v) for v in (w["start"], w["end"]))
                return f"{self.tr['weekday.' + w['day']]} {start}–{end}"

            self.window_now, self.window_next = fmt(info["open"]), fmt(info["next"])
        self.error = ""
        return None

    @rx.event
    def set_cell(self, index: int, key: str, value: str):
        days = [dict(d) for d in self.days]
        days[index][key] = value
        self.days = days

    @rx.event
    def toggle(self, index: int, part: str):
        days = [dict(d) for d in self.days]
        days[index][f"{part}_enabled"] = "0" if days[index][f"{part}_enabled"] == "1" else "1"
        self.days = days

    @rx.event
    def save(self):
        try:
            payload = [
                {
                    "day": d["day"],
                    **{f"{p}_enabled": d[f"{p}_enabled"] == "1" for p in PARTS},
                    **{f"{p}_start": d[f"{p}_start"] for p in PARTS},
                    **{f"{p}_end": d[f"{p}_end"] for p in PARTS},
                    "max_rounds_per_window": int(d["max_rounds_per_window"]),
                    "pause_min": int(d["pause_min"]),
                    "pause_max": int(d["pause_max"]),
                }
                for d in self.days
            ]
        except ValueError:
            self.error = self.tr["conversations.numbers_only"]
            return None
        actor = self._actor()
        if actor is None:
            return rx.redirect("/login")
        try:
            conversations.set_schedule(actor, self._id_from_url(), payload)
        except ServiceError as exc:
            self.error = self._error(exc)
            return None
        self.load()
        return rx.toast.success(self.tr["conversations.schedule_saved"])


def _cell(index: rx.Var, day: dict, part: str) -> rx.Component:
    enabled = day[f"{part}_enabled"] == "1"
    return rx.table.cell(
        rx.vstack(
            rx.checkbox(checked=enabled, on_change=lambda _v: ScheduleState.toggle(index, part)),
            rx.cond(
                enabled,
                rx.hstack(
                    rx.input(
                        type="time",
                        value=day[f"{part}_start"],
                        size="1",
                        width="92px",
                        on_change=lambda v: ScheduleState.set_cell(index, f"{part}_start", v),
                    ),
                    rx.input(
                        type="time",
                        value=day[f"{part}_end"],
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


def _row(day: dict, index: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(day["label"], weight="medium")),
        *[_cell(index, day, p) for p in PARTS],
        rx.table.cell(
            rx.input(
                type="number",
                value=day["max_rounds_per_window"],
                size="1",
                width="64px",
                on_change=lambda v: ScheduleState.set_cell(index, "max_rounds_per_window", v),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.input(
                    type="number",
                    value=day["pause_min"],
                    size="1",
                    width="64px",
                    on_change=lambda v: ScheduleState.set_cell(index, "pause_min", v),
                ),
                rx.text("–"),
                rx.input(
                    type="number",
                    value=day["pause_max"],
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
