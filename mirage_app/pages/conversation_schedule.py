"""Route `/conversations/[id]/schedule`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/conversations/[id]/schedule", "Conversation schedule")
def conversation_schedule_page() -> rx.Component:
    return page_layout("page.conversation_schedule.title", None, empty_state("calendar-clock"))
