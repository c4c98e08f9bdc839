"""Route `/conversations/[id]/topics`."""

import reflex as rx

from mirage_app.components.layout import empty_state, page_layout


@rx.page(route="/conversations/[id]/topics", title="Topics · Mirage")
def conversation_topics_page() -> rx.Component:
    return page_layout("page.conversation_topics.title", None, empty_state("lightbulb"))
