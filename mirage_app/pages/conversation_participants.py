"""Route `/conversations/[id]/participants`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/conversations/[id]/participants", title="Participants · Mirage")
def conversation_participants_page() -> rx.Component:
    return page_layout("page.conversation_participants.title", None, empty_state("users"))
