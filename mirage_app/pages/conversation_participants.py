"""Route `/conversations/[id]/participants`."""

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout


@app_page("/conversations/[id]/participants", "Participants")
def conversation_participants_page() -> rx.Component:
    return page_layout("page.conversation_participants.title", None, empty_state("users"))
