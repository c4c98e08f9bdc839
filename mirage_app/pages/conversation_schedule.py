"""Route `/conversations/[id]/schedule`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/conversations/[id]/schedule", title="Conversation schedule · Mirage")
def conversation_schedule_page() -> rx.Component:
    return page_layout("page.conversation_schedule.title", None, empty_state("calendar-clock"))
